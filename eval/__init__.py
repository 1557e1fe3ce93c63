"""tracemix eval: zero-shot reasoning evaluation (symbolic, logical, arithmetic, math, code, knowledge).

    from eval import run_eval
    results = run_eval("runs/ckpt", "symbolic", backend="hf", output="runs/eval", limit=50)
"""

from eval.rescore import rescore
from eval.runner import run_eval

__all__ = ["load_result", "rescore", "run_eval"]


def __getattr__(name: str):
    if name == "load_result":  # lazily: the sweep report reads results without loading a backend
        from eval.report import load_result

        return load_result
    raise AttributeError(f"module 'eval' has no attribute {name!r}")
