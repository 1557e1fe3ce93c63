"""The artifact contract: every artifact folder is written and read the same way.

Tagged data, mixtures, checkpoints, eval runs, probe runs and sweeps each live in a folder whose
`manifest.json` is written through `write_manifest` and read through `read_manifest`:

- The manifest is written LAST and atomically. It lists every file of the artifact with its size (and a
  sha256 for files up to `CHECKSUM_BYTES`), so a folder with a manifest that matches the disk is complete.
- A writer calls `begin(folder, kind)` first: it drops the hidden `.partial.json` marker (removed once the
  manifest is written) and removes a stale manifest, so a crashed run leaves nothing a reader accepts.
- Provenance sits at the top level for every kind: `config`, `config_hash`, `versions`, `git_commit`,
  `created`. Parents are linked by one key, `parents: [{kind, path, manifest_hash}]`, so the chain
  raw data -> tagged -> mixture -> checkpoint -> eval / probe -> sweep can be walked (`tracemix lineage`).
- `read_manifest(folder, kind=...)` refuses a folder whose manifest is missing, of another kind, or does not
  match its files (missing, resized, or unlisted data files), naming what is wrong and how to recover.

Hidden entries (names starting with `.`: temporary files, work folders, caches) and the top-level names a
writer declares in `skip` (logs, intermediate checkpoints) are not part of the artifact.
"""

from __future__ import annotations

import fnmatch
import json
import os
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tracemix.atomic import write_json
from tracemix.errors import DataError
from tracemix.provenance import file_hash, provenance

MANIFEST = "manifest.json"
PARTIAL = ".partial.json"
VERSION = 1
KINDS = ("tagged", "mixture", "checkpoint", "eval", "perplexity", "probe", "sweep")
CHECKSUM_BYTES = 16 << 20  # hash files up to 16 MiB when writing; larger shards are checked by size
# Unlisted files with these endings are stale data a reader could pick up by globbing: refused.
DATA_SUFFIXES = (".parquet", ".jsonl", ".jsonl.gz", ".arrow", ".safetensors", ".bin", ".npz", ".pt")
_PROVENANCE_KEYS = ("config", "config_hash", "versions", "git_commit", "created")

# How to recover a broken artifact of each kind (the reader's error says it).
RECOVER = {
    "tagged": "rerun the same `tracemix tag` command to resume it",
    "mixture": "rerun `tracemix mix` (add --overwrite to rebuild it)",
    "checkpoint": "rerun the same `tracemix train` command to resume it",
    "eval": "rerun the same `tracemix eval` command",
    "perplexity": "rerun the same `tracemix eval perplexity` command",
    "probe": "rerun the same `tracemix probe` command",
    "sweep": "rerun the same `tracemix ablate` command",
}


def _recover(kind: str | None) -> str:
    return RECOVER.get(kind or "", "rerun the command that wrote it")


def begin(folder: str | Path, kind: str) -> Path:
    """Mark `folder` as being written by a `kind` writer; a stale manifest goes, so readers refuse the folder
    until `write_manifest` completes it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / PARTIAL, {"kind": kind, "pid": os.getpid(),
                                  "started": datetime.now(UTC).isoformat(timespec="seconds")})
    (folder / MANIFEST).unlink(missing_ok=True)
    return folder


def _skipped(rel: str, skip: Sequence[str]) -> bool:
    parts = rel.split("/")
    return any(p.startswith(".") for p in parts) or any(fnmatch.fnmatch(parts[0], pat) for pat in skip)


def artifact_files(folder: str | Path, skip: Sequence[str] = ()) -> list[str]:
    """Relative paths (sorted, `/`-separated) of the files that make up the artifact in `folder`."""
    root = Path(folder)
    out = []
    for dirpath, dirnames, filenames in os.walk(root):  # linked folders are not followed (no loops)
        rel_dir = Path(dirpath).relative_to(root).as_posix()
        prefix = "" if rel_dir == "." else rel_dir + "/"
        # a nested folder with its own manifest is another artifact, not part of this one
        dirnames[:] = [d for d in dirnames if not _skipped(prefix + d, skip)
                       and not (Path(dirpath, d, MANIFEST).is_file() or Path(dirpath, d, PARTIAL).is_file())]
        out += [prefix + f for f in filenames if not _skipped(prefix + f, skip) and prefix + f != MANIFEST]
    return sorted(out)


def _describe(path: Path) -> dict[str, Any]:
    size = path.stat().st_size
    entry: dict[str, Any] = {"size": size}
    if size <= CHECKSUM_BYTES:
        entry["sha256"] = file_hash(path)
    return entry


def manifest_hash(folder: str | Path) -> str:
    """sha256 of the folder's manifest.json: the identity children record for their parent."""
    return file_hash(Path(folder) / MANIFEST)


