import polars as pl

from ablate.frame import build_frame, carve_heldout, heldout_score, tokenizer_hash
from tests.curation.mixing.conftest import make_tagged


def test_heldout_split_is_a_hash_of_the_id_with_a_fraction_per_domain(tmp_path):
    src = make_tagged(tmp_path / "tagged", 200)
    record = carve_heldout([str(src)], tmp_path / "frame" / "heldout.parquet", {"general": 0.5, "math_text": 0.2,
                                                                                 "pure_code": 0.0, "code_text": 0.1})
    held = pl.read_parquet(tmp_path / "frame" / "heldout.parquet")
    assert held.columns == ["id", "domain", "text"]
    assert all(heldout_score(i) < {"general": 0.5, "math_text": 0.2, "code_text": 0.1}[d]
               for i, d in held.select("id", "domain").iter_rows())
    assert "pure_code" not in record["heldout_by_domain"]
    assert 70 <= record["heldout_by_domain"]["general"] <= 130 and 20 <= record["heldout_by_domain"]["math_text"] <= 60
    again = carve_heldout([str(src)], tmp_path / "other.parquet", {"general": 0.5, "math_text": 0.2,
                                                                   "pure_code": 0.0, "code_text": 0.1})
    assert again["heldout_hash"] == record["heldout_hash"]  # depends on the ids only


def test_a_trained_tokenizer_is_trained_once_on_held_in_documents(tmp_path):
    src = make_tagged(tmp_path / "tagged", 30)
    first = build_frame([str(src)], None, 0.2, {"train": {"vocab_size": 300, "min_frequency": 1}}, tmp_path / "f")
    assert first["tokenizer"] == str(tmp_path / "f" / "tokenizer") and first["heldout_documents"] > 0
    mtime = (tmp_path / "f" / "tokenizer" / "tokenizer.json").stat().st_mtime_ns
    again = build_frame([str(src)], None, 0.2, {"train": {"vocab_size": 300, "min_frequency": 1}}, tmp_path / "f")
    assert again == first and (tmp_path / "f" / "tokenizer" / "tokenizer.json").stat().st_mtime_ns == mtime
    assert first["tokenizer_hash"] == tokenizer_hash(first["tokenizer"]) != tokenizer_hash("gpt2")
    named = build_frame([str(src)], None, 0.2, str(tmp_path / "tok"), tmp_path / "g")
    assert named["tokenizer"] == str(tmp_path / "tok") and not (tmp_path / "g" / "tokenizer").exists()
