"""Routing as a data audit: does each document route like the domain it is tagged with?

One pass keeps, per document, its expert histogram per layer h(i, l, e) (the router's own top-k choices,
padding never counted). Each domain's routing profile is the smoothed expert distribution of the documents
tagged with it, leaving the scored document itself out:

    P_c(l, e) = (S_c(l, e) - [c = d_i] h(i, l, e) + alpha) / (T_c(l) - [c = d_i] T_i(l) + alpha E)

where S_c sums the histograms of domain c and T their totals (k per token). A document's routing
log-likelihood under domain c treats its choices as draws from P_c, layers combined by summing:

    LL(i, c) = sum_l sum_e h(i, l, e) log P_c(l, e)

The document is routed to `argmax_c LL(i, c)` and its suspicion is the log-likelihood ratio of the best
other domain against its tag, per token: `(max_{c != d_i} LL(i, c) - LL(i, d_i)) / n_i` (nats per token,
summed over layers). Positive: its routing fits another domain better than its own tag. Per-token
normalisation keeps long documents from looking suspicious merely for being long; `llr_total` keeps the
evidence. This is multinomial naive Bayes over expert choices with a Jeffreys prior (alpha = 0.5).
"""

from __future__ import annotations

import itertools
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from probes.data import iter_batches
from probes.discover import discover_routers
from probes.run import prepare_model, probe_inputs, routed_batches
from tracemix.errors import DataError

ALPHA = 0.5  # Jeffreys prior on each domain's expert distribution
_TIE = 1e-9  # nats: log-likelihood differences below this are rounding, not evidence


@dataclass
class DocumentRouting:
    """Per-document expert histograms: ids [N], domains [N] (index into `domain_names`), hist [N, L, E]."""

    ids: list[str]
    domains: np.ndarray
    hist: np.ndarray
    domain_names: list[str]
    layers: list[int]
    top_k: int

    @property
    def n_tokens(self) -> np.ndarray:
        """Routed tokens per document (k choices per token in every layer)."""
        return self.hist[:, 0].sum(-1) // self.top_k


def batch_histograms(indices: torch.Tensor, mask: torch.Tensor, num_experts: int) -> torch.Tensor:
    """[B, L, E] expert counts per sequence of a batch: indices [L, B*S, k], mask [B, S] (0 on padding)."""
    n_l, _, k = indices.shape
    b, s = mask.shape
    keep = mask.to(indices.device).reshape(-1).bool().nonzero()[:, 0]  # [T]
    row = torch.arange(b, device=indices.device).repeat_interleave(s)[keep]  # [T] sequence of each token
    idx = indices.index_select(1, keep).long()  # [L, T, k]
    layer = torch.arange(n_l, device=indices.device)[:, None, None]  # [L, 1, 1]
    flat = ((row[None, :, None] * n_l + layer) * num_experts + idx).reshape(-1)  # [L*T*k]
    hist = torch.zeros(b * n_l * num_experts, dtype=torch.int64, device=indices.device)
    hist.index_add_(0, flat, torch.ones_like(flat))
    return hist.view(b, n_l, num_experts)


def document_routing(model, batches, domain_names: list[str], progress: bool = True) -> DocumentRouting:
    """Run `batches` (ProbeBatch, windows of documents) through `model`; sum each document's windows."""
    sites = discover_routers(model)
    n_e = sites[0].num_experts
    row_of: dict[tuple[str, str], int] = {}
    ids: list[str] = []
    doms: list[int] = []
    chunks: list[np.ndarray] = []  # per-document histograms, appended in first-seen order
    domain_index = {d: i for i, d in enumerate(domain_names)}
    for batch, _, indices, _, _ in routed_batches(model, batches, sites, progress=progress, desc="audit"):
        hist = batch_histograms(indices, batch.attention_mask, n_e).cpu().numpy().astype(np.int32)
        for r, doc_id in enumerate(batch.doc_ids):
            key = (batch.domain, doc_id)
            if key not in row_of:  # a document's windows are consecutive but may straddle batches
                row_of[key] = len(ids)
                ids.append(doc_id)
                doms.append(domain_index[batch.domain])
                chunks.append(np.zeros_like(hist[r]))
            chunks[row_of[key]] += hist[r]
    if not ids:
        raise DataError("no document produced a routed token; are the texts empty?")
    return DocumentRouting(ids, np.asarray(doms), np.stack(chunks), list(domain_names),
                           [s.layer for s in sites], sites[0].top_k)


