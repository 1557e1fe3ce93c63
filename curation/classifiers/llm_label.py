"""LLM labelling: ask an OpenAI-compatible endpoint (OpenAI, a vLLM server) for a document's domain and
scaffold rating.

The first step of the standard recipe: an LLM labels a sample, fastText distils it, fastText tags at scale.
Answers are strict JSON (`{"domain", "scaffold", "reason"}`); anything else is re-asked and, if still
invalid, counted and reported, never guessed. Valid answers are cached under the model's identity (what
the server reports for it, plus an optional revision), the prompt version and the text: in the run's own
cache, so a resumed run pays nothing twice, and in an opt-in shared cache. Requests go through
`tracemix.openai_client`; the API key is read from the environment per request and never stored, logged
or written.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from typing import Any

from tracemix.domains import DOMAINS
from tracemix.errors import TracemixError
from tracemix.openai_client import EndpointError, MalformedReply, OpenAIClient

PROMPT_VERSION = "domain-scaffold-v1"  # bump when the prompt changes: it is part of the cache key
MAX_CHARS = 6000  # documents are cut to their first MAX_CHARS characters (~1.5k tokens) before asking
MAX_SCAFFOLD = 3

SYSTEM_PROMPT = """\
You label documents for a study of how training data shapes reasoning in language models.

Classify the document into exactly one domain:
- "pure_code": standalone source code; natural language only as comments or docstrings.
- "code_text": natural language interleaved with code (tutorials with code blocks, Q&A answers with \
snippets, notebooks, programming conversations).
- "math_text": mathematics expressed with natural language (worked solutions, proofs, lecture notes \
with formulas, word problems with steps).
- "general": everything else (news, fiction, encyclopedia, chit-chat, documentation without code).

Rate its reasoning scaffold from 0 to 3, whatever the domain:
0 = no explicit intermediate steps; 1 = a few steps or equations; 2 = a clear step-by-step derivation;
3 = dense scaffolding: numbered steps, chains of equations, high symbol density, indented derivations.

Answer with only a JSON object, no other text:
{"domain": "<pure_code|code_text|math_text|general>", "scaffold": <0-3>, "reason": "<at most 20 words>"}"""

USER_TEMPLATE = "Document:\n<<<\n{text}\n>>>"

REPAIR_PROMPT = ("That answer is not valid ({error}). Reply with only the JSON object "
                 '{{"domain": ..., "scaffold": ..., "reason": ...}}.')

_ANSWER_KEYS = {"domain", "scaffold", "reason"}


class InvalidAnswer(ValueError):
    """The model's reply is not the JSON object the prompt asks for."""


class LLMAnswerError(TracemixError):
    """No valid label for a document after all retries (transport errors or invalid answers)."""


@dataclass(frozen=True)
class LLMLabel:
    domain: str
    scaffold: int  # 0..MAX_SCAFFOLD, as rated by the model
    reason: str = ""

    @property
    def scaffold_score(self) -> float:
        """The rating on the [0, 1] scale of `curation.classifiers.scaffold.scaffold_score`."""
        return self.scaffold / MAX_SCAFFOLD


def parse_answer(content: str) -> LLMLabel:
    """Parse a reply strictly: one JSON object with exactly `domain`, `scaffold` and optionally `reason`.

    The only leniency is a surrounding ```json fence, which chat models add out of habit.
    """
    body = content.strip()
    if body.startswith("```"):
        first_nl = body.find("\n")
        if first_nl < 0 or body[3:first_nl].strip() not in ("", "json") or not body.endswith("```"):
            raise InvalidAnswer("a code fence other than ```json around the object")
        body = body[first_nl + 1:-3].strip()
    try:
        obj = json.loads(body)
    except json.JSONDecodeError as err:
        raise InvalidAnswer(f"not JSON: {err.msg} at char {err.pos}") from None
    if not isinstance(obj, dict):
        raise InvalidAnswer(f"a JSON {type(obj).__name__}, expected an object")
    extra = set(obj) - _ANSWER_KEYS
    if extra:
        raise InvalidAnswer(f"unexpected keys {sorted(extra)}")
    domain, scaffold, reason = obj.get("domain"), obj.get("scaffold"), obj.get("reason", "")
    if domain not in DOMAINS:
        raise InvalidAnswer(f"domain {domain!r} is not one of {', '.join(DOMAINS)}")
    if isinstance(scaffold, float) and scaffold.is_integer():
        scaffold = int(scaffold)
    if isinstance(scaffold, bool) or not isinstance(scaffold, int) or not 0 <= scaffold <= MAX_SCAFFOLD:
        raise InvalidAnswer(f"scaffold {scaffold!r} is not an integer in 0..{MAX_SCAFFOLD}")
    if not isinstance(reason, str):
        raise InvalidAnswer("reason is not a string")
    return LLMLabel(domain, scaffold, reason)


