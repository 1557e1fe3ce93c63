#!/usr/bin/env bash
# GPU benchmarks: training throughput and MFU of the ~100M MoE, and router-probe overhead on a GPU.
#   bash benchmarks/gpu.sh [RESULTS_DIR]        (default: benchmarks/results)
# Needs a CUDA GPU and the project's dependencies importable by `python3` (or PYTHON=...). Writes
# bench_train_cuda.json and bench_probe_cuda.json beside the CPU results.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
OUTDIR=${1:-benchmarks/results}
mkdir -p "$OUTDIR"
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
# Router hooks + streaming counts vs a plain forward, on a model big enough to keep the GPU busy.
$PY benchmarks/bench_probe.py --device cuda --hidden 1024 --batches 8 --batch-size 16 --seq-len 1024 \
    --repeats 3 --output "$OUTDIR/bench_probe_cuda.json"
# `tracemix train` vs a plain transformers Trainer on the structured-signals MoE (16 experts, top-2), bf16;
# two alternating repeats, so CUDA warm-up does not land on one side.
$PY benchmarks/bench_train.py --device cuda --config recipes/train/moe_100m_16e_top2_pretrain.yaml \
    --steps ${STEPS:-60} --batch-size 32 --seq-len 1024 --docs 6000 --repeats 2 \
    --output "$OUTDIR/bench_train_cuda.json"
