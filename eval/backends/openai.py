"""Any OpenAI-compatible endpoint (OpenAI, vLLM serve, TGI, llama.cpp, SGLang), through `tracemix.openai_client`.

Requests run `concurrency` at a time with bounded, Retry-After-aware retries; secrets never reach an
output. Caches cannot lie: `cache_dir` is the run's own response cache (`tracemix eval` puts it in the
run folder, so it serves only the resume of that run); `shared_cache_dir` is an opt-in cache shared
across runs and needs `model_revision`. Both are keyed by the model's identity as the server reports it
(`GET /models`) plus the revision, so a checkpoint served under an old name never gets old answers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tracemix.openai_client import EndpointError, OpenAIClient

__all__ = ["EndpointError", "OpenAIBackend", "run_cache_dir"]


def run_cache_dir(run_dir: str | Path) -> Path:
    """Where a run folder keeps its response cache."""
    return Path(run_dir) / ".cache" / "openai"


class OpenAIBackend:
    name = "openai"

    def __init__(self, model: str, base_url: str | None = None, api_key_env: str = "OPENAI_API_KEY",
                 concurrency: int = 8, max_retries: int = 4, backoff: float = 0.5, timeout: float = 60.0,
                 chat: bool = True, temperature: float = 0.0, cache_dir: str | Path | None = None,
                 shared_cache_dir: str | Path | None = None, model_revision: str | None = None,
                 batch_size: int | None = None, seed: int = 0, progress: bool = True,
                 system_prompt: str | None = None) -> None:
        import os

        base_url = base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        self.client = OpenAIClient(base_url, model, api_key_env=api_key_env, concurrency=concurrency,
                                   max_retries=max_retries, backoff=backoff, timeout=timeout, cache_dir=cache_dir,
                                   shared_cache_dir=shared_cache_dir, model_revision=model_revision)
        self.model, self.base_url, self.concurrency = model, self.client.endpoint, concurrency
        self.chat, self.temperature, self.seed, self.progress = chat, temperature, seed, progress
        self.system_prompt = system_prompt

    @property
    def cache_hits(self) -> int:
        return self.client.stats.cache_hits

    @property
    def generated_tokens(self) -> int:
        return self.client.stats.completion_tokens

    def complete(self, prompt: str, max_new_tokens: int) -> str:
        if not self.chat:
            return self.client.complete(prompt, max_tokens=max_new_tokens, temperature=self.temperature).text
        system = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
        messages = [*system, {"role": "user", "content": prompt}]
        return self.client.chat(messages, max_tokens=max_new_tokens, temperature=self.temperature).text

    def generate(self, prompts: list[str], max_new_tokens: int) -> list[str]:
        return self.client.map(lambda p: self.complete(p, max_new_tokens), prompts, progress=self.progress)

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, **self.client.describe(), "chat": self.chat, "concurrency": self.concurrency,
                "temperature": self.temperature, "decoding": "greedy"}
