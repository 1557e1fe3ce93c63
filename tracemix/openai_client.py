"""The one client for OpenAI-compatible endpoints (OpenAI, vLLM serve, TGI, llama.cpp, SGLang).

Labelling, LLM answer extraction and the eval backend all talk to servers through `OpenAIClient`:

- transient failures (connection errors, timeouts, 408/409/429/5xx) are retried at most `max_retries`
  times with exponential backoff and jitter; a `Retry-After` header is honoured (up to `max_wait` s);
- at most `concurrency` requests are in flight per client, whichever threads send them;
- the API key is read from the environment for each request, never kept on the object or pickled, and
  every message, log line and exception goes through `tracemix.redact` (a server that echoes the
  Authorization header back leaks nothing); replies have the key's exact value masked, and nothing else;
- a reply that is not what the API specifies raises `MalformedReply` naming the endpoint and the fault.

Caches that cannot lie. A cached answer is keyed by the request and by the model's *identity*: the
fields the server reports for the model in `GET /models` (vLLM reports the checkpoint path as `root`
and its context length; volatile fields such as `created` are dropped) plus `model_revision`, a
revision or fingerprint the user gives. `cache_dir` is the run's own cache: callers put it inside the
run's output folder, so it serves only the resume of that run. `shared_cache_dir` is an opt-in cache
shared across runs; it requires `model_revision`, because a server may serve another checkpoint under
the same name and report nothing that tells the two apart.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import os
import random
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

from tracemix.atomic import write_json
from tracemix.errors import RecipeError, TracemixError
from tracemix.redact import env_secrets, redact, redact_values

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}
TRANSIENT_STATUS = {408, 409, 429} | set(range(500, 600))
VOLATILE_MODEL_FIELDS = {"created", "permission", "object"}  # change per request on vLLM; not the model
T = TypeVar("T")


class EndpointError(TracemixError):
    """The endpoint could not be reached, kept failing after all retries, or rejected the request."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class MalformedReply(EndpointError):
    """The server answered 200 with something that is not an OpenAI API reply."""


@dataclass(frozen=True)
class Completion:
    text: str
    completion_tokens: int = 0
    finish_reason: str | None = None
    cached: bool = False


@dataclass
class ClientStats:
    requests: int = 0  # HTTP requests sent, retries included
    retries: int = 0  # transient failures that were retried
    cache_hits: int = 0
    completion_tokens: int = 0

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


