"""Atomic writes: a file appears complete or not at all, so an interrupted run never leaves half a file."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to `path`; on success it is renamed over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if tmp_path.exists():  # mkstemp creates 0600; give the file the mode a plain open() would
            os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: str | os.PathLike, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path: str | os.PathLike, obj: Any, indent: int = 2) -> Path:
    return write_text(path, json.dumps(obj, indent=indent, sort_keys=False, default=str) + "\n")


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    ok = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0
    return ok


def replace_dir(new: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Put the complete folder `new` at `target`, replacing what is there, so that a kill at any point
    leaves either the old or the new folder complete (never a mix of both).

    Both must be on one filesystem (keep `new` next to `target`). Where the kernel swaps two folders in one
    step the old one is never out of place; elsewhere the old folder is renamed aside to `.NAME.old-PID`
    for the instant between two renames and `restore_dir` puts it back after a crash.
    """
    import shutil

    new, target = Path(new), Path(target)
    restore_dir(target)
    if not target.exists():
        os.rename(new, target)
        return target
    if _exchange(new, target):
        shutil.rmtree(new)  # now holds the old folder
        return target
    aside = target.parent / f".{target.name}.old-{os.getpid()}"
    os.rename(target, aside)
    os.rename(new, target)
    shutil.rmtree(aside)
    return target


def restore_dir(target: str | os.PathLike) -> None:
    """After a crash between the two renames of `replace_dir`, put the old folder back at `target`; when
    `target` exists, the set-aside copies are leftovers and go."""
    import shutil

    target = Path(target)
    if not target.parent.is_dir():
        return
    for aside in sorted(target.parent.glob(f".{target.name}.old-*")):
        if target.exists():
            shutil.rmtree(aside, ignore_errors=True)
        else:
            os.rename(aside, target)
