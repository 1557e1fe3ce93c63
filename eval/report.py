"""Run folder: results.json (scores), samples.jsonl (one line per example), report.md, and manifest.json
(provenance, the checkpoint as parent, the file list; written last through `tracemix.artifacts`)."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from eval.metrics import accuracy, standard_error
from tracemix.artifacts import PARTIAL, begin, read_manifest, write_manifest
from tracemix.atomic import atomic_path, write_json, write_text
from tracemix.errors import DataError
from tracemix.provenance import provenance

DOMAIN_ORDER = ("symbolic", "logical", "arithmetic", "math", "code", "knowledge")


def summarize(samples: list[dict], task_info: dict[str, dict], extractor: str) -> dict[str, Any]:
    """Per-task accuracy, n and standard error; per-domain mean of task accuracies; overall mean."""
    by_task: dict[str, list[dict]] = defaultdict(list)
    for s in samples:
        by_task[s["task"]].append(s)
    tasks: dict[str, dict] = {}
    for name, info in task_info.items():
        rows = by_task.get(name, [])
        correct = [bool(s["correct"]) for s in rows]
        entry = {"domain": info["domain"], "metric": info["metric"], "version": info["version"],
                 "accuracy": accuracy(correct), "stderr": standard_error(correct), "n": len(rows),
                 "n_correct": sum(correct), "n_no_answer": sum(s["extracted"].get(extractor) is None for s in rows),
                 "n_prompt_truncated": sum(bool(s.get("prompt_truncated")) for s in rows)}
        for method in ("rules", "llm"):
            if rows and method in rows[0]["correct_by"]:
                entry[f"accuracy_{method}"] = accuracy([bool(s["correct_by"][method]) for s in rows])
        tasks[name] = entry
    domains: dict[str, dict] = {}
    for domain in sorted({t["domain"] for t in tasks.values()}, key=domain_sort_key):
        names = [n for n, t in tasks.items() if t["domain"] == domain]
        domains[domain] = {"accuracy": sum(tasks[n]["accuracy"] for n in names) / len(names), "tasks": names}
    all_correct = [bool(s["correct"]) for s in samples]
    overall = {"accuracy": sum(t["accuracy"] for t in tasks.values()) / len(tasks) if tasks else 0.0,
               "micro_accuracy": accuracy(all_correct), "stderr": standard_error(all_correct),
               "n": len(all_correct), "n_tasks": len(tasks)}
    return {"tasks": tasks, "domains": domains, "overall": overall}


def domain_sort_key(domain: str) -> tuple[int, str]:
    return (DOMAIN_ORDER.index(domain) if domain in DOMAIN_ORDER else len(DOMAIN_ORDER), domain)


def render_markdown(results: dict[str, Any], manifest: dict[str, Any] | None = None) -> str:
    """The run's Markdown report; `manifest` (or a provenance block) adds the commit, time and config hash."""
    lines = [f"# Evaluation: {results['model']}", "",
             f"Backend `{results['backend']['backend']}`, extractor `{results['extractor']}`, "
             f"zero-shot, greedy decoding. Overall (mean over tasks): "
             f"**{100 * results['overall']['accuracy']:.1f}%** on {results['overall']['n']} examples.", "",
             "| domain | task | v | n | accuracy | ± s.e. | no answer |", "|---|---|---|---|---|---|---|"]
    for name, t in results["tasks"].items():
        lines.append(f"| {t['domain']} | {name} | {t['version']} | {t['n']} | {100 * t['accuracy']:.1f}% | "
                     f"{100 * t['stderr']:.1f} | {t['n_no_answer']} |")
    lines += ["", "| domain | mean accuracy | tasks |", "|---|---|---|"]
    for domain, d in results["domains"].items():
        lines.append(f"| {domain} | {100 * d['accuracy']:.1f}% | {', '.join(d['tasks'])} |")
    cut = {n: t["n_prompt_truncated"] for n, t in results["tasks"].items() if t.get("n_prompt_truncated")}
    if cut:
        lines += ["", "Prompts cut from the left to fit the model's context "
                  f"({results['backend'].get('max_model_len')} tokens): "
                  + ", ".join(f"{n} {k}/{results['tasks'][n]['n']}" for n, k in cut.items()) + "."]
    both = [n for n, t in results["tasks"].items() if "accuracy_llm" in t]
    if both:
        lines += ["", "Rule-based vs LLM answer extraction:", "", "| task | rules | llm |", "|---|---|---|"]
        lines += [f"| {n} | {100 * results['tasks'][n]['accuracy_rules']:.1f}% | "
                  f"{100 * results['tasks'][n]['accuracy_llm']:.1f}% |" for n in both]
    manifest = manifest or results.get("manifest") or {}
    if manifest.get("config_hash"):
        lines += ["", f"git commit `{manifest.get('git_commit')}`, created {manifest.get('created')}, "
                  f"config hash `{manifest['config_hash'][:12]}`."]
    return "\n".join([*lines, ""])


def write_run(output: str | Path, results: dict[str, Any], samples: list[dict], *, config: Any = None,
              parents: list[dict[str, Any]] = (), extra: dict[str, Any] | None = None) -> Path:
    """Write the run folder; the manifest (config, parents, file list) goes last. A provenance block nested
    under `results["manifest"]` (older callers) is moved into the manifest, so results.json holds scores only."""
    out = Path(output)
    results = dict(results)
    nested = results.pop("manifest", None) or {}
    if config is None:
        config = nested.get("config")
    extra = {**{k: v for k, v in nested.items() if k not in ("config", "parents")}, **(extra or {})}
    begin(out, "eval")
    with atomic_path(out / "samples.jsonl") as tmp, open(tmp, "w", encoding="utf-8") as f:
        for s in samples:
            f.write(json.dumps(s, ensure_ascii=False) + "\n")
    write_json(out / "results.json", results)
    write_text(out / "report.md", render_markdown(results, provenance(config)))
    write_manifest(out, "eval", config, parents or nested.get("parents") or [],
                   extra={"model": results.get("model"), "tasks": list(results.get("tasks", {})),
                          "overall": results.get("overall"), **extra})
    return out


def load_run(run_dir: str | Path, with_samples: bool = True) -> tuple[dict[str, Any], list[dict]]:
    """results.json (and samples.jsonl) of a complete run folder, verified against its manifest."""
    run = Path(run_dir)
    if run.is_dir() and not (run / "results.json").is_file() and not (run / PARTIAL).is_file():
        raise DataError(f"{run}: no results.json; pass a folder written by `tracemix eval --output`")
    read_manifest(run, "eval")
    path = run / "results.json"
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DataError(f"{path}:{err.lineno}: not valid JSON ({err.msg})") from None
    samples: list[dict] = []
    if with_samples:
        spath = run / "samples.jsonl"
        for lineno, line in enumerate(spath.read_text(encoding="utf-8").splitlines(), 1):
            try:
                samples.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise DataError(f"{spath}:{lineno}: not valid JSON ({err.msg})") from None
    return results, samples


def load_result(run_dir: str | Path) -> dict[str, Any]:
    """The verified result of an eval run: results.json's content (per task accuracy, stderr, n; per domain;
    overall; task versions) plus `manifest` (the run's verified manifest.json) and `path`."""
    results, _ = load_run(run_dir, with_samples=False)
    return {**results, "manifest": read_manifest(run_dir, "eval"), "path": str(Path(run_dir))}
