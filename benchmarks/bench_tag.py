"""Tagging throughput and memory, in one run and ONE datatrove task, against datatrove baselines.

    python benchmarks/bench_tag.py [--mb 100] [--corpora demo,real] [--workdir DIR] [--modes copy,heuristic,...]

For each corpus, builds >= MB of JSONL (documents replicated with fresh ids): `demo`, the generator's short
documents (about 450 bytes: the fixed cost per document dominates), and `real`, the real sample of
`real_sample.py` (a few kB each, as web documents are). Then times, each in a fresh child process (so peak
RSS is the pipeline's own):
  copy         datatrove JsonlReader -> ParquetWriter (the I/O floor)
  heuristic    `tracemix tag` with the default classifier (domain + scaffold score)
  heuristic_python  the same with TRACEMIX_PURE_PYTHON=1: the Python references of its compiled scans
  fasttext     `tracemix tag --classifier fasttext:MODEL` (model trained here on demo labels)
  dt_fasttext  datatrove JsonlReader -> FastTextClassifierFilter (keep-all) -> ParquetWriter, same model
and peak RSS of the fastText tagging at MB/4 and MB (flat memory = streaming). Goals: heuristic >= 0.5x copy;
fasttext tagging no slower than datatrove's fastText filter alone. `--profile` adds the per-feature cost of
the heuristic classifier. Results: benchmarks/results/bench_tag.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results" / "bench_tag.json"
MODES = ("copy", "heuristic", "heuristic_python", "fasttext", "dt_fasttext")


def _real_documents() -> list[tuple[str, str, str]]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from real_corpora import DEFAULT_CACHE, fetch
    from real_sample import build_real_sample

    rows = build_real_sample(per_class=400, seed=0, cache=fetch(DEFAULT_CACHE))
    return [(r["id"], r["text"], r["label"]) for r in rows]


def build_corpus(path: Path, mb: float, seed: int = 0, n_unique: int = 4000, base: list | None = None) -> dict:
    """Demo documents (or the given `(id, text, label)` ones), replicated with varied ids until the file
    holds `mb` megabytes."""
    from tqdm import tqdm

    from curation.demo.data import iter_documents

    if base is None:
        base = [(d["id"], d["text"], d["label"]) for d in iter_documents(n_unique, seed)]
    else:
        base = base[seed % len(base):] + base[:seed % len(base)]
    target, written, n = int(mb * 1e6), 0, 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with (
        open(path, "wb") as f,
        tqdm(total=target, unit="B", unit_scale=True, desc=f"corpus {path.name}") as bar,
    ):
        while written < target:
            doc_id, text, label = base[n % len(base)]
            line = (
                json.dumps(
                    {"id": f"{doc_id}-r{n // len(base)}", "text": text, "source": "bench", "label": label}
                ).encode()
                + b"\n"
            )
            f.write(line)
            written += len(line)
            n += 1
            bar.update(len(line))
    return {"path": str(path), "bytes": written, "documents": n}


def train_model(path: Path) -> str:
    from curation.classifiers.fasttext_tagger import train_fasttext
    from curation.demo.data import iter_documents

    records = [{"id": d["id"], "text": d["text"], "label": d["label"]} for d in iter_documents(3000, seed=11)]
    metrics = train_fasttext(records, path, epoch=10, dim=32)
    print(f"fastText model on demo labels: held-out macro-F1 {metrics['macro_f1']:.3f}")
    return str(path)


def _measure(mode: str, input_file: str, output: str, model: str | None, warm_up: bool = True) -> dict:
    """Runs in the child: wall and CPU seconds of the pipeline only (imports and start-up excluded).

    Every mode first runs once over the input's first 200 documents, so one-time costs (imports such as
    pandas, datatrove's dependency checks, loading a model) fall outside the timing for all of them alike.
    CPU seconds are the ones to compare on a shared machine: other people's load stretches wall time.
    """
    if warm_up:
        sample = Path(output + "_warmup") / "input" / Path(input_file).name
        sample.parent.mkdir(parents=True, exist_ok=True)
        with open(input_file, "rb") as src, open(sample, "wb") as dst:
            dst.writelines(itertools.islice(src, 200))
        _measure(mode, str(sample), str(sample.parent.parent / "output"), model, warm_up=False)
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import ParquetWriter

    folder, name = str(Path(input_file).parent), Path(input_file).name
    logs = str(Path(output) / "logs")
    if mode in ("copy", "dt_fasttext"):
        steps = [JsonlReader(folder, glob_pattern=name)]
        schema = None
        if mode == "dt_fasttext":
            import pyarrow as pa
            from datatrove.pipeline.filters import FastTextClassifierFilter

            # remove_labels=[] is keep-all mode: every document is annotated, none dropped
            steps.append(FastTextClassifierFilter(model, remove_labels=[], save_labels_in_metadata=True))
            # labels arrive in score order; a fixed schema keeps the Parquet struct stable across batches
            labels = [
                (f"__label__{d}", pa.float64()) for d in ("pure_code", "code_text", "math_text", "general")
            ]
            schema = pa.schema(
                [
                    ("text", pa.string()),
                    ("id", pa.string()),
                    (
                        "metadata",
                        pa.struct(
                            [
                                ("source", pa.string()),
                                ("label", pa.string()),
                                ("file_path", pa.string()),
                                *labels,
                            ]
                        ),
                    ),
                ]
            )
        steps.append(ParquetWriter(output, schema=schema))
        start, cpu = time.perf_counter(), time.process_time()
        LocalPipelineExecutor(steps, tasks=1, workers=1, logging_dir=logs).run()
        return {"seconds": time.perf_counter() - start, "cpu_seconds": time.process_time() - cpu}
    from curation.tagging.tag import run_tag

    classifier = f"fasttext:{model}" if mode == "fasttext" else "heuristic"
    start, cpu = time.perf_counter(), time.process_time()
    run_tag(input_file, output, classifier, tasks=1, workers=1, progress=False, quiet=True)
    return {"seconds": time.perf_counter() - start, "cpu_seconds": time.process_time() - cpu}


def run_child(mode: str, input_file: str, output: str, model: str | None) -> dict:
    cmd = [sys.executable, __file__, "--_child", mode, "--_input", input_file, "--_output", output]
    if model:
        cmd += ["--_model", model]
    env = os.environ | {"LOGURU_LEVEL": "WARNING", "DATATROVE_LOG_LEVEL": "WARNING",
                        "TRACEMIX_PURE_PYTHON": "1" if mode == "heuristic_python" else "0"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    out = proc.stdout.read().decode()
    if status != 0:
        raise SystemExit(f"{mode} failed (status {status}): {out[-2000:]}")
    return json.loads(out.strip().splitlines()[-1]) | {"peak_rss_mb": usage.ru_maxrss / 1024}


def profile_heuristic(n_docs: int = 1000) -> dict:
    """Seconds per MB spent in each function of the heuristic classifier and the scaffold score (cProfile,
    cumulative), plus each module-level regex run alone over whole documents (an upper bound per feature)."""
    import cProfile
    import pstats
    import re

    import curation.classifiers.heuristic as h
    import curation.classifiers.scaffold as sc
    from curation.demo.data import iter_documents

    docs = [d["text"] for d in iter_documents(n_docs, seed=5)]
    mb = sum(len(t.encode()) for t in docs) / 1e6
    clf = h.HeuristicClassifier()
    profiler = cProfile.Profile()
    profiler.enable()
    for text in docs:
        clf.predict(text)
        sc.scaffold_score(text)
    profiler.disable()
    functions = {}
    for (file, _line, func), (_cc, _nc, _tt, cumtime, _callers) in pstats.Stats(profiler).stats.items():
        if file in (h.__file__, sc.__file__):
            functions[f"{Path(file).stem}.{func}"] = cumtime / mb
    patterns = {}
    for module in (h, sc):
        for name in sorted(dir(module)):
            pattern = getattr(module, name)
            if isinstance(pattern, re.Pattern):
                start = time.perf_counter()
                for text in docs:
                    pattern.findall(text)
                patterns[f"{module.__name__.split('.')[-1]}.{name}"] = (time.perf_counter() - start) / mb
    top = lambda d: dict(sorted(d.items(), key=lambda kv: -kv[1])[:15])  # noqa: E731
    return {"functions_cumulative": top(functions), "regex_alone": top(patterns)}


def bench_corpus(kind: str, mb_target: float, work: Path, modes: list[str], model: str | None) -> dict:
    """Every mode over one corpus, in fresh child processes; ratios against the copy, memory growth, goals."""
    big_path, small_path = work / "corpus_full" / "corpus.jsonl", work / "corpus_quarter" / "corpus.jsonl"
    if kind == "real":  # built in a child: the sample's memory must not count in the children forked later
        out = subprocess.run([sys.executable, __file__, "--_build_real", str(work), "--mb", str(mb_target)],
                             check=True, capture_output=True, text=True, cwd=ROOT).stdout
        big, small = json.loads(out.strip().splitlines()[-1])
    else:
        big = build_corpus(big_path, mb_target)
        small = build_corpus(small_path, mb_target / 4, seed=1)
    mb = big["bytes"] / 1e6
    runs: dict[str, dict] = {}
    for mode in modes:
        r = run_child(mode, big["path"], str(work / f"out_{mode}"), model)
        r |= {"mb_per_s": mb / r["seconds"], "mb_per_cpu_s": mb / r["cpu_seconds"]}
        runs[mode] = r
        print(
            f"{kind:5s} {mode:12s} wall {r['seconds']:7.1f} s {r['mb_per_s']:7.2f} MB/s | "
            f"CPU {r['cpu_seconds']:7.1f} s {r['mb_per_cpu_s']:7.2f} MB/s | peak RSS {r['peak_rss_mb']:5.0f} MB",
            flush=True,
        )
    memory_mode = "fasttext" if "fasttext" in runs else modes[-1]
    quarter = run_child(memory_mode, small["path"], str(work / "out_quarter"), model)
    ratios, wall_ratios = {}, {}  # throughput ratios on CPU time (primary) and on wall time
    for key, out in (("mb_per_cpu_s", ratios), ("mb_per_s", wall_ratios)):
        if "copy" in runs:
            out |= {f"{m}_vs_copy": runs[m][key] / runs["copy"][key] for m in runs if m != "copy"}
        if {"fasttext", "dt_fasttext"} <= set(runs):
            out["fasttext_tag_vs_dt_fasttext_filter"] = runs["fasttext"][key] / runs["dt_fasttext"][key]
    memory = {
        "mode": memory_mode,
        "input_mb": [small["bytes"] / 1e6, mb],
        "peak_rss_mb": [quarter["peak_rss_mb"], runs[memory_mode]["peak_rss_mb"]],
    }
    memory["growth"] = memory["peak_rss_mb"][1] / memory["peak_rss_mb"][0]
    goals = {}
    if "heuristic_vs_copy" in ratios:
        goals["heuristic >= 0.5x copy"] = ratios["heuristic_vs_copy"] >= 0.5
    if {"heuristic", "heuristic_python"} <= set(runs):  # the compiled scans against their references
        for key, out in (("mb_per_cpu_s", ratios), ("mb_per_s", wall_ratios)):
            out["heuristic_vs_heuristic_python"] = runs["heuristic"][key] / runs["heuristic_python"][key]
    if "fasttext_tag_vs_dt_fasttext_filter" in ratios:
        goals["fasttext tag >= datatrove fastText filter"] = ratios["fasttext_tag_vs_dt_fasttext_filter"] >= 1.0
    goals["flat memory (peak RSS grows < 1.5x for 4x input)"] = memory["growth"] < 1.5
    return {"input": {"mb": mb, "documents": big["documents"], "tasks": 1}, "runs": runs, "ratios": ratios,
            "wall_ratios": wall_ratios, "memory": memory, "goals": goals}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench_tag.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--mb", type=float, default=100.0, help="input size in MB (default 100)")
    p.add_argument("--workdir", help="where corpora and outputs go (default: a temporary folder)")
    p.add_argument("--corpora", default="demo,real", help="comma-separated subset of demo, real (default both)")
    p.add_argument("--modes", default=",".join(MODES), help=f"comma-separated subset of {MODES}")
    p.add_argument("--profile", action="store_true", help="add the per-feature cost of the heuristic")
    p.add_argument("--output", default=str(RESULTS))
    for hidden in ("--_child", "--_input", "--_output", "--_model", "--_build_real"):
        p.add_argument(hidden, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args._child:
        print(json.dumps(_measure(args._child, args._input, args._output, args._model)))
        return 0
    if args._build_real:
        base, work = _real_documents(), Path(args._build_real)
        print(json.dumps([build_corpus(work / "corpus_full" / "corpus.jsonl", args.mb, base=base),
                          build_corpus(work / "corpus_quarter" / "corpus.jsonl", args.mb / 4, seed=1, base=base)]))
        return 0

    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = sorted(set(modes) - set(MODES))
    if unknown:
        p.error(f"unknown modes {unknown}; choose from {MODES}")
    tmp = tempfile.TemporaryDirectory(prefix="bench_tag_") if not args.workdir else None
    work = Path(args.workdir or tmp.name)
    model = train_model(work / "demo_fasttext.bin") if {"fasttext", "dt_fasttext"} & set(modes) else None
    corpora = [c.strip() for c in args.corpora.split(",") if c.strip()]
    if set(corpora) - {"demo", "real"}:
        p.error(f"unknown corpora {corpora}; choose from demo, real")
    by_corpus = {kind: bench_corpus(kind, args.mb, work / kind, modes, model) for kind in corpora}
    first = by_corpus[corpora[0]]
    result = {
        **first,  # the first corpus at the top level, as before; every corpus under by_corpus
        "corpus": corpora[0],
        "by_corpus": by_corpus,
        "goals": {f"{kind}: {goal}": ok for kind, r in by_corpus.items() for goal, ok in r["goals"].items()},
        "cpu_count": os.cpu_count(),
        "load_avg_at_end": os.getloadavg(),
    }
    if args.profile:
        result["heuristic_profile_s_per_mb"] = profile_heuristic()
    ratios, wall_ratios, memory, goals = (first[k] for k in ("ratios", "wall_ratios", "memory", "goals"))
    print("\nratios (CPU time):", json.dumps(ratios, indent=2))
    print("ratios (wall time):", json.dumps(wall_ratios, indent=2))
    print("memory:", json.dumps(memory))
    print("goals:", json.dumps(result["goals"], indent=2))
    if args.profile:
        print("heuristic cost (s/MB):", json.dumps(result["heuristic_profile_s_per_mb"], indent=2))
    from tracemix.atomic import write_json
    from tracemix.provenance import provenance

    write_json(args.output, result | provenance({"mb": args.mb, "modes": modes, "corpora": corpora}))
    print(f"wrote {args.output}")
    if tmp:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
