import json

from tracemix import atomic, provenance


def test_config_hash_ignores_key_order():
    assert provenance.config_hash({"a": 1, "b": [1, 2]}) == provenance.config_hash({"b": [1, 2], "a": 1})
    assert provenance.config_hash({"a": 1}) != provenance.config_hash({"a": 2})


def test_provenance_block_records_versions_and_hash():
    block = provenance.provenance({"seed": 1}, parents={"mixture": "abc"})
    assert block["config_hash"] == provenance.config_hash({"seed": 1})
    assert block["parents"] == {"mixture": "abc"}
    assert "torch" in block["versions"] and "python" in block["versions"]


def test_atomic_write_leaves_no_partial_file(tmp_path):
    target = tmp_path / "out.json"
    atomic.write_json(target, {"x": 1})
    assert json.loads(target.read_text()) == {"x": 1}
    try:
        with atomic.atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash mid-write")
    except RuntimeError:
        pass
    assert json.loads(target.read_text()) == {"x": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
