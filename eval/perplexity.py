"""Held-out loss by domain: how well a checkpoint models each domain of a tagged corpus.

Reasoning accuracy of a small model trained for a few steps sits at zero; its loss on each domain does
not, so data ablations at small scale read this first. The documents come from a tagged folder in the
same deterministic, domain-batched order the routing probes use; documents the model was trained on
(`exclude_ids`, e.g. the ids of its mixture) are skipped so the loss is held out.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from tracemix.atomic import write_json, write_text
from tracemix.errors import DataError
from tracemix.provenance import provenance


def _mixture_ids(folder: str | Path) -> set[str]:
    """Ids of the documents in a mixture folder (the training data to hold out)."""
    import pyarrow.parquet as pq

    ids: set[str] = set()
    for shard in sorted(Path(folder).glob("*.parquet")):
        ids.update(str(i) for i in pq.read_table(shard, columns=["id"]).column("id").to_pylist())
    return ids


def domain_loss(model, data, output: str | Path | None = None, *, tokenizer=None, exclude: str | Path | None = None,
                max_tokens_per_domain: int = 20_000, seq_len: int = 256, batch_size: int = 8,
                device: str | None = None, progress: bool = True) -> dict[str, Any]:
    """Mean next-token loss (nats) and perplexity per domain of `data` (a tagged or mixture folder).

    `exclude` is a mixture folder whose document ids are skipped (the model's training data).
    Writes `perplexity.json` and `report.md` to `output` when given; returns the same dict.
    """
    import torch
    from tqdm.auto import tqdm

    from probes.data import iter_batches, read_documents
    from tracemix.checkpoint import load_model, load_tokenizer

    docs = read_documents(data)
    held_out = _mixture_ids(exclude) if exclude else set()
    if held_out:
        docs = {d: (doc for doc in stream if doc[0] not in held_out) for d, stream in docs.items()}
    model_name = str(model)
    lm = load_model(model, device=device) if isinstance(model, str | Path) else model.eval()
    if getattr(lm.config, "output_router_logits", False):
        lm.config.output_router_logits = False  # the aux loss is a training term, not part of the LM loss
    tok = tokenizer or load_tokenizer(model_name)
    pad_id = tok.pad_token_id if tok.pad_token_id is not None else (tok.eos_token_id or 0)
    in_device = lm.get_input_embeddings().weight.device
    nll: dict[str, float] = {}
    count: dict[str, int] = {}
    bar = tqdm(total=max_tokens_per_domain * len(docs), desc="held-out loss", unit="tok", unit_scale=True,
               disable=not progress)
    with torch.inference_mode(), bar:
        for batch in iter_batches(docs, tok, max_tokens_per_domain, batch_size, seq_len, pad_id):
            ids, mask = batch.input_ids.to(in_device), batch.attention_mask.to(in_device)
            logits = lm(input_ids=ids, attention_mask=mask, use_cache=False).logits.float()  # [B, S, V]
            target_mask = mask[:, 1:].bool()  # predict token t+1 from tokens <= t; padding predicts nothing
            losses = torch.nn.functional.cross_entropy(
                logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1), reduction="none")
            nll[batch.domain] = nll.get(batch.domain, 0.0) + float(losses[target_mask.reshape(-1)].sum())
            count[batch.domain] = count.get(batch.domain, 0) + int(target_mask.sum())
            bar.update(int(mask.sum()))
    if not count:
        raise DataError(f"no held-out tokens in '{data}' (all documents excluded or empty).")
    domains = {d: {"loss": round(nll[d] / count[d], 6), "perplexity": round(math.exp(nll[d] / count[d]), 4),
                   "n_tokens": count[d]} for d in count}
    config = {"model": model_name, "data": str(data), "exclude": str(exclude) if exclude else None,
              "n_excluded_ids": len(held_out), "max_tokens_per_domain": max_tokens_per_domain,
              "seq_len": seq_len, "batch_size": batch_size}
    result = {"model": model_name, "domains": domains,
              "mean_loss": round(sum(v["loss"] for v in domains.values()) / len(domains), 6),
              "manifest": provenance(config)}
    if output is not None:
        out = Path(output)
        write_json(out / "perplexity.json", result)
        rows = [f"| {d} | {v['n_tokens']:,} | {v['loss']:.4f} | {v['perplexity']:.2f} |" for d, v in domains.items()]
        write_text(out / "report.md", "\n".join([
            f"# Held-out loss by domain: {model_name}", "",
            f"Data `{data}`" + (f", excluding the {len(held_out):,} documents of `{exclude}`." if held_out else "."),
            "", "| domain | tokens | loss (nats/token) | perplexity |", "|---|---|---|---|", *rows, ""]))
    return result
