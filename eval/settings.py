"""Typed settings of the eval stages, shared by `tracemix eval`, the library and sweeps.

`EvalSettings` (zero-shot reasoning) and `PerplexitySettings` (held-out loss by domain) hold everything but
the model and the output folder. `check()` validates names and paths without loading a model, so a sweep
rejects `backend: hff` or an unknown task before it mixes or trains anything.
"""

from __future__ import annotations

import importlib.util
import os
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import Field

from eval.runner import DEFAULT_MAX_NEW_TOKENS, EXTRACTION_METHODS
from tracemix.config import ConfigModel
from tracemix.errors import RecipeError, TracemixError


class Backend(StrEnum):
    HF = "hf"  # transformers generate on this machine
    VLLM = "vllm"  # vLLM's offline engine (GPU; `pip install -e '.[vllm]'`)
    OPENAI = "openai"  # any OpenAI-compatible endpoint


# rules: the task's rule extractor; llm: a model reads each reply (scored by both, reported by this one)
Extractor = StrEnum("Extractor", {m.upper(): m for m in EXTRACTION_METHODS})


class ChatTemplate(StrEnum):
    AUTO = "auto"  # when the tokenizer has one
    ON = "on"
    OFF = "off"


class EvalSettings(ConfigModel):
    """How `tracemix eval` generates, extracts and scores (see `tracemix eval --help`)."""

    tasks: str | list[str]  # names, suites, task .yaml paths or bigbench:PATH; "a,b" is a list
    backend: Backend = Backend.HF
    limit: int | None = Field(None, gt=0)  # first N examples of each task
    batch_size: int = Field(8, gt=0)
    max_new_tokens: int = Field(DEFAULT_MAX_NEW_TOKENS, gt=0)  # unless the task sets its own
    chat_template: ChatTemplate = ChatTemplate.AUTO  # hf / vllm
    device: str | None = None  # hf
    base_url: str | None = None  # openai; default $OPENAI_BASE_URL
    api_key_env: str = "OPENAI_API_KEY"  # the name of the variable, never the key
    concurrency: int = Field(8, gt=0)  # openai
    retries: int = Field(4, ge=0)  # openai
    cache: bool = True  # openai: read and write the run's response cache
    shared_cache: str | None = None  # openai: opt-in cross-run response cache; needs model_revision
    model_revision: str | None = None  # openai: the served checkpoint's revision, part of every cache key
    extractor: Extractor = Extractor.RULES
    extractor_model: str | None = None
    extractor_base_url: str | None = None
    seed: int = 0
    unsafe_exec: bool = False  # code tasks: run generated code without isolation where bubblewrap is missing

    def check(self, where: str = "") -> None:
        """Task names resolve, code tasks can be isolated, the backend can run here; errors read
        "{where}KEY: message"."""
        from eval.registry import resolve
        from eval.task import Metric

        try:
            tasks = resolve(self.tasks)
        except TracemixError as err:
            raise RecipeError(f"{where}tasks: {err}") from None
        if any(t.metric == Metric.PASS_AT_1 for t in tasks):
            from eval.sandbox import require_isolation

            try:  # code tasks run model-written programs: refuse now rather than after training
                require_isolation(self.unsafe_exec)
            except TracemixError as err:
                raise RecipeError(f"{where}tasks: {err}") from None
        if self.backend == Backend.VLLM and importlib.util.find_spec("vllm") is None:
            raise RecipeError(f"{where}backend: vllm is not installed here; install it with "
                              "`pip install -e '.[vllm]'` on a GPU machine, or use backend hf or openai")
        if self.backend == Backend.OPENAI and not (self.base_url or os.environ.get("OPENAI_BASE_URL")) \
                and not os.environ.get(self.api_key_env):
            raise RecipeError(f"{where}base_url: no endpoint is set, so requests would go to api.openai.com, "
                              f"which needs a key in ${self.api_key_env}; set base_url (e.g. "
                              "http://localhost:8000/v1) or the key")
        if self.shared_cache and not self.model_revision:
            raise RecipeError(f"{where}model_revision: a shared cache needs the served checkpoint's revision "
                              "(a server may serve another checkpoint under the same name)")

    def backend_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of the chosen backend."""
        if self.backend == Backend.OPENAI:
            kw: dict[str, Any] = {"base_url": self.base_url, "api_key_env": self.api_key_env,
                                  "concurrency": self.concurrency, "max_retries": self.retries}
            if not self.cache:
                kw["cache_dir"] = None
            if self.shared_cache or self.model_revision:
                kw |= {"shared_cache_dir": self.shared_cache, "model_revision": self.model_revision}
            return kw
        kw = {"chat_template": {ChatTemplate.AUTO: None, ChatTemplate.ON: True, ChatTemplate.OFF: False}[
            self.chat_template]}
        if self.device and self.backend == Backend.HF:
            kw["device"] = self.device
        return kw

    def run(self, model: str | Path, output: str | Path | None, **kw: Any) -> dict[str, Any]:
        """`run_eval` with these settings; `kw` adds library-only arguments (progress=, sandbox_kw=)."""
        from eval.runner import run_eval

        if self.unsafe_exec:
            kw["sandbox_kw"] = {**(kw.get("sandbox_kw") or {}), "unsafe_exec": True}
        return run_eval(str(model), self.tasks, backend=str(self.backend), output=output, limit=self.limit,
                        batch_size=self.batch_size, extractor=str(self.extractor),
                        max_new_tokens=self.max_new_tokens, extractor_model=self.extractor_model,
                        extractor_base_url=self.extractor_base_url, seed=self.seed, **kw, **self.backend_kwargs())


class PerplexitySettings(ConfigModel):
    """What `tracemix eval perplexity` measures: held-out loss on each domain of a tagged folder."""

    data: str | None = None  # tagged or mixture folder; a sweep defaults to its recipe's first source
    exclude: str | None = None  # mixture folder whose documents are skipped (a sweep uses the variant's)
    max_tokens_per_domain: int = Field(20_000, gt=0)
    seq_len: int = Field(256, gt=0)
    batch_size: int = Field(8, gt=0)
    device: str | None = None  # cpu | cuda; default cuda when available

    def check(self, where: str = "") -> None:
        """The data (and exclude) folders exist and hold shards; errors read "{where}KEY: message"."""
        from probes.settings import check_data_folder

        if self.data is not None:
            check_data_folder(self.data, f"{where}data")
        if self.exclude is not None and not Path(self.exclude).is_dir():
            raise RecipeError(f"{where}exclude: mixture folder '{self.exclude}' does not exist")

    def run(self, model: str | Path, output: str | Path | None, **kw: Any) -> dict[str, Any]:
        """`domain_loss` with these settings (`data` must be set)."""
        from eval.perplexity import domain_loss

        if self.data is None:
            raise RecipeError("data: give a tagged folder to measure the loss on")
        return domain_loss(str(model), self.data, output, exclude=self.exclude,
                           max_tokens_per_domain=self.max_tokens_per_domain, seq_len=self.seq_len,
                           batch_size=self.batch_size, device=self.device, **kw)
