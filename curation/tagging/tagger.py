"""datatrove steps for tagging: `NormaliseText` cleans what the readers produced, `DomainTagger` labels it.

Both are plain `PipelineStep`s, so they drop into any datatrove pipeline:

    LocalPipelineExecutor([JsonlReader("in/"), DomainTagger("heuristic"), JsonlWriter("out/")]).run()
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import Any

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from curation.classifiers.scaffold import scaffold_score
from tracemix.domains import DOMAINS


class NormaliseText(PipelineStep):
    """Strip NUL/control characters and a BOM from text (and chat turns, re-flattening the chat)."""

    name = "🧹 normalise"
    type = "✂️ - FORMATTER"

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        from curation.tagging.records import CONTROL_CHARS, flatten_messages

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
                elif CONTROL_CHARS.search(doc.text):
                    doc.text = CONTROL_CHARS.sub("", doc.text)
                    self.stat_update("cleaned")
                if not doc.text.strip():
                    self.stat_update("bad_input/empty_text")
                    continue
            yield doc


class DomainTagger(PipelineStep):
    """Tag each document with its domain, domain scores, scaffold score, size and (optionally) token count.

    Sets `doc.metadata` keys `domain`, `domain_scores` ({domain: prob}), `scaffold_score` (in [0, 1]),
    `n_bytes` (UTF-8), `n_tokens` (only with `tokenizer`) and `tagger` (the classifier's name).

    Args:
        classifier: a spec for `curation.classifiers.registry.load_classifier` ("heuristic", "fasttext:PATH", "llm")
            or a classifier object (must pickle to run under multiprocessing, Slurm or Ray).
        classifier_kwargs: passed to `load_classifier` (e.g. base_url/model for "llm").
        tokenizer: a Hugging Face tokenizer name or local path; loaded inside each task.
        batch_size: documents per classifier call when the classifier has `predict_many`.
    """

    name = "🏷 domain tagger"
    type = "🔢 - TAGGER"

    def __init__(
        self,
        classifier: Any = "heuristic",
        classifier_kwargs: dict | None = None,
        tokenizer: str | None = None,
        batch_size: int = 256,
    ):
        super().__init__()
        self.classifier = classifier
        self.classifier_kwargs = classifier_kwargs or {}
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self._clf = None
        self._tok = None

    def _load(self):
        if self._clf is None:
            from curation.classifiers.registry import load_classifier

            self._clf = load_classifier(self.classifier, **self.classifier_kwargs)
        if self.tokenizer and self._tok is None:
            from transformers import AutoTokenizer

            self._tok = AutoTokenizer.from_pretrained(self.tokenizer)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_clf"] = state["_tok"] = None  # loaded again where the task runs
        return state

    def tag(self, docs: list[Document]) -> None:
        """Tag a batch of documents in place."""
        self._load()
        texts = [d.text for d in docs]
        both = getattr(self._clf, "predict_with_scaffold", None)
        if both is not None:  # one pass over each text for the domain and the scaffold score
            all_scores, scaffolds = zip(*map(both, texts), strict=True) if texts else ((), ())
        else:
            many = getattr(self._clf, "predict_many", None)
            all_scores = many(texts) if many else [self._clf.predict(t) for t in texts]
            scaffolds = [scaffold_score(t) for t in texts]
        n_tokens = None
        if self._tok is not None:
            # plain counts: no BOS/EOS, so sums over documents add up
            n_tokens = [len(ids) for ids in self._tok(texts, add_special_tokens=False)["input_ids"]]
        counts: dict[str, list[int]] = {}  # domain -> [documents, bytes, tokens]: one stat update per batch
        for i, (doc, scores) in enumerate(zip(docs, all_scores, strict=True)):
            scores = {d: float(scores.get(d, 0.0)) for d in DOMAINS}
            domain = max(DOMAINS, key=scores.__getitem__)  # ties resolve in taxonomy order
            n_bytes = len(doc.text.encode("utf-8", "surrogatepass"))
            doc.metadata.update(
                domain=domain,
                domain_scores=scores,
                scaffold_score=float(scaffolds[i]),
                n_bytes=n_bytes,
                tagger=self._clf.name,
            )
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
