"""`tracemix lineage DIR`: where an artifact came from, back to the raw data.

    tracemix lineage runs/eval/tiny_moe          # eval -> checkpoint -> mixture -> tagged -> raw
    tracemix lineage runs/probe/tiny_moe --json  # the same tree as JSON

Every artifact's manifest links its parents by `{kind, path, manifest_hash}` (`tracemix.artifacts`), so the
chain is walked through the manifests alone. Each artifact is verified against its files; a parent whose
manifest changed since its child was made is flagged `changed`, a parent that is gone `missing`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from tracemix.artifacts import manifest_hash, read_manifest
from tracemix.errors import DataError, TracemixError


def _get(manifest: dict[str, Any], dotted: str) -> Any:
    value: Any = manifest
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


# The key config shown for each kind: label -> dotted key in its manifest.
KEY_CONFIG: dict[str, dict[str, str]] = {
    "tagged": {"classifier": "classifier", "tokenizer": "tokenizer", "documents": "documents"},
    "mixture": {"recipe": "name", "recipe_hash": "config_hash", "seed": "seed", "documents": "output.documents"},
    "checkpoint": {"name": "name", "steps": "global_step", "final_loss": "final_loss", "seed": "seed"},
    "eval": {"tasks": "tasks", "accuracy": "overall.accuracy"},
    "perplexity": {"bpb": "bpb", "mean_loss": "mean_loss"},
    "probe": {"family": "family", "tokens_per_domain": "config.max_tokens_per_domain"},
    "sweep": {"name": "name", "variants": "n_variants"},
}


def _key_config(manifest: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for label, key in KEY_CONFIG.get(manifest["kind"], {}).items():
        value = _get(manifest, key)
        if value is not None:
            out[label] = value[:12] if key == "config_hash" else value
    return out


def lineage(folder: str | Path, *, checksums: bool = False) -> dict[str, Any]:
    """The tree of `folder`'s artifact and its ancestors: {kind, path, manifest_hash, created, config_hash,
    key, status, parents: [...]}. `status` is `ok`, `external` (raw data, a hub model), `missing`, `changed`
    (its manifest differs from the one its child recorded) or `invalid: WHY`. Refuses an incomplete `folder`."""
    manifest = read_manifest(folder, checksums=checksums)
    return _node(Path(folder), manifest, "ok", checksums, set())


def _node(folder: Path, manifest: dict[str, Any], status: str, checksums: bool, seen: set) -> dict[str, Any]:
    digest = manifest_hash(folder)
    node = {"kind": manifest["kind"], "path": str(folder.resolve()), "manifest_hash": digest,
            "created": manifest.get("created"), "config_hash": manifest.get("config_hash"),
            "key": _key_config(manifest), "status": status, "parents": []}
    if digest in seen:  # a folder rewritten in place can name its own earlier version
        return node
    seen = seen | {digest}
    for ref in manifest.get("parents", []):
        node["parents"].append(_parent(ref, checksums, seen))
    return node


def _parent(ref: dict[str, Any], checksums: bool, seen: set) -> dict[str, Any]:
    info = {k: v for k, v in ref.items() if k not in ("kind", "path", "manifest_hash")}
    leaf = {"kind": ref["kind"], "path": ref["path"], "manifest_hash": ref["manifest_hash"], "created": None,
            "config_hash": None, "key": info, "parents": []}
    if ref["manifest_hash"] is None:
        return {**leaf, "status": "external"}
    folder = Path(ref["path"])
    if not folder.exists():
        return {**leaf, "status": "missing"}
    try:
        manifest = read_manifest(folder, ref["kind"], checksums=checksums)
    except DataError as err:
        return {**leaf, "status": f"invalid: {err}"}
    status = "ok" if manifest_hash(folder) == ref["manifest_hash"] else "changed"
    return _node(folder, manifest, status, checksums, seen)


def render(tree: dict[str, Any]) -> str:
    """One line per artifact, children indented under the artifact made from them."""
    lines: list[str] = []

    def walk(node: dict[str, Any], prefix: str, last: bool, top: bool) -> None:
        digest = (node["manifest_hash"] or "-")[:8]
        key = " ".join(f"{k}={_short(v)}" for k, v in node["key"].items())
        flag = "" if node["status"] == "ok" else f"  [{node['status']}]"
        head = "" if top else prefix + ("└─ " if last else "├─ ")
        created = node["created"] or ""
        lines.append(f"{head}{node['kind']:<10} {node['path']}  {digest}  {created}  {key}{flag}".rstrip())
        child_prefix = "" if top else prefix + ("   " if last else "│  ")
        for i, parent in enumerate(node["parents"]):
            walk(parent, child_prefix, i == len(node["parents"]) - 1, False)

    walk(tree, "", True, True)
    return "\n".join(lines)


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return ",".join(map(str, value[:4])) + (",..." if len(value) > 4 else "")
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}:{_short(v)}" for k, v in value.items()) + "}"
    text = str(value)
    return text[:12] if len(text) == 64 and all(c in "0123456789abcdef" for c in text) else text  # a sha256


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="tracemix lineage", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", help="any artifact folder: tagged data, mixture, checkpoint, eval, probe, sweep")
    parser.add_argument("--json", action="store_true", help="print the tree as JSON")
    parser.add_argument("--checksums", action="store_true",
                        help="also re-hash every file that has a recorded sha256 (slower; sizes are always checked)")
    args = parser.parse_args(argv)
    if not Path(args.folder).exists():
        raise TracemixError(f"{args.folder}: no such folder; pass an artifact folder written by tracemix")
    tree = lineage(args.folder, checksums=args.checksums)
    print(json.dumps(tree, indent=2) if args.json else render(tree))
    return 0
