"""Generation backends: `hf` (transformers), `vllm` (offline engine), `openai` (any compatible endpoint).

Each backend takes a list of prompts and returns one greedy completion per prompt, in order.
Modules are imported only when their backend is asked for.
"""

from __future__ import annotations

import difflib
import importlib
from typing import Any, Protocol

from tracemix.errors import RecipeError

BACKENDS: dict[str, str] = {
    "hf": "eval.backends.hf:HFBackend",
    "vllm": "eval.backends.vllm:VLLMBackend",
    "openai": "eval.backends.openai:OpenAIBackend",
}


class Backend(Protocol):
    name: str
    model: str

    def generate(self, prompts: list[str], max_new_tokens: int) -> list[str]: ...

    def describe(self) -> dict[str, Any]: ...


def get_backend(name: str, model: str, **kwargs: Any) -> Backend:
    if name not in BACKENDS:
        close = difflib.get_close_matches(name, BACKENDS, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise RecipeError(f"unknown backend '{name}'.{hint} Use one of {', '.join(BACKENDS)}")
    module, cls = BACKENDS[name].split(":")
    return getattr(importlib.import_module(module), cls)(model, **kwargs)
