"""datatrove steps for tagging: `NormaliseText` cleans what the readers produced, `DomainTagger` labels it.

Both are plain `PipelineStep`s, so they drop into any datatrove pipeline:

    LocalPipelineExecutor([JsonlReader("in/"), DomainTagger("heuristic"), JsonlWriter("out/")]).run()

Time budget. Text is untrusted, so each document gets `time_budget_s` seconds of classification (default
`TIME_BUDGET_S`). The shipped classifiers are linear in a bounded sample of each document, so the budget
is a guard, not a cap they meet in practice. When a document overruns it (checked with a `SIGALRM` timer
in the main thread of the task, which also interrupts a running regex), it is tagged again on its first
`FALLBACK_CHARS` characters with lines cut at `FALLBACK_LINE_CHARS`; if that overruns as well it is tagged
`general` with uniform scores and scaffold score 0. Either way the document is kept, its
`metadata["tag_fallback"]` says which fallback made the tags, and the step counts `tag_fallback/window`
or `tag_fallback/general`. Outside the main thread (threaded executors) no timer can be set: the budget
is not enforced there.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import islice
from typing import Any

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from tracemix.domains import DOMAINS

TIME_BUDGET_S = 2.0  # per document; the heuristic needs about 1 ms per 10 kB and judges at most 32 kB
FALLBACK_CHARS, FALLBACK_LINE_CHARS = 4_000, 400


class OverBudget(Exception):
    """A document used up its classification time budget."""


def fallback_window(text: str) -> str:
    """The text the first fallback judges: a short prefix whose lines are cut short."""
    return "\n".join(ln[:FALLBACK_LINE_CHARS] for ln in text[:FALLBACK_CHARS].split("\n"))


class NormaliseText(PipelineStep):
    """Strip NUL/control characters and a BOM from text (and chat turns, re-flattening the chat)."""

    name = "🧹 normalise"
    type = "✂️ - FORMATTER"

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        from curation.tagging.records import CONTROL_CHARS, flatten_messages, has_control_chars

        for doc in data:
            with self.track_time():
                messages = doc.metadata.get("messages")
                if messages:
                    cleaned = [
                        {"role": m["role"], "content": CONTROL_CHARS.sub("", m["content"])} for m in messages
                    ]
                    if cleaned != messages:
                        doc.metadata["messages"] = cleaned
                        doc.text = flatten_messages(cleaned)
                        self.stat_update("cleaned")
                elif has_control_chars(doc.text):
                    doc.text = CONTROL_CHARS.sub("", doc.text)
                    self.stat_update("cleaned")
                if not doc.text.strip():
                    self.stat_update("bad_input/empty_text")
                    continue
            yield doc


class _Budget:
    """Runs one call within a time budget; a SIGALRM that arrives after the call returned is ignored."""

    def __init__(self, arm):
        self.arm, self.armed = arm, False

    def alarm(self, signum, frame):
        if self.armed:
            raise OverBudget()

    def call(self, fn, text: str, seconds: float):
        self.armed = True
        self.arm(seconds)
        try:
            return fn(text)
        finally:
            self.armed = False
            self.arm(0)


@contextmanager
def _budget(seconds: float):
    """A `_Budget` bound to SIGALRM for the duration (the previous handler restored); None when no timer
    can be set: budget off, not the main thread, or a platform without `setitimer`."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread() \
            or not hasattr(signal, "setitimer"):
        yield None
        return
    budget = _Budget(lambda s: signal.setitimer(signal.ITIMER_REAL, s))
    previous = signal.signal(signal.SIGALRM, budget.alarm)
    try:
        yield budget
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class DomainTagger(PipelineStep):
    """Tag each document with its domain, domain scores, scaffold score, size and (optionally) token count.

    Sets `doc.metadata` keys `domain`, `domain_scores` ({domain: prob}), `scaffold_score` (in [0, 1]),
    `n_bytes` (UTF-8), `n_tokens` (only with `tokenizer`), `tagger` (the classifier's name) and, for a
    document that overran its time budget, `tag_fallback` (see the module docstring).

    Args:
        classifier: a spec for `curation.classifiers.registry.load_classifier` ("heuristic", "fasttext:PATH", "llm")
            or a classifier object (must pickle to run under multiprocessing, Slurm or Ray).
        classifier_kwargs: passed to `load_classifier` (e.g. base_url/model for "llm").
        tokenizer: a Hugging Face tokenizer name or local path; loaded inside each task.
        batch_size: documents per classifier call when the classifier has `predict_many`.
        scaffold: what makes `scaffold_score`: a spec for `load_scaffold_scorer` ("heuristic", the regex
            features, or "fasttext:PATH", the paper's code-vs-non-code classifier) or a scorer object.
        time_budget_s: classification seconds per document before the fallback; 0 turns the guard off.
    """

    name = "🏷 domain tagger"
    type = "🔢 - TAGGER"

    def __init__(
        self,
        classifier: Any = "heuristic",
        classifier_kwargs: dict | None = None,
        tokenizer: str | None = None,
        batch_size: int = 256,
        scaffold: Any = "heuristic",
        time_budget_s: float = TIME_BUDGET_S,
    ):
        super().__init__()
        self.classifier = classifier
        self.classifier_kwargs = classifier_kwargs or {}
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.scaffold = scaffold
        self.time_budget_s = time_budget_s
        self._clf = self._scorer = self._tok = None

    def _load(self):
        if self._clf is None:
            from curation.classifiers.registry import load_classifier, load_scaffold_scorer

            self._clf = load_classifier(self.classifier, **self.classifier_kwargs)
            self._scorer = load_scaffold_scorer(self.scaffold)
        if self.tokenizer and self._tok is None:
            from transformers import AutoTokenizer

            self._tok = AutoTokenizer.from_pretrained(self.tokenizer)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_clf"] = state["_scorer"] = state["_tok"] = None  # loaded again where the task runs
        return state

    def _judge(self, budget: _Budget | None, fn, text: str):
        """`(fn(text), None)` within the budget, else `(fn(window), "window")`, else `(None, "general")`."""
        if budget is None:
            return fn(text), None
        try:
            return budget.call(fn, text, self.time_budget_s), None
        except OverBudget:
            pass
        try:
            return budget.call(fn, fallback_window(text), self.time_budget_s), "window"
        except OverBudget:
            return None, "general"

    def _classify(self, texts: list[str]) -> tuple[list, list, list]:
        """Domain scores, scaffold scores and fallbacks (None or its kind) of each text."""
        from curation.classifiers.registry import HEURISTIC_SCAFFOLD

        n = len(texts)
        scores: list = [None] * n
        scaffolds: list = [None] * n
        fallbacks: list = [None] * n
        both = getattr(self._clf, "predict_with_scaffold", None)
        many = getattr(self._clf, "predict_many", None)
        with _budget(self.time_budget_s) as budget:
            if both is not None and self._scorer.name == HEURISTIC_SCAFFOLD:
                # one pass over each text for the domain and the scaffold score
                for i, text in enumerate(texts):
                    got, fallbacks[i] = self._judge(budget, both, text)
                    if got is not None:
                        scores[i], scaffolds[i] = got
            else:
                if many is not None:  # batched models (fastText, LLM endpoints) bound their own cost
                    scores = list(many(texts))
                else:
                    for i, text in enumerate(texts):
                        scores[i], fallbacks[i] = self._judge(budget, self._clf.predict, text)
                if hasattr(self._scorer, "score_many"):
                    scaffolds = list(self._scorer.score_many(texts))
                else:
                    for i, text in enumerate(texts):
                        scaffolds[i], late = self._judge(budget, self._scorer.score, text)
                        fallbacks[i] = fallbacks[i] or late
        return scores, scaffolds, fallbacks

    def tag(self, docs: list[Document]) -> None:
        """Tag a batch of documents in place."""
        self._load()
        texts = [d.text for d in docs]
        all_scores, scaffolds, fallbacks = self._classify(texts)
        n_tokens = None
        if self._tok is not None:
            # plain counts: no BOS/EOS, so sums over documents add up
            n_tokens = [len(ids) for ids in self._tok(texts, add_special_tokens=False)["input_ids"]]
        counts: dict[str, list[int]] = {}  # domain -> [documents, bytes, tokens]: one stat update per batch
        for i, (doc, scores) in enumerate(zip(docs, all_scores, strict=True)):
            if scores is None:  # overran both budgets: kept, marked, counted
                scores, domain = dict.fromkeys(DOMAINS, 1.0 / len(DOMAINS)), "general"
            else:
                scores = {d: float(scores.get(d, 0.0)) for d in DOMAINS}
                domain = max(DOMAINS, key=scores.__getitem__)  # ties resolve in taxonomy order
            text = doc.text  # ASCII (a flag on the string): its length is its UTF-8 size, no encoding needed
            n_bytes = len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
            doc.metadata.update(
                domain=domain,
                domain_scores=scores,
                scaffold_score=float(scaffolds[i] or 0.0),
                n_bytes=n_bytes,
                tagger=self._clf.name,
            )
            if fallbacks[i]:
                doc.metadata["tag_fallback"] = fallbacks[i]
                self.stat_update(f"tag_fallback/{fallbacks[i]}")
            c = counts.setdefault(domain, [0, 0, 0])
            c[0] += 1
            c[1] += n_bytes
            if n_tokens is not None:
                doc.metadata["n_tokens"] = n_tokens[i]
                c[2] += n_tokens[i]
        for domain, (n_docs, n_bytes, n_tok) in counts.items():
            self.stat_update(f"domain/{domain}", value=n_docs, unit="batch")
            self.stat_update(f"bytes/{domain}", value=n_bytes, unit="batch")
            if n_tokens is not None:
                self.stat_update(f"tokens/{domain}", value=n_tok, unit="batch")

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data is None:
            return
        data = iter(data)
        while batch := list(islice(data, self.batch_size)):
            with self.track_time(unit="batch"):
                self.tag(batch)
            yield from batch


def iter_tagged(texts: list[str], classifier: Any = "heuristic", **kw: Any) -> Iterator[dict]:
    """Tag raw strings outside a pipeline (notebooks, quick checks): yields each document's metadata."""
    tagger = DomainTagger(classifier, **kw)
    docs = [Document(text=t, id=str(i)) for i, t in enumerate(texts)]
    for doc in tagger.run(iter(docs)):
        yield doc.metadata
