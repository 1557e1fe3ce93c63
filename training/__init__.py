"""tracemix training: fine-tune or pretrain dense and MoE models on mixtures (TRL + accelerate).

`training.run_training(config, data=None, output=None, max_steps=None, seed=None, overrides=None)`
returns the checkpoint manifest. It is imported lazily so `import training` stays light.
"""

from __future__ import annotations

from typing import Any

__all__ = ["run_training"]


def __getattr__(name: str) -> Any:
    if name == "run_training":
        from training.run import run_training

        return run_training
    raise AttributeError(f"module 'training' has no attribute {name!r}")