def log_likelihoods(routing: DocumentRouting, alpha: float = ALPHA, chunk: int = 2048) -> np.ndarray:
    """LL[i, c, l] = sum_e h(i,l,e) log P_c(l,e), own domain left out (see the module docstring).

    Domains without documents get -inf (nothing is routed to an empty profile). Documents are scored
    `chunk` at a time, so the float copies stay small whatever the number of documents."""
    n_d, n_e = len(routing.domain_names), routing.hist.shape[-1]
    sums = np.stack([routing.hist[routing.domains == d].sum(0, dtype=np.float64)
                     for d in range(n_d)])  # [D, L, E] summed histograms per domain
    log_p = np.log(sums + alpha) - np.log(sums.sum(-1, keepdims=True) + alpha * n_e)  # [D, L, E]
    empty = np.bincount(routing.domains, minlength=n_d) == 0
    ll = np.empty((len(routing.hist), n_d, sums.shape[1]))  # [N, D, L]
    for start in range(0, len(routing.hist), chunk):
        h = routing.hist[start:start + chunk].astype(np.float64)  # [n, L, E]
        dom = routing.domains[start:start + chunk]
        part = np.einsum("nle,dle->ndl", h, log_p)
        own = sums[dom] - h  # [n, L, E] the tag's profile without the document
        own_log_p = np.log(own + alpha) - np.log(own.sum(-1, keepdims=True) + alpha * n_e)
        part[np.arange(len(h)), dom] = (h * own_log_p).sum(-1)
        part[:, empty] = -np.inf
        ll[start:start + chunk] = part
    return ll


def _margin(ll: np.ndarray, own: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(best other domain - own domain, best other domain index) over axis 1 of ll [N, D, ...]."""
    n = np.arange(ll.shape[0])
    others = ll.copy()
    others[n, own] = -np.inf
    best = others.argmax(1)
    return np.take_along_axis(others, best[:, None], 1)[:, 0] - ll[n, own], best


def score_documents(routing: DocumentRouting, alpha: float = ALPHA) -> dict[str, np.ndarray]:
    """Per document: routed domain, suspicion (nats/token), total LLR, per-layer margins and routed domains."""
    if len(set(routing.domains.tolist())) < 2:
        raise DataError(f"the audit compares domains, but every document is tagged "
                        f"'{routing.domain_names[int(routing.domains[0])]}'; give data with two or more domains.")
    ll = log_likelihoods(routing, alpha)  # [N, D, L]
    n_tok = np.maximum(routing.n_tokens, 1).astype(np.float64)
    own = routing.domains
    llr_total, best = _margin(ll.sum(-1), own)
    layer_llr, layer_best = _margin(ll, own)  # [N, L]
    # a tie (up to rounding) keeps the tag: a document is routed elsewhere only when another domain fits better
    return {"routed": np.where(llr_total > _TIE, best, own), "suspicion": llr_total / n_tok,
            "llr_total": llr_total, "layer_margin": layer_llr / n_tok[:, None],
            "layer_routed": np.where(layer_llr > _TIE, layer_best, own[:, None]), "n_tokens": routing.n_tokens}


def audit(model, data, output, *, tokenizer=None, seq_len: int = 256, batch_size: int = 8,
          max_tokens_per_document: int = 512, max_documents_per_domain: int | None = None,
          device: str | None = None, device_map: str | None = None, alpha: float = ALPHA, top: int = 20,
          export: bool = False, export_top: int | None = None, domains: list[str] | None = None,
          progress: bool = True) -> dict:
    """Audit the domain tags of `data` by `model`'s routing; writes audit.parquet, report.md and plots to
    `output` (and, with `export`, exclude/suspicious_ids.parquet and relabel.jsonl). Returns the summary."""
    from probes.audit_report import write_audit

    if min(seq_len, batch_size, max_tokens_per_document) <= 0 or (max_documents_per_domain or 1) <= 0:
        raise DataError("--seq-len, --batch-size, --max-tokens-per-document and --max-documents-per-domain "
                        "must be positive.")
    if alpha <= 0:
        raise DataError(f"--alpha must be positive (got {alpha}); 0.5 is the Jeffreys prior.")
    docs, model_name, parents = probe_inputs(model, data, domains=domains)
    model, tok, pad_id = prepare_model(model, tokenizer, device, device_map)
    capped = {d: (itertools.islice(stream, max_documents_per_domain) if max_documents_per_domain else stream)
              for d, stream in docs.items()}
    batches = iter_batches(capped, tok, sys.maxsize, batch_size, seq_len, pad_id,
                           per_document=max_tokens_per_document)
    routing = document_routing(model, batches, list(docs), progress=progress)
    scores = score_documents(routing, alpha)
    config = {"model": model_name, "data": [str(d) for d in (data if isinstance(data, list) else [data])],
              "seq_len": seq_len,
              "batch_size": batch_size, "max_tokens_per_document": max_tokens_per_document,
              "max_documents_per_domain": max_documents_per_domain, "alpha": alpha, "domains": list(docs),
              "family": getattr(model.config, "model_type", None), "score": "per-token routing LLR, best other "
              "domain vs tag, leave-one-out profiles, layers summed"}
    return write_audit(Path(output), routing, scores, docs, config, parents, top=top, export=export,
                       export_top=export_top)
