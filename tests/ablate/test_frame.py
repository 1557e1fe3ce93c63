import polars as pl

from ablate.frame import carve_heldout, frame_tokenizer, heldout_score, tokenizer_hash
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
    heldout = tmp_path / "frame" / "heldout.parquet"
    carve_heldout([str(src)], heldout, 0.2)
    cfg = {"tokenizer": {"train": {"vocab_size": 300, "min_frequency": 1}}, "model": {}}
    first = frame_tokenizer(cfg, [str(src)], None, heldout, tmp_path / "frame")
    mtime = (tmp_path / "frame" / first.split("/")[-1] / "tokenizer.json").stat().st_mtime_ns
    assert frame_tokenizer(cfg, [str(src)], None, heldout, tmp_path / "frame") == first
    assert (tmp_path / "frame" / first.split("/")[-1] / "tokenizer.json").stat().st_mtime_ns == mtime
    assert tokenizer_hash(first) != tokenizer_hash("gpt2")
    named = {"tokenizer": str(tmp_path / "tok"), "model": {}}
    assert frame_tokenizer(named, [str(src)], None, heldout, tmp_path / "frame") == str(tmp_path / "tok")
