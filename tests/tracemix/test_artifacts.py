import json

import pytest

from tracemix import artifacts as A
from tracemix.atomic import replace_dir, restore_dir
from tracemix.errors import DataError
from tracemix.provenance import config_hash, file_hash


def _artifact(folder, kind="mixture", **extra):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "00000.parquet").write_bytes(b"PAR1" * 10)
    (folder / "logs").mkdir(exist_ok=True)
    (folder / "logs" / "task.log").write_text("not part of it")
    (folder / ".tmp.parquet").write_bytes(b"hidden")
    return A.write_manifest(folder, kind, {"seed": 1}, [A.external_ref(folder / "raw")], extra=extra,
                            skip=("logs",))


def test_manifest_lists_files_last_with_provenance_at_the_top(tmp_path):
    m = _artifact(tmp_path / "a", name="demo")
    assert m["kind"] == "mixture" and m["name"] == "demo" and m["config_hash"] == config_hash({"seed": 1})
    assert {"versions", "git_commit", "created", "config"} <= set(m)
    assert m["files"] == {"00000.parquet": {"size": 40, "sha256": file_hash(tmp_path / "a" / "00000.parquet")}}
    assert m["parents"] == [{"kind": "raw", "path": str(tmp_path / "a" / "raw"), "manifest_hash": None}]
    assert A.read_manifest(tmp_path / "a", "mixture") == json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert A.parent_ref(tmp_path / "a")["manifest_hash"] == file_hash(tmp_path / "a" / "manifest.json")


def test_reader_refuses_what_does_not_match_and_says_how_to_recover(tmp_path):
    a = tmp_path / "a"
    _artifact(a)
    with pytest.raises(DataError, match=r"is a mixture artifact, expected checkpoint"):
        A.read_manifest(a, "checkpoint")
    (a / "00001.parquet").write_bytes(b"stale")
    with pytest.raises(DataError, match=r"00001.parquet is not listed .*rerun `tracemix mix`"):
        A.read_manifest(a, "mixture")
    (a / "00001.parquet").unlink()
    (a / "00000.parquet").write_bytes(b"short")
    with pytest.raises(DataError, match=r"00000.parquet has 5 bytes, the manifest says 40"):
        A.read_manifest(a)
    (a / "00000.parquet").unlink()
    with pytest.raises(DataError, match=r"00000.parquet is missing"):
        A.read_manifest(a)
    b = tmp_path / "b"
    _artifact(b)
    (b / "00000.parquet").write_bytes(b"PAR2" * 10)  # same size, other bytes
    assert A.read_manifest(b)["kind"] == "mixture"
    with pytest.raises(DataError, match="changed"):
        A.read_manifest(b, checksums=True)
    with pytest.raises(DataError, match=r"no manifest.json"):
        A.read_manifest(tmp_path)


def test_begin_marks_a_folder_incomplete_until_the_manifest_is_written(tmp_path):
    a = tmp_path / "a"
    _artifact(a, kind="tagged")
    A.begin(a, "tagged")  # a rerun starts: the old manifest goes
    assert not (a / "manifest.json").exists()
    with pytest.raises(DataError, match=r"incomplete: a tagged run .*rerun the same `tracemix tag`"):
        A.read_manifest(a, "tagged")
    with pytest.raises(DataError, match="incomplete"):
        A.read_input(a, "tagged", external=True)  # a tracemix folder is never taken for outside data
    plain = tmp_path / "plain"
    plain.mkdir()
    assert A.read_input(plain, "tagged", external=True) is None
    assert A.input_ref("org/hub-model", "checkpoint", "model") == {
        "kind": "model", "path": "org/hub-model", "manifest_hash": None}
    _artifact(a, kind="tagged")
    assert not (a / A.PARTIAL).exists() and A.read_manifest(a, "tagged")


def test_nested_artifacts_are_not_part_of_their_parent_folder(tmp_path):
    outer = tmp_path / "outer"
    _artifact(outer / "inner")
    m = _artifact(outer)
    assert list(m["files"]) == ["00000.parquet"]
    (outer / "inner" / "00009.parquet").write_bytes(b"x")
    assert A.read_manifest(outer)


def test_outputs_that_are_contain_or_lie_inside_an_input_are_refused(tmp_path):
    src = tmp_path / "data"
    for out, relation in ((src, "is the input"), (src / "out", "lies inside the input"),
                          (tmp_path, "contains the input")):
        with pytest.raises(DataError, match=relation):
            A.check_disjoint(out, [src])
    A.check_disjoint(tmp_path / "data2", [src])


def test_replace_dir_swaps_whole_folders_and_restores_after_a_crash(tmp_path):
    old, new = tmp_path / "m", tmp_path / ".m.new"
    old.mkdir()
    (old / "x").write_text("old")
    new.mkdir()
    (new / "x").write_text("new")
    replace_dir(new, old)
    assert (old / "x").read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["m"]
    # a crash between the two renames of the fallback: the old folder is aside, nothing at the target
    (old).rename(tmp_path / ".m.old-123")
    with pytest.raises(DataError, match="interrupted replace"):
        A.read_manifest(old)
    restore_dir(old)
    assert (old / "x").read_text() == "new"
