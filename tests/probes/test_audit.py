import json
import random

import pyarrow.parquet as pq
import pytest

from probes.audit import audit
from tests.probes.conftest import planted_mixtral, write_tagged
from tracemix.errors import DataError

MISTAGGED = [f"code-{i}" for i in range(4)] + [f"math-{i}" for i in range(4)]


def _doc(rng, own: str, other: str, share: float, n: int = 12) -> str:
    """n segments, about `share` of them the document's own kind (letters or digits), no spaces."""
    return "".join(own if rng.random() < share else other for _ in range(n))


@pytest.fixture
def audit_data(tmp_path, tiny_tokenizer):
    """88 documents: 44 letter-heavy ones tagged pure_code, 44 digit-heavy tagged math_text, each mixed with
    5-35% of the other kind; the first 4 of each are tagged with the other domain (8 mis-tagged)."""
    rng = random.Random(0)
    letters, digits = "abcabc", "1234567"
    rows = []
    for i in range(44):
        rows.append(dict(id=f"code-{i}", text=_doc(rng, letters, digits, rng.uniform(0.65, 0.95)),
                         domain="math_text" if i < 4 else "pure_code"))
        rows.append(dict(id=f"math-{i}", text=_doc(rng, digits, letters, rng.uniform(0.65, 0.95)),
                         domain="pure_code" if i < 4 else "math_text"))
    folder = write_tagged(tmp_path / "tagged", rows)
    ids = lambda s: sorted(set(tiny_tokenizer(s * 3)["input_ids"]) - set(tiny_tokenizer("")["input_ids"]))  # noqa: E731
    return folder, ids(letters), ids(digits)


def test_planted_mistagged_documents_rank_on_top(audit_data, tiny_tokenizer, tmp_path):
    folder, ids_code, ids_math = audit_data
    out = tmp_path / "audit"
    summary = audit(planted_mixtral(ids_code, ids_math), folder, out, tokenizer=tiny_tokenizer, batch_size=16,
                    seq_len=32, export=True, export_top=8, progress=False)
    table = pq.read_table(out / "audit.parquet").to_pylist()
    top8 = {r["id"] for r in table[:8]}
    assert len(top8 & set(MISTAGGED)) >= 7
    assert summary["n_documents"] == 88
    first = table[0]
    assert first["suspicion"] > 0 and first["routed_domain"] != first["domain"]
    assert len(first["layer_margin"]) == 2 and len(first["layer_routed"]) == 2
    # the confusion counts the tags against where the routing points
    assert summary["confusion"]["pure_code"]["math_text"] >= 3 and summary["confusion"]["math_text"]["pure_code"] >= 3
    report = (out / "report.md").read_text()
    assert "## Tag × routed domain" in report and "![suspicion by tag" in report and (out / "audit.png").stat().st_size
    exported = pq.read_table(out / "exclude" / "suspicious_ids.parquet").column("id").to_pylist()
    assert exported == [r["id"] for r in table[:8]]
    from types import SimpleNamespace

    from curation.mixing.table import excluded_ids  # what a recipe's `exclude:` reads
    recipe = SimpleNamespace(exclude=[str(out / "exclude")], file="recipe.yaml")
    assert sorted(excluded_ids(recipe)) == sorted(exported)
    relabel = [json.loads(line) for line in (out / "relabel.jsonl").read_text().splitlines()]
    assert [r["id"] for r in relabel] == exported and all(r["text"] for r in relabel)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "probe" and manifest["config"]["alpha"] == 0.5


def test_the_document_is_left_out_of_its_own_domain_profile(tmp_path, tiny_tokenizer):
    """A lone letters document tagged math among digit documents: without leave-one-out its own
    histogram would dominate math's profile and hide it."""
    rows = [dict(id="odd", text="abcabc" * 8, domain="math_text")]
    rows += [dict(id=f"m{i}", text="1234567" * 4, domain="math_text") for i in range(2)]
    rows += [dict(id=f"c{i}", text="abcabc" * 4, domain="pure_code") for i in range(3)]
    folder = write_tagged(tmp_path / "t", rows)
    ids = lambda s: sorted(set(tiny_tokenizer(s)["input_ids"]))  # noqa: E731
    audit(planted_mixtral(ids("abcabc" * 3), ids("1234567" * 3)), folder, tmp_path / "a", tokenizer=tiny_tokenizer,
          progress=False)
    table = pq.read_table(tmp_path / "a" / "audit.parquet").to_pylist()
    assert table[0]["id"] == "odd" and table[0]["routed_domain"] == "pure_code"
    assert all(r["suspicion"] < 0 for r in table[1:])


def test_one_domain_cannot_be_audited(tmp_path, tiny_tokenizer):
    folder = write_tagged(tmp_path / "t", [dict(id=f"c{i}", text="abcabc", domain="pure_code") for i in range(3)])
    with pytest.raises(DataError, match="every document is tagged 'pure_code'; give data with two or more"):
        audit(planted_mixtral([5], [6]), folder, tmp_path / "a", tokenizer=tiny_tokenizer, progress=False)


def test_log_likelihoods_by_hand_and_independent_of_chunking():
    import numpy as np

    from probes.audit import DocumentRouting, log_likelihoods, score_documents

    hist = np.array([[[3, 1]], [[1, 3]], [[2, 2]]], dtype=np.int32)  # 3 documents, 1 layer, 2 experts, k=1
    routing = DocumentRouting(["a", "b", "c"], np.array([0, 0, 1]), hist, ["pure_code", "math_text", "general"],
                              [0], 1)
    ll = log_likelihoods(routing, alpha=0.5)
    # document a, tag pure_code: its tag's profile is document b alone, (1 + .5, 3 + .5) / 5
    assert ll[0, 0, 0] == pytest.approx(3 * np.log(0.3) + np.log(0.7))
    assert ll[0, 1, 0] == pytest.approx(4 * np.log(0.5))  # math_text: document c, (2.5, 2.5) / 5
    assert ll[0, 2, 0] == -np.inf  # no general documents: nothing is routed there
    assert np.array_equal(ll, log_likelihoods(routing, alpha=0.5, chunk=1))
    scores = score_documents(routing)
    assert scores["suspicion"][0] == pytest.approx((4 * np.log(0.5) - 3 * np.log(0.3) - np.log(0.7)) / 4)
    # c fits pure_code exactly as well as its own (uniform) profile: a tie keeps the tag
    assert scores["routed"].tolist() == [1, 1, 1] and scores["suspicion"][2] == pytest.approx(0.0, abs=1e-12)
    assert scores["n_tokens"].tolist() == [4, 4, 4]
