"""Building a mixture vs a plain datatrove copy of the same selected documents, in one run.

    .venv/bin/python benchmarks/bench_mix.py [--docs 60000] [--repeats 2]

1. Speed: `build_mixture` (plan from the metadata table, select, scatter/gather, shuffled shards, manifest)
   against a datatrove `ParquetReader -> filter(selected ids) -> ParquetWriter` copy of exactly the documents
   the mixture selected. Token counts are present (as after `tracemix tag --tokenizer`). Goal: <= 1.5x.
2. Memory: peak RSS of a mixture build (own process) at two text sizes with the same number of documents,
   and at two document counts with the same text size, above the memory of the imports.
   Goal: grows with documents, not with text size.
   The writer holds one output shard at a time, so shards are capped at `output.shard_bytes` (--shard-mb).
Writes benchmarks/results/bench_mix.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DOMAINS = ("pure_code", "code_text", "math_text", "general")
VOCAB = np.array(["the", "of", "a", "to", "in", "is", "step", "proof", "def", "return", "x", "y", "=", "+", "-", "*", "(", ")", ":", "sum", "let", "we", "hence", "so", "i", "for"])


def make_corpus(folder: Path, docs: int, words: int, seed: int = 0, files: int = 4) -> Path:
    """Tagged shards with the contract columns; row groups of 1000 as datatrove's ParquetWriter writes."""
    from tracemix.artifacts import write_manifest

    rng = np.random.default_rng(seed)
    lengths = rng.integers(words // 2, words * 3 // 2, size=docs)
    flat = VOCAB[rng.integers(0, len(VOCAB), size=int(lengths.sum()))]
    bounds = np.r_[0, np.cumsum(lengths)]
    texts = [" ".join(flat[bounds[i]:bounds[i + 1]]) for i in range(docs)]
    domains = np.array(DOMAINS)[rng.integers(0, 4, size=docs)]
    scores = rng.random(docs)
    folder.mkdir(parents=True, exist_ok=True)
    per = -(-docs // files)
    for f in range(files):
        sl = slice(f * per, min(docs, (f + 1) * per))
        t = texts[sl]
        table = pa.table({
            "id": [f"doc-{i}" for i in range(sl.start, sl.stop)], "text": t, "source": ["bench"] * len(t),
            "domain": domains[sl], "scaffold_score": scores[sl],
            "n_bytes": [len(x.encode()) for x in t], "n_tokens": lengths[sl].astype(np.int64),
            "tagger": ["bench-v1"] * len(t),
        })
        pq.write_table(table, folder / f"{f:05d}.parquet", row_group_size=1000)
    write_manifest(folder, "tagged", {"docs": docs, "files": files}, extra={"tokenizer": "bench-words"})
    return folder


def recipe(source: Path, total_tokens: int, shard_bytes: int) -> dict:
    return {"name": "bench", "sources": [str(source)], "tokenizer": "bench-words",
            "budget": {"unit": "tokens", "total": total_tokens},
            "mixture": {"general": 0.4, "pure_code": 0.2, "code_text": 0.1, "math_text": 0.3},
            "density": {"math_text": {"threshold": 0.5, "share": 0.5}}, "seed": 1,
            "output": {"shard_bytes": shard_bytes}}


def build(recipe_data: dict, out: Path) -> dict:
    from curation.mixing import build_mixture

    return build_mixture(recipe_data, out)


def plain_copy(source: Path, ids: set[str], out: Path) -> None:
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.filters import LambdaFilter
    from datatrove.pipeline.readers import ParquetReader
    from datatrove.pipeline.writers import ParquetWriter

    from curation.mixing.write import flat_row

    LocalPipelineExecutor([ParquetReader(str(source), glob_pattern="*.parquet"), LambdaFilter(lambda doc: doc.id in ids),
                           ParquetWriter(str(out), adapter=flat_row)],
                          tasks=1, workers=1, logging_dir=str(out / "logs")).run()


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _child(recipe_json: str, out: str) -> None:
    """Build once; sample the resident set every 10 ms (peak above the RSS after imports)."""
    import resource
    import threading

    import curation.mixing.build  # noqa: F401 - imports are not part of the build's memory

    quiet()
    before, peak, done = _rss_mb(), [0.0], threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _rss_mb())
            time.sleep(0.01)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    build(json.loads(recipe_json), Path(out))
    done.set()
    thread.join()
    print(json.dumps({"after_imports_mb": before, "peak_mb": max(peak[0], _rss_mb()),
                      "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def peak_rss_mb(recipe_data: dict, out: Path) -> dict[str, float]:
    """Peak resident memory of a mixture build in its own process (KiB from getrusage on Linux)."""
    code = ("import sys; sys.path.insert(0, sys.argv[3]); from benchmarks.bench_mix import _child; "
            "_child(sys.argv[1], sys.argv[2])")
    res = subprocess.run([sys.executable, "-c", code, json.dumps(recipe_data), str(out), str(ROOT)],
                         capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def quiet() -> None:
    from datatrove.utils.logging import logger

    logger.remove()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--docs", type=int, default=60000, help="documents in the corpus (default 60000)")
    p.add_argument("--words", type=int, default=150, help="mean words per document (default 150)")
    p.add_argument("--repeats", type=int, default=2, help="timed repetitions; the best is kept (default 2)")
    p.add_argument("--shard-mb", type=int, default=4, help="output.shard_bytes in MB for the memory runs")
    p.add_argument("--output", default=str(ROOT / "benchmarks" / "results" / "bench_mix.json"))
    args = p.parse_args(argv)
    quiet()
    # import both code paths before timing either
    import datatrove.pipeline.readers  # noqa: F401
    import datatrove.pipeline.writers  # noqa: F401

    import curation.mixing.build  # noqa: F401

    tmp = Path(tempfile.mkdtemp(prefix="bench_mix_"))
    try:
        src = make_corpus(tmp / "corpus", args.docs, args.words)
        total = int(pq.read_table(sorted(src.glob("*.parquet")), columns=["n_tokens"])["n_tokens"].to_numpy().sum())
        data = recipe(src, total // 2, 16 * 2**20)
        mix_t, copy_t = [], []
        for r in range(args.repeats):
            out = tmp / f"mix{r}"
            t0 = time.perf_counter()
            manifest = build(data, out)
            mix_t.append(time.perf_counter() - t0)
            ids = set(pq.read_table(sorted(out.glob("*.parquet")), columns=["id"])["id"].to_pylist())
            t0 = time.perf_counter()
            plain_copy(src, ids, tmp / f"copy{r}")
            copy_t.append(time.perf_counter() - t0)
            shutil.rmtree(out), shutil.rmtree(tmp / f"copy{r}")
        speed = {"documents_selected": manifest["budget"]["documents"], "tokens": manifest["budget"]["achieved"],
                 "corpus_documents": args.docs, "mix_s": round(min(mix_t), 3), "copy_s": round(min(copy_t), 3),
                 "ratio": round(min(mix_t) / min(copy_t), 3), "goal": 1.5}
        print(f"speed: mix {speed['mix_s']:.2f}s vs datatrove copy {speed['copy_s']:.2f}s of the same "
              f"{speed['documents_selected']:,} documents -> ratio {speed['ratio']:.2f} (goal <= 1.5)")

        memory = {}
        for label, docs, words in (("base", args.docs, args.words), ("text_x4", args.docs, args.words * 4),
                                   ("docs_x2", args.docs * 2, args.words)):
            folder = make_corpus(tmp / f"mem_{label}", docs, words, seed=1)
            tokens = int(pq.read_table(sorted(folder.glob("*.parquet")), columns=["n_tokens"])["n_tokens"]
                         .to_numpy().sum())
            text_mb = pq.read_table(sorted(folder.glob("*.parquet")), columns=["n_bytes"])["n_bytes"]
            rss = peak_rss_mb(recipe(folder, tokens // 2, args.shard_mb * 2**20), tmp / f"memout_{label}")
            memory[label] = {"documents": docs, "mean_words": words,
                             "text_mb": round(text_mb.to_numpy().sum() / 2**20, 1),
                             "peak_rss_mb": round(rss["peak_mb"], 1),
                             "build_rss_mb": round(rss["peak_mb"] - rss["after_imports_mb"], 1)}
            shutil.rmtree(folder)
        base = memory["base"]["build_rss_mb"]
        growth = {"text_x4": round(memory["text_x4"]["build_rss_mb"] / base, 3),
                  "docs_x2": round(memory["docs_x2"]["build_rss_mb"] / base, 3)}
        for label, m in memory.items():
            print(f"memory {label:<8} {m['documents']:>7,} docs x {m['mean_words']:>4} words "
                  f"({m['text_mb']:>6.1f} MB text): peak RSS {m['peak_rss_mb']:.0f} MB, "
                  f"{m['build_rss_mb']:.0f} MB above the imports")
        print(f"build memory ratio: text x4 -> {growth['text_x4']:.2f}x, documents x2 -> {growth['docs_x2']:.2f}x")
        result = {"speed": speed, "memory": memory, "memory_growth": growth,
                  "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}}
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        from tracemix.atomic import write_json

        write_json(args.output, result)
        print(f"wrote {args.output}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