def parent_ref(folder: str | Path, kind: str | Sequence[str] | None = None) -> dict[str, Any]:
    """`{kind, path, manifest_hash}` of a complete artifact (verified first)."""
    manifest = read_manifest(folder, kind)
    return {"kind": manifest["kind"], "path": str(Path(folder).resolve()), "manifest_hash": manifest_hash(folder)}


def external_ref(path: str | Path, kind: str = "raw", **info: Any) -> dict[str, Any]:
    """A parent that is not a tracemix artifact (raw input, a hub model, a classifier file)."""
    local = Path(str(path)).expanduser()
    shown = str(local.resolve()) if local.exists() else str(path)
    return {"kind": kind, "path": shown, "manifest_hash": None, **info}


def write_manifest(folder: str | Path, kind: str, config: Any, parents: Iterable[dict[str, Any]] = (), *,
                   extra: dict[str, Any] | None = None, skip: Sequence[str] = ()) -> dict[str, Any]:
    """List the artifact's files and write `folder/manifest.json` last, atomically; return the manifest.

    `config` is the resolved config (hashed into `config_hash`), `parents` come from `parent_ref` /
    `external_ref`, `extra` holds the kind's own fields, `skip` names top-level entries (glob patterns) that
    are not part of the artifact (logs, intermediate checkpoints).
    """
    folder = Path(folder)
    parents = [dict(p) for p in parents]
    for p in parents:
        missing = [k for k in ("kind", "path", "manifest_hash") if k not in p]
        if missing:
            raise ValueError(f"parent {p!r} lacks {missing}; build it with parent_ref() or external_ref()")
    reserved = (*_PROVENANCE_KEYS, "kind", "manifest_version", "parents", "skip", "files")
    extra = {k: v for k, v in (extra or {}).items() if k not in reserved}
    manifest = {"kind": kind, "manifest_version": VERSION, **extra, **provenance(config), "parents": parents,
                "skip": list(skip),
                "files": {rel: _describe(folder / rel) for rel in artifact_files(folder, skip)}}
    write_json(folder / MANIFEST, manifest)
    (folder / PARTIAL).unlink(missing_ok=True)
    return manifest


def _fail(folder: Path, what: str, kind: str | None) -> None:
    raise DataError(f"{folder}: {what}; {_recover(kind)}")


