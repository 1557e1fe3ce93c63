"""tracemix eval: zero-shot reasoning evaluation (symbolic, logical, arithmetic, math, code, knowledge).

    from eval import run_eval
    results = run_eval("runs/ckpt", "symbolic", backend="hf", output="runs/eval", limit=50)
"""

from eval.rescore import rescore
from eval.runner import run_eval

__all__ = ["rescore", "run_eval"]
