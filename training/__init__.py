"""tracemix training: fine-tune or pretrain dense and MoE models on mixtures (TRL + accelerate).

`training.run_training(config, data=None, output=None, max_steps=None, seed=None, overrides=None)`
returns the checkpoint manifest; `training.load_result(dir)` reads a finished run back, verified. Both are
imported lazily so `import training` stays light.
"""

from __future__ import annotations

from typing import Any

__all__ = ["load_result", "run_training"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from training import run

        return getattr(run, name)
    raise AttributeError(f"module 'training' has no attribute {name!r}")