def read_manifest(folder: str | Path, kind: str | Sequence[str] | None = None, *,
                  checksums: bool = False) -> dict[str, Any]:
    """The manifest of a complete artifact, verified against the files on disk.

    Refuses (DataError naming what is wrong and how to recover) a folder that is missing, being written or
    left by a crashed run, has no or an unreadable manifest, is of another kind than `kind` (one kind or a
    list), or whose files are missing, resized or joined by unlisted data files. `checksums=True` also
    re-hashes every file that has a recorded sha256.
    """
    folder = Path(folder)
    kinds = (kind,) if isinstance(kind, str) else tuple(kind or ())
    want = kinds[0] if len(kinds) == 1 else None
    if not folder.is_dir():
        hint = " (an interrupted replace left it aside; rerun the command)" if _aside(folder) else ""
        _fail(folder, f"no such artifact folder{hint}", want)
    partial = folder / PARTIAL
    if partial.is_file():
        try:
            info = json.loads(partial.read_text())
        except (OSError, ValueError):
            info = {}
        writer = info.get("kind") or want
        _fail(folder, f"incomplete: a {writer or 'tracemix'} run started {info.get('started', '?')} is still "
              "writing it or died before finishing", writer)
    path = folder / MANIFEST
    if not path.is_file():
        _fail(folder, f"no {MANIFEST}, so it is not a complete tracemix "
              f"{' / '.join(kinds) or 'artifact'} (a run may have crashed before finishing)", want)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        _fail(folder, f"{MANIFEST} is unreadable ({err})", want)
    if not isinstance(manifest, dict) or "files" not in manifest or manifest.get("kind") not in KINDS:
        _fail(folder, f"{MANIFEST} was not written by this version of tracemix (no file list)", want)
    if kinds and manifest["kind"] not in kinds:
        raise DataError(f"{folder}: is a {manifest['kind']} artifact, expected {' or '.join(kinds)}; "
                        "pass the right folder")
    problems = verify_files(folder, manifest, checksums=checksums)
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        _fail(folder, f"files do not match {MANIFEST} ({shown})", manifest["kind"])
    return manifest


def verify_files(folder: str | Path, manifest: dict[str, Any], *, checksums: bool = False) -> list[str]:
    """What differs between the manifest's file list and the disk (empty when they match)."""
    folder = Path(folder)
    problems = []
    listed: dict[str, dict] = manifest["files"]
    for rel, entry in listed.items():
        path = folder / rel
        if not path.is_file():
            problems.append(f"{rel} is missing")
            continue
        size = path.stat().st_size
        if size != entry["size"]:
            problems.append(f"{rel} has {size} bytes, the manifest says {entry['size']}")
        elif checksums and entry.get("sha256") and file_hash(path) != entry["sha256"]:
            problems.append(f"{rel} changed (checksum differs)")
    for rel in artifact_files(folder, manifest.get("skip", ())):
        if rel not in listed and rel.endswith(DATA_SUFFIXES):
            problems.append(f"{rel} is not listed (stale data from another run?)")
    return problems


def read_input(folder: str | Path, kind: str | Sequence[str], *, external: bool = False) -> dict[str, Any] | None:
    """Read an input folder through the contract. With `external=True` a folder that is not a tracemix
    artifact at all (no manifest, no writer's marker: a model or data from elsewhere) gives None; a
    tracemix artifact that is incomplete or does not match is always refused."""
    folder = Path(folder)
    if external and folder.is_dir() and not (folder / MANIFEST).exists() and not (folder / PARTIAL).exists():
        return None
    return read_manifest(folder, kind)


def input_ref(path: str | Path, kind: str | Sequence[str], external_kind: str = "raw") -> dict[str, Any]:
    """The parent entry of an input that may come from elsewhere (a hub model, plain Parquet files): verified
    when it is a tracemix artifact, refused when that artifact is incomplete, external otherwise."""
    folder = Path(str(path)).expanduser()
    if folder.is_dir() and read_input(folder, kind, external=True) is not None:
        return parent_ref(folder, kind)
    return external_ref(path, external_kind)


def check_disjoint(output: str | Path, inputs: Iterable[str | Path], flag: str = "--output") -> None:
    """Refuse an output that is, contains or lies inside one of the inputs (writing would destroy it)."""
    out = Path(output).expanduser().resolve()
    for raw in inputs:
        src = Path(raw).expanduser().resolve()
        if out == src:
            relation = "is the input"
        elif out.is_relative_to(src):
            relation = "lies inside the input"
        elif src.is_relative_to(out):
            relation = "contains the input"
        else:
            continue
        raise DataError(f"{flag} {out} {relation} {src}; writing there would overwrite or mix with the input. "
                        f"Choose an {flag} folder outside it")


def crash_point(name: str) -> None:
    """Kill tests only: SIGKILL this process here when the environment variable TRACEMIX_CRASH_AT is `name`."""
    if os.environ.get("TRACEMIX_CRASH_AT") == name:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def _aside(folder: Path) -> bool:
    return folder.parent.is_dir() and any(folder.parent.glob(f".{folder.name}.old-*"))
