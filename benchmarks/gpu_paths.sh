#!/usr/bin/env bash
# The GPU paths of the verbs that load a checkpoint, checked against the CPU on the same inputs:
# tracemix probe, probe audit, eval perplexity and eval (hf backend), each once with --device cpu and once
# with --device cuda; prints wall seconds and the largest difference in the numbers they report.
#   bash benchmarks/gpu_paths.sh CHECKPOINT TAGGED [OUT_DIR]
# CHECKPOINT: a `tracemix train` output (e.g. one of runs/demo/cache/train/*), TAGGED: a `tracemix tag` folder.
set -euo pipefail
cd "$(dirname "$0")/.."
CKPT=$1; DATA=$2; OUT=${3:-runs/gpu_paths}
PY=${PYTHON:-python3}
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1
TM="$PY -m tracemix"
for dev in cpu cuda; do
    TIMEFORMAT="probe $dev %R s"; time $TM probe --model "$CKPT" --data "$DATA" --device $dev \
        --max-tokens-per-domain 20000 --seq-len 128 --output "$OUT/probe_$dev" >/dev/null
    TIMEFORMAT="audit $dev %R s"; time $TM probe audit --model "$CKPT" --data "$DATA" --device $dev \
        --output "$OUT/audit_$dev" >/dev/null
    TIMEFORMAT="perplexity $dev %R s"; time $TM eval perplexity --model "$CKPT" --data "$DATA" --device $dev \
        --max-tokens-per-domain 20000 --seq-len 128 --output "$OUT/ppl_$dev" >/dev/null
    TIMEFORMAT="eval $dev %R s"; time $TM eval --model "$CKPT" --tasks symbolic --limit 32 --device $dev \
        --max-new-tokens 16 --output "$OUT/eval_$dev" >/dev/null
done
$PY - "$OUT" <<'PY'
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
def load(p): return json.loads(p.read_text())
def leaves(x, prefix=""):
    if isinstance(x, dict):
        for k, v in x.items(): yield from leaves(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(x, list):
        for i, v in enumerate(x): yield from leaves(v, f"{prefix}[{i}]")
    elif isinstance(x, (int, float)) and not isinstance(x, bool):
        yield prefix, float(x)
skip = ("manifest", "seconds", "created", "tokens_per_s", "config", "versions", "wall")
for name, rel in (("probe", "metrics.json"), ("perplexity", "perplexity.json"), ("eval", "results.json"),
                  ("audit", "audit.json")):
    a = dict(leaves(load(out / f"{name if name != 'perplexity' else 'ppl'}_cpu" / rel)))
    b = dict(leaves(load(out / f"{name if name != 'perplexity' else 'ppl'}_cuda" / rel)))
    keys = [k for k in a.keys() & b.keys() if not any(s in k for s in skip)]
    diff = max((abs(a[k] - b[k]), k) for k in keys) if keys else (0.0, "-")
    print(f"{name:<11} {len(keys):>5} numbers compared, largest |cpu - cuda| = {diff[0]:.3g} ({diff[1]})")
PY
