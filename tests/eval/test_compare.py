import json

import pytest

from eval.compare import compare, render_table
from eval.report import summarize, write_run
from tracemix.errors import DataError

INFO = {"coin_flip": {"domain": "symbolic", "metric": "exact_match", "version": 1},
        "gsm8k": {"domain": "arithmetic", "metric": "exact_match", "version": 1}}


def fake_run(path, hits):
    samples = [{"task": t, "correct": i < h, "extracted": {"rules": "x"}, "correct_by": {"rules": i < h}}
               for t, h in hits.items() for i in range(4)]
    results = {"model": path.name, "backend": {"backend": "hf"}, "extractor": "rules",
               **summarize(samples, INFO, "rules"), "manifest": {}}
    write_run(path, results, samples)
    return path


def test_compare_writes_table_json_and_png(tmp_path):
    runs = [fake_run(tmp_path / f"code{p}", {"coin_flip": h, "gsm8k": 4 - h}) for p, h in ((0, 1), (50, 2), (100, 4))]
    table = compare(runs, tmp_path / "cmp")
    assert table["runs"] == ["code0", "code50", "code100"]
    assert table["domains"]["symbolic"] == [0.25, 0.5, 1.0]
    assert table["domains"]["arithmetic"] == [0.75, 0.5, 0.0]
    png = (tmp_path / "cmp" / "compare.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    saved = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    assert set(saved["manifest"]["parents"]) == {"code0", "code50", "code100"}
    assert "| symbolic | 25.0 | 50.0 | 100.0 |" in render_table(table)


def test_compare_rejects_a_folder_without_results(tmp_path):
    with pytest.raises(DataError, match="no results.json"):
        compare([tmp_path])
