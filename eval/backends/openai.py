"""Any OpenAI-compatible endpoint (OpenAI, vLLM serve, TGI, llama.cpp, SGLang).

Requests run in a thread pool bounded by `concurrency`; transient failures (connection errors,
timeouts, 429, 5xx) are retried with exponential backoff and jitter; completions are cached on disk
keyed by endpoint, model, prompt and decoding settings, so an interrupted run resumes for free.
The API key is read from the environment (`api_key_env`) and never written anywhere.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tracemix.atomic import write_json
from tracemix.errors import TracemixError

DEFAULT_CACHE = Path(os.environ.get("TRACEMIX_CACHE", Path.home() / ".cache" / "tracemix")) / "openai"


class EndpointError(TracemixError):
    """The endpoint could not be reached or kept failing after all retries."""


class OpenAIBackend:
    name = "openai"

    def __init__(self, model: str, base_url: str | None = None, api_key_env: str = "OPENAI_API_KEY",
                 concurrency: int = 8, max_retries: int = 4, backoff: float = 0.5, timeout: float = 60.0,
                 chat: bool = True, temperature: float = 0.0, cache_dir: str | Path | None = DEFAULT_CACHE,
                 batch_size: int | None = None, seed: int = 0, progress: bool = True,
                 system_prompt: str | None = None) -> None:
        import openai

        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        self.model, self.concurrency, self.max_retries, self.backoff = model, concurrency, max_retries, backoff
        self.chat, self.temperature, self.seed, self.progress = chat, temperature, seed, progress
        self.system_prompt = system_prompt
        self.cache_dir = Path(cache_dir) if cache_dir else None
        # local servers accept any key; the real one only ever lives in the environment
        self._client = openai.OpenAI(base_url=self.base_url, api_key=os.environ.get(api_key_env) or "EMPTY",
                                     max_retries=0, timeout=timeout)
        self._openai = openai
        self.generated_tokens = 0
        self.cache_hits = 0

    def _request(self, prompt: str, max_new_tokens: int) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "max_tokens": max_new_tokens, "temperature": self.temperature}
        if self.chat:
            messages = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
            body["messages"] = [*messages, {"role": "user", "content": prompt}]
        else:
            body["prompt"] = prompt
        return body

    def _cache_path(self, body: dict[str, Any]) -> Path | None:
        if self.cache_dir is None:
            return None
        key = hashlib.sha256(json.dumps({"url": self.base_url, **body}, sort_keys=True).encode()).hexdigest()
        return self.cache_dir / key[:2] / f"{key}.json"

    def _call(self, body: dict[str, Any]) -> tuple[str, int]:
        err = self._openai
        transient = (err.APIConnectionError, err.APITimeoutError, err.RateLimitError, err.InternalServerError)
        for attempt in range(self.max_retries + 1):
            try:
                if self.chat:
                    resp = self._client.chat.completions.create(**body)
                    text = resp.choices[0].message.content or ""
                else:
                    resp = self._client.completions.create(**body)
                    text = resp.choices[0].text or ""
                tokens = resp.usage.completion_tokens if resp.usage else 0
                return text, tokens
            except transient as exc:
                if attempt == self.max_retries:
                    raise EndpointError(f"OpenAI-compatible endpoint {self.base_url} failed after "
                                        f"{self.max_retries + 1} attempts: {type(exc).__name__}: {exc}. Is the "
                                        "server running and --base-url right (it usually ends in /v1)?") from None
                time.sleep(self.backoff * 2**attempt * (1 + random.random()))
            except err.APIStatusError as exc:  # 4xx other than 429: retrying will not help
                raise EndpointError(f"{self.base_url} rejected the request for model '{self.model}': "
                                    f"HTTP {exc.status_code}: {exc.message}") from None
        raise AssertionError("unreachable")

    def complete(self, prompt: str, max_new_tokens: int) -> str:
        body = self._request(prompt, max_new_tokens)
        path = self._cache_path(body)
        if path is not None and path.is_file():
            self.cache_hits += 1
            return json.loads(path.read_text(encoding="utf-8"))["text"]
        text, tokens = self._call(body)
        self.generated_tokens += tokens
        if path is not None:
            write_json(path, {"text": text, "completion_tokens": tokens})
        return text

    def generate(self, prompts: list[str], max_new_tokens: int) -> list[str]:
        from tqdm.auto import tqdm

        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            futures = [pool.submit(self.complete, p, max_new_tokens) for p in prompts]
            try:
                return [f.result() for f in tqdm(futures, desc=f"requests {self.model}", leave=False,
                                                 disable=not self.progress)]
            except BaseException:
                for f in futures:
                    f.cancel()
                raise

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "model": self.model, "base_url": self.base_url, "chat": self.chat,
                "concurrency": self.concurrency, "temperature": self.temperature, "decoding": "greedy"}