class ResponseCache:
    """JSON entries on disk under `folder/KEY[:2]/KEY.json`, written atomically (a kill never leaves half)."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder).expanduser()

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        path = self._path(key)
        if not path.is_file():
            return None
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # a damaged entry is asked again and rewritten
        return value if isinstance(value, dict) else None

    def put(self, key: str, value: dict[str, Any]) -> None:
        write_json(self._path(key), value)


class OpenAIClient:
    """Chat and text completions from one model on one OpenAI-compatible endpoint (see the module doc)."""

    def __init__(self, base_url: str, model: str, *, api_key_env: str = "OPENAI_API_KEY", concurrency: int = 8,
                 max_retries: int = 4, backoff: float = 0.5, backoff_max: float = 60.0, max_wait: float = 300.0,
                 timeout: float = 60.0, cache_dir: str | os.PathLike | None = None,
                 shared_cache_dir: str | os.PathLike | None = None, model_revision: str | None = None):
        if not base_url or not model:
            raise RecipeError("an OpenAI-compatible endpoint needs a base URL (e.g. http://localhost:8000/v1) "
                              "and a model name")
        if concurrency < 1 or max_retries < 0 or timeout <= 0:
            raise RecipeError(f"concurrency must be >= 1, retries >= 0 and timeout > 0 (got {concurrency}, "
                              f"{max_retries}, {timeout})")
        if shared_cache_dir and not model_revision:
            raise RecipeError("a shared response cache needs a model revision (--model-revision: a checkpoint "
                              "hash, tag or date): the served model name alone cannot tell two checkpoints "
                              "apart, so a shared cache could return another model's answers")
        self.base_url, self.model, self.api_key_env = base_url.rstrip("/"), model, api_key_env
        self.concurrency, self.max_retries, self.timeout = concurrency, max_retries, timeout
        self.backoff, self.backoff_max, self.max_wait = backoff, backoff_max, max_wait
        self.model_revision = model_revision
        self.caches = [ResponseCache(d) for d in (cache_dir, shared_cache_dir) if d]
        self._api_key()  # fail before any work when a remote endpoint has no key
        self._init_runtime()

    # -- state that never travels (pickled for datatrove workers) --------------------------------------
    def _init_runtime(self) -> None:
        self._lock = threading.Lock()
        self._identity_lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(self.concurrency)
        self._local = threading.local()
        self._identity: dict[str, Any] | None = None
        self.stats = ClientStats()

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in ("_lock", "_identity_lock", "_slots", "_local", "stats")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._init_runtime()

    # -- secrets -----------------------------------------------------------------------------------------
    def _api_key(self) -> str | None:
        key = os.environ.get(self.api_key_env)
        if key:
            return key
        if urlparse(self.base_url).hostname in LOCAL_HOSTS:
            return None  # a local server started without --api-key takes requests without one
        raise TracemixError(f"environment variable {self.api_key_env} is not set; export the API key for "
                            f"{self.redact(self.base_url)} there (or name another variable with --api-key-env)")

    def redact(self, text: str) -> str:
        """`text` with this client's key, other secrets from the environment and credential shapes masked."""
        return redact(text, env_secrets([self.api_key_env]))

    @property
    def endpoint(self) -> str:
        return self.redact(self.base_url)

    # -- HTTP --------------------------------------------------------------------------------------------
    def _session(self):
        import requests

        session = getattr(self._local, "session", None)
        if session is None:  # one keep-alive session per thread: requests' Session is not thread-safe
            session = self._local.session = requests.Session()
        return session

    def _count(self, **deltas: int) -> None:
        with self._lock:
            for k, v in deltas.items():
                setattr(self.stats, k, getattr(self.stats, k) + v)

    def _wait(self, attempt: int, retry_after: str | None) -> float:
        delay = min(self.backoff_max, self.backoff * 2**attempt) * random.uniform(0.5, 1.0)
        if retry_after:
            asked = _retry_after_seconds(retry_after)
            if asked is not None:
                if asked > self.max_wait:
                    raise EndpointError(f"{self.endpoint} asks to wait {asked:.0f} s before retrying (Retry-After), "
                                        f"more than the {self.max_wait:.0f} s allowed; try again later", 429)
                delay = max(delay, asked)
        return delay

    def request(self, method: str, path: str, body: dict[str, Any] | None = None, *,
                retries: int | None = None) -> dict[str, Any]:
        """One JSON request with bounded retries (default `max_retries`); returns the decoded JSON object."""
        import requests

        max_retries = self.max_retries if retries is None else retries
        url = f"{self.base_url}/{path.lstrip('/')}"
        where = f"{self.endpoint}/{path.lstrip('/')}"
        key = self._api_key()
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        last = ""
        for attempt in range(max_retries + 1):
            retry_after = None
            with self._slots:
                self._count(requests=1)
                try:
                    resp = self._session().request(method, url, json=body, headers=headers, timeout=self.timeout)
                except requests.RequestException as err:
                    last = f"{type(err).__name__}: {err}"
                    resp = None
            if resp is not None:
                if resp.status_code == 200:
                    return self._decode(resp, where)
                last = f"HTTP {resp.status_code}: {_server_message(resp)}"
                if resp.status_code not in TRANSIENT_STATUS:
                    raise self._rejected(resp.status_code, where, last)
                retry_after = resp.headers.get("Retry-After")
            if attempt == max_retries:
                break
            self._count(retries=1)
            time.sleep(self._wait(attempt, retry_after))
        attempts = f"failed after {max_retries + 1} attempt(s) (last: {last})"
        if resp is None:
            raise EndpointError(self.redact(f"cannot reach {where}: {attempts}. Is the server running, and does "
                                            "--base-url end in /v1?"))
        raise EndpointError(self.redact(f"{where} kept failing: {attempts}. The server is overloaded or broken; "
                                        "retry later, or lower the concurrency"), resp.status_code)

    def _rejected(self, status: int, where: str, last: str) -> EndpointError:
        hint = {401: f"check the key in ${self.api_key_env}", 403: f"check the key in ${self.api_key_env}",
                404: "check --base-url (it usually ends in /v1) and --model"}.get(status, "retrying will not help")
        return EndpointError(self.redact(f"{where} rejected the request for model '{self.model}' ({last}); {hint}"),
                             status)

    def _decode(self, resp, where: str) -> dict[str, Any]:
        try:
            obj = resp.json()
        except ValueError:
            raise MalformedReply(self.redact(f"{where} answered 200 with a body that is not JSON (starts: "
                                             f"{resp.text[:120]!r}); is --base-url an OpenAI-compatible API?")) from None
        if not isinstance(obj, dict):
            raise MalformedReply(self.redact(f"{where} answered a JSON {type(obj).__name__}, expected an object"))
        return obj

    # -- model identity ----------------------------------------------------------------------------------
    def identity(self) -> dict[str, Any]:
        """What identifies the served model: its `GET /models` entry (volatile fields dropped) and the revision.

        `listed` is False when the server has no model list or does not list this name."""
        with self._identity_lock:  # asked once per client, even when many threads start at the same time
            if self._identity is None:
                self._identity = {"model": self._model_card(), "revision": self.model_revision}
            return self._identity

    def _model_card(self) -> dict[str, Any]:
        try:
            listing = self.request("GET", "models", retries=0)  # a check: a server that is down fails at once
        except MalformedReply:
            listing = {}
        except EndpointError as err:
            if err.status is None or err.status in (401, 403):  # unreachable or refused: requests would fail too
                raise
            # any other status: no usable model list on this server
            listing = {}
        cards = listing.get("data") if isinstance(listing.get("data"), list) else []
        for card in cards:
            if isinstance(card, dict) and card.get("id") == self.model:
                return {**{k: v for k, v in sorted(card.items()) if k not in VOLATILE_MODEL_FIELDS}, "listed": True}
        return {"id": self.model, "listed": False}

    def cache_key(self, request: dict[str, Any]) -> str:
        """sha256 of the model identity and the request: the same key only for the same model and question."""
        blob = json.dumps({"identity": self.identity(), "request": request}, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8", "surrogatepass")).hexdigest()

    def cached(self, key: str) -> dict[str, Any] | None:
        for cache in self.caches:
            value = cache.get(key)
            if value is not None:
                self._count(cache_hits=1)
                return value
        return None

    def store(self, key: str, value: dict[str, Any]) -> None:
        for cache in self.caches:
            cache.put(key, value)

    # -- completions -------------------------------------------------------------------------------------
    def chat(self, messages: list[dict[str, str]], *, max_tokens: int, temperature: float = 0.0,
             use_cache: bool = True, **params: Any) -> Completion:
        """One chat completion (`POST /chat/completions`)."""
        body = {"model": self.model, "messages": messages, "max_tokens": max_tokens, "temperature": temperature,
                **params}
        return self._complete("chat/completions", body, use_cache)

    def complete(self, prompt: str, *, max_tokens: int, temperature: float = 0.0, use_cache: bool = True,
                 **params: Any) -> Completion:
        """One text completion (`POST /completions`)."""
        body = {"model": self.model, "prompt": prompt, "max_tokens": max_tokens, "temperature": temperature,
                **params}
        return self._complete("completions", body, use_cache)

    def _complete(self, path: str, body: dict[str, Any], use_cache: bool) -> Completion:
        key = self.cache_key({"path": path, **body}) if use_cache and self.caches else None
        hit = self.cached(key) if key else None
        if hit is not None and isinstance(hit.get("text"), str):
            return Completion(hit["text"], int(hit.get("completion_tokens") or 0), hit.get("finish_reason"), True)
        reply = self.request("POST", path, body)
        completion = self._parse(reply, path)
        self._count(completion_tokens=completion.completion_tokens)
        if key:
            self.store(key, {"text": completion.text, "completion_tokens": completion.completion_tokens,
                             "finish_reason": completion.finish_reason})
        return completion

    def _parse(self, reply: dict[str, Any], path: str) -> Completion:
        def bad(what: str) -> MalformedReply:
            shown = json.dumps(reply, ensure_ascii=False)[:200]
            return MalformedReply(self.redact(f"{self.endpoint}/{path} sent a malformed reply: {what} "
                                              f"(reply starts: {shown})"))

        if "error" in reply and "choices" not in reply:
            raise bad(f"an error object instead of choices: {reply['error']!r:.200}")
        choices = reply.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise bad("no `choices` list with at least one choice")
        choice = choices[0]
        if path == "chat/completions":
            message = choice.get("message")
            if not isinstance(message, dict):
                raise bad("`choices[0].message` is missing")
            text = message.get("content")
        else:
            text = choice.get("text")
        if text is None:
            text = ""  # no content (e.g. cut at max_tokens while thinking) is an empty answer, not a fault
        if not isinstance(text, str):
            raise bad(f"the answer text is a {type(text).__name__}, expected a string")
        usage = reply.get("usage") if isinstance(reply.get("usage"), dict) else {}
        tokens = usage.get("completion_tokens") or 0
        # a server that echoes the request headers into its answer must not put the key into our outputs;
        # only the key's exact value: any broader rule could change a model's answer and so its score
        text = redact_values(text, [os.environ.get(self.api_key_env, "")])
        return Completion(text, tokens if isinstance(tokens, int) else 0, choice.get("finish_reason"))

    # -- helpers -----------------------------------------------------------------------------------------
    def map(self, fn: Callable[[Any], T], items: Iterable[Any], *, progress: bool = False,
            desc: str | None = None) -> list[T]:
        """`fn` over `items` in input order, `concurrency` at a time; the first error cancels the rest."""
        items = list(items)
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="openai") as pool:
            futures = [pool.submit(fn, item) for item in items]
            try:
                if progress:
                    from tqdm.auto import tqdm

                    return [f.result() for f in tqdm(futures, desc=desc or f"requests {self.model}", leave=False)]
                return [f.result() for f in futures]
            except BaseException:
                for f in futures:
                    f.cancel()
                raise

    def check(self) -> dict[str, Any]:
        """Fail fast when the endpoint cannot be reached or rejects the key; returns the model identity."""
        return self.identity()

    def describe(self) -> dict[str, Any]:
        """What a run records about the endpoint: URL (credentials masked), model, identity, revision."""
        return {"base_url": self.endpoint, "model": self.model, "model_identity": self.identity()["model"],
                "model_revision": self.model_revision}


def _server_message(resp) -> str:
    try:
        obj = resp.json()
    except ValueError:
        return resp.text[:200] or resp.reason or ""
    err = obj.get("error") if isinstance(obj, dict) else None
    if isinstance(err, dict):
        return str(err.get("message") or err)[:300]
    return str(err or obj)[:300]


def _retry_after_seconds(value: str) -> float | None:
    """Retry-After as seconds: a number, or an HTTP date (RFC 9110)."""
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