def truncate(text: str, max_chars: int = MAX_CHARS) -> str:
    return text if len(text) <= max_chars else text[:max_chars]


@dataclass
class LabelStats:
    """What a labelling run cost and where it failed."""

    documents: int = 0
    cache_hits: int = 0
    requests: int = 0  # HTTP requests sent, retries included
    transport_retries: int = 0  # 429 / 5xx / connection errors that were retried
    invalid_answers: int = 0  # replies that failed `parse_answer`
    failed: int = 0  # documents left without a label
    failures: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class LLMClassifier:
    """Domain and scaffold labels from an OpenAI-compatible chat endpoint, behind the classifier interface.

    `predict(text)` gives probability 1 to the labelled domain; `scaffold(text)` the rating in [0, 1];
    `label(text)` the full `LLMLabel`. All share one cached request per text. `label_many` / `predict_many`
    run up to `max_concurrency` requests at once. Transport (retries with backoff honouring Retry-After,
    the concurrency limit, redaction of secrets) is `tracemix.openai_client.OpenAIClient`. Invalid answers
    are re-asked `max_invalid_retries` times with the parse error; a document still without a valid answer
    raises `LLMAnswerError`. Valid labels are cached under the model's identity, the prompt version and the
    text: `cache_dir` is the run's own cache, `shared_cache_dir` (with `model_revision`) the opt-in shared one.
    """

    def __init__(self, base_url: str, model: str, api_key_env: str = "OPENAI_API_KEY",
                 cache_dir: str | os.PathLike | None = None, max_concurrency: int = 8,
                 max_retries: int = 5, timeout: float = 60.0, max_chars: int = MAX_CHARS,
                 max_invalid_retries: int = 2, backoff_base: float = 1.0, backoff_max: float = 60.0,
                 max_tokens: int = 200, shared_cache_dir: str | os.PathLike | None = None,
                 model_revision: str | None = None):
        if not base_url or not model:
            raise TracemixError("LLMClassifier needs base_url (e.g. http://localhost:8000/v1) and model")
        if max_concurrency < 1 or max_retries < 0 or max_invalid_retries < 0 or max_chars < 1:
            raise TracemixError("max_concurrency and max_chars must be >= 1, retries >= 0")
        self.client = OpenAIClient(base_url, model, api_key_env=api_key_env, concurrency=max_concurrency,
                                   max_retries=max_retries, backoff=backoff_base, backoff_max=backoff_max,
                                   timeout=timeout, cache_dir=cache_dir, shared_cache_dir=shared_cache_dir,
                                   model_revision=model_revision)
        self.base_url, self.model, self.api_key_env = self.client.endpoint, model, api_key_env
        self.max_concurrency = max_concurrency
        self.max_chars, self.max_invalid_retries, self.max_tokens = max_chars, max_invalid_retries, max_tokens
        self.name = f"llm:{model}"
        self._init_runtime()

    def _init_runtime(self) -> None:
        self._lock = threading.Lock()
        self._stats = LabelStats()

    def __getstate__(self) -> dict:
        # No lock or key travels: workers rebuild them and read the key from their environment.
        return {k: v for k, v in self.__dict__.items() if k not in ("_lock", "_stats")}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._init_runtime()

    @property
    def stats(self) -> LabelStats:
        """This object's counts; requests and retries are the client's."""
        self._stats.requests, self._stats.transport_retries = self.client.stats.requests, self.client.stats.retries
        return self._stats

    def _count(self, **deltas: int) -> None:
        with self._lock:
            for k, v in deltas.items():
                setattr(self._stats, k, getattr(self._stats, k) + v)

    # -- cache -----------------------------------------------------------------------------------------
    def cache_key(self, text: str) -> str:
        """The label cache key: the model's identity (see `OpenAIClient.cache_key`), prompt version and text."""
        return self.client.cache_key({"prompt_version": PROMPT_VERSION, "text": text})

    def _cached(self, key: str) -> LLMLabel | None:
        obj = self.client.cached(key) if self.client.caches else None
        if obj is None:
            return None
        try:
            return LLMLabel(obj["domain"], int(obj["scaffold"]), obj.get("reason", ""))
        except (ValueError, KeyError, TypeError):
            return None  # a damaged entry is asked again and rewritten

    def _store(self, key: str, label: LLMLabel) -> None:
        if self.client.caches:
            self.client.store(key, {**asdict(label), "model": self.model, "prompt_version": PROMPT_VERSION})

    # -- requests --------------------------------------------------------------------------------------
    def _complete(self, messages: list[dict[str, str]]) -> str:
        """One chat completion; the client retries transient failures."""
        try:
            return self.client.chat(messages, max_tokens=self.max_tokens, temperature=0.0, use_cache=False).text
        except MalformedReply:
            raise  # the server is broken, not this document: stop the run with the client's message
        except EndpointError as err:
            if err.status in (401, 403, 404):  # configuration, not data: every document would fail the same way
                raise TracemixError(str(err)) from None
            raise LLMAnswerError(str(err)) from None

    def _ask(self, text: str) -> LLMLabel:
        messages = [{"role": "system", "content": SYSTEM_PROMPT},
                    {"role": "user", "content": USER_TEMPLATE.format(text=text)}]
        error = ""
        for _ in range(self.max_invalid_retries + 1):
            content = self._complete(messages)
            try:
                return parse_answer(content)
            except InvalidAnswer as err:
                self._count(invalid_answers=1)
                error = str(err)
                # Show the model its own answer and what is wrong with it: a repeat of the same prompt
                # at temperature 0 would most likely get the same reply.
                messages = messages[:2] + [{"role": "assistant", "content": content},
                                           {"role": "user", "content": REPAIR_PROMPT.format(error=error)}]
        raise LLMAnswerError(f"no valid answer after {self.max_invalid_retries + 1} tries (last: {error})")

    # -- public ----------------------------------------------------------------------------------------
    def check_endpoint(self) -> dict[str, Any]:
        """Fail fast when the endpoint cannot be reached or rejects the key (one GET /models); returns the
        model's identity as the server reports it."""
        return self.client.check()

    def label(self, text: str) -> LLMLabel:
        """The label of one document (from the cache when this model already answered for this text)."""
        text = truncate(text, self.max_chars)
        key = self.cache_key(text) if self.client.caches else ""
        self._count(documents=1)
        hit = self._cached(key)
        if hit is not None:
            self._count(cache_hits=1)
            return hit
        label = self._ask(text)
        self._store(key, label)
        return label

    def predict(self, text: str) -> dict[str, float]:
        domain = self.label(text).domain
        return {d: float(d == domain) for d in DOMAINS}

    def scaffold(self, text: str) -> float:
        """The model's scaffold rating on [0, 1]."""
        return self.label(text).scaffold_score

    def label_many(self, texts: Iterable[str], progress: bool = False) -> list[LLMLabel | LLMAnswerError]:
        """Labels in input order, `max_concurrency` requests at a time; failures are returned, not raised."""
        texts = list(texts)
        # Identical texts (after truncation) are asked once.
        keys = [truncate(t, self.max_chars) for t in texts]
        first: dict[str, int] = {}
        for i, k in enumerate(keys):
            first.setdefault(k, i)
        results: dict[str, LLMLabel | LLMAnswerError] = {}

        def one(i: int) -> LLMLabel | LLMAnswerError:
            try:
                return self.label(texts[i])
            except LLMAnswerError as err:
                return err

        with ThreadPoolExecutor(max_workers=self.max_concurrency, thread_name_prefix="llm-label") as pool:
            futures = {pool.submit(one, i): keys[i] for i in first.values()}
            done = as_completed(futures)
            if progress:
                from tqdm.auto import tqdm

                done = tqdm(done, total=len(futures), desc=f"labelling with {self.model}", unit="doc")
            for fut in done:
                results[futures[fut]] = fut.result()
        return [results[k] for k in keys]

    def predict_many(self, texts: Iterable[str]) -> list[dict[str, float]]:
        out = []
        for label in self.label_many(texts):
            if isinstance(label, LLMAnswerError):
                raise label
            out.append({d: float(d == label.domain) for d in DOMAINS})
        return out

    def __repr__(self) -> str:
        return f"LLMClassifier({self.base_url!r}, {self.model!r})"


def label_records(records: Iterable[Mapping[str, Any]], classifier: LLMClassifier, *,
                  progress: bool = True) -> Iterator[dict[str, Any]]:
    """Label `{"id", "text"}` records; yields LABELED.jsonl rows in input order, skipping failures.

    Rows: `{"id", "text", "label", "scaffold" (0-1), "scaffold_rating" (0-3), "reason", "labeler"}`.
    Failures are counted in `classifier.stats` (`failed`, `failures` with id and reason).
    """
    records = list(records)
    labels = classifier.label_many([r["text"] for r in records], progress=progress)
    for rec, label in zip(records, labels, strict=True):
        if isinstance(label, LLMAnswerError):
            classifier.stats.failed += 1
            classifier.stats.failures.append({"id": str(rec["id"]), "error": str(label)})
            continue
        yield {"id": str(rec["id"]), "text": rec["text"], "label": label.domain,
               "scaffold": round(label.scaffold_score, 6), "scaffold_rating": label.scaffold,
               "reason": label.reason, "labeler": classifier.name}
