"""Where an artifact came from: resolved config, its hash, versions, git commit, time.

Every tracemix artifact (tagged data, mixture, checkpoint, eval and probe runs, sweep) carries this block at
the top level of its manifest, written through `tracemix.artifacts.write_manifest`, which also lists the
files and links the parents. Reports that are not artifacts (benchmarks, comparisons) embed it directly.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

_PACKAGES = (
    "tracemix", "datatrove", "datasets", "polars", "pyarrow", "torch", "transformers",
    "tokenizers", "trl", "accelerate", "peft", "vllm",
)


def config_hash(obj: Any) -> str:
    """Stable sha256 of a JSON-serialisable config (key order does not matter)."""
    blob = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def file_hash(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in _PACKAGES:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            continue
    return out


def git_commit(cwd: str | Path | None = None) -> str | None:
    """Commit of the tracemix checkout (with a `-dirty` suffix for local changes), or None."""
    cwd = cwd or Path(__file__).resolve().parent
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True,
                             timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def provenance(config: Any = None, parents: dict[str, str] | None = None) -> dict[str, Any]:
    """The common manifest block: config and hash, parents (name -> hash), versions, commit, time."""
    block: dict[str, Any] = {}
    if config is not None:
        block["config"] = config
        block["config_hash"] = config_hash(config)
    if parents:
        block["parents"] = parents
    block["versions"] = versions()
    block["git_commit"] = git_commit()
    block["created"] = datetime.now(UTC).isoformat(timespec="seconds")
    return block
