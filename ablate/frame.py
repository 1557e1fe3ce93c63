"""One comparison frame per sweep: a held-out set carved before mixing and one tokenizer for every run.

Without it a sweep manufactures effects: each variant held out "whatever it did not train on" (a different
test set per variant) and trained its own tokenizer (a different unit of loss per variant). The frame fixes
both before any variant runs:

- **held-out set**: a document is held out when the hash of its id, `stable_hash(0, "heldout\\0" + id)`
  scaled to [0, 1), falls below its domain's fraction (default `HELDOUT_FRACTION`). The split depends only
  on the ids, not on any variant or seed; every variant's mixture excludes it (recipe key `exclude`), and
  every held-out metric is measured on it. Written to `heldout.parquet` (`id`, `domain`, `text`).
- **tokenizer**: the one the training config names, or, when the config trains one (`tokenizer: {train:
  ...}`), one trained once on the held-in source documents (the sources minus the held-out set) into the
  frame's folder; every training run of the sweep is given that folder.

Both live in the sweep's `frame` stage (`OUTPUT/cache/frame/KEY/`), cached like any other stage.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tracemix.errors import DataError
from tracemix.provenance import config_hash, file_hash

HELDOUT_FRACTION = 0.1  # of each domain's documents; enough documents to score, few taken from the mixtures
_SALT = "heldout\x00"
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json",
                    "merges.txt", "tokenizer.model")


def heldout_score(doc_id: str) -> float:
    """Position of a document in [0, 1) for the held-out split: a stable hash of its id alone."""
    from curation.mixing.table import stable_hash

    return stable_hash(0, _SALT + doc_id) / 2**64


def _fractions(fraction: float | dict[str, float]) -> dict[str, float]:
    from tracemix.domains import DOMAINS

    if isinstance(fraction, int | float):
        return dict.fromkeys(DOMAINS, float(fraction))
    return {d: float(fraction.get(d, HELDOUT_FRACTION)) for d in DOMAINS}


def _source_files(sources: list[str]) -> list[Path]:
    files = [f for s in sources for f in sorted(Path(s).expanduser().glob("*.parquet"))]
    if not files:
        raise DataError(f"no Parquet shards in {sources}; tag the sources first with `tracemix tag`")
    return files


def _scan(file: Path, keep_sources: list[str] | None):
    import polars as pl

    lf = pl.scan_parquet(file)
    if keep_sources is not None:
        lf = lf.filter(pl.col("source").is_in(keep_sources))
    return lf.with_columns(pl.col("id").cast(pl.String), pl.col("domain").cast(pl.String))


def carve_heldout(sources: list[str], out: Path, fraction: float | dict[str, float] = HELDOUT_FRACTION,
                  keep_sources: list[str] | None = None) -> dict[str, Any]:
    """Write `out` (Parquet: id, domain, text) with the held-out documents of `sources`; return its record.

    `keep_sources` is the recipe's `filter.source` (only those documents can be mixed, so only they are split).
    One shard at a time, and only held-out rows keep their text, so memory follows the held-out set.
    Idempotent: the same sources and fractions always give the same file and hash."""
    import polars as pl

    from tracemix.atomic import atomic_path

    fractions = _fractions(fraction)
    parts = []
    for f in _source_files(sources):
        meta = _scan(f, keep_sources).select("id", "domain").collect()
        limit = meta["domain"].replace_strict(fractions, default=0.0, return_dtype=pl.Float64).to_list()
        held = [i for i, lim in zip(meta["id"].to_list(), limit, strict=True) if heldout_score(i) < lim]
        if held:
            parts.append(_scan(f, keep_sources).filter(pl.col("id").is_in(held)).select("id", "domain", "text")
                         .collect())
    held = pl.concat(parts).sort("domain", "id") if parts else None
    if held is None or held.is_empty():
        raise DataError(f"the held-out fraction {fraction} selects no document of {sources}; raise it")
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        held.write_parquet(tmp)
    by_domain = dict(sorted(held.group_by("domain").len().iter_rows()))
    return {"heldout_hash": file_hash(out), "heldout_documents": held.height, "heldout_by_domain": by_domain,
            "heldout_fraction": {d: fractions[d] for d in by_domain}}


def _held_in_texts(sources: list[str], keep_sources: list[str] | None, held: set[str]):
    """Texts of the source documents outside the held-out set, one shard in memory at a time."""
    for f in _source_files(sources):
        frame = _scan(f, keep_sources).select("id", "text").collect()
        yield from (t for i, t in zip(frame["id"].to_list(), frame["text"].to_list(), strict=True)
                    if i not in held and t)


def tokenizer_hash(path: str | Path) -> str:
    """Identity of a tokenizer: the hashes of its files for a local folder, else the name it is loaded by."""
    folder = Path(path).expanduser()
    if folder.is_dir():
        return config_hash({name: file_hash(folder / name) for name in _TOKENIZER_FILES if (folder / name).is_file()})
    return config_hash({"name": str(path)})


def tokenizer_folder(spec: str | dict[str, Any], out: Path) -> str:
    """Where the sweep's tokenizer lives, known before it exists: `out/tokenizer` when trained, else `spec`."""
    return str(out / "tokenizer") if isinstance(spec, dict) else str(spec)


def frame_tokenizer(spec: str | dict[str, Any], sources: list[str], keep_sources: list[str] | None,
                    heldout: Path, out: Path) -> str:
    """The tokenizer every run of the sweep uses: `spec` when it names one (a path or hub id), or, for the
    training config's `{train: {vocab_size, min_frequency}}`, one trained once on the held-in source
    documents into `out/tokenizer` (reused when it is already there)."""
    folder = tokenizer_folder(spec, out)
    if not isinstance(spec, dict) or (Path(folder) / "tokenizer.json").is_file():
        return folder
    import shutil

    import polars as pl

    from training.tokenizer import train_tokenizer

    settings = spec["train"]
    held = set(pl.read_parquet(heldout, columns=["id"])["id"].to_list())
    texts = _held_in_texts(sources, keep_sources, held)
    partial = out / ".tokenizer.partial"  # renamed when complete: a crash leaves no half folder
    shutil.rmtree(partial, ignore_errors=True)
    train_tokenizer(texts, settings["vocab_size"], partial, settings["min_frequency"])
    partial.rename(folder)
    return folder


def build_frame(sources: list[str], keep_sources: list[str] | None, fraction: float | dict[str, float],
                tokenizer: str | dict[str, Any], out: Path) -> dict[str, Any]:
    """The frame stage: `out/heldout.parquet` and the sweep's tokenizer; returns what summary.json records."""
    heldout = out / "heldout.parquet"
    record = carve_heldout(sources, heldout, fraction, keep_sources)
    tok = frame_tokenizer(tokenizer, sources, keep_sources, heldout, out)
    return {"path": str(out), "heldout": str(heldout), **record, "tokenizer": tok, "tokenizer_hash": tokenizer_hash(tok)}
