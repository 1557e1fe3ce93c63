"""`run_probe`: load a checkpoint, hook its routers, stream the tagged data through it, write the report."""

from __future__ import annotations

from pathlib import Path

import torch

from probes.counts import RoutingCounts
from probes.data import iter_batches, read_documents
from probes.discover import discover_routers
from probes.hooks import RouterHooks
from tracemix.artifacts import input_ref
from tracemix.checkpoint import load_model, load_tokenizer, resolve_device
from tracemix.errors import DataError, TracemixError


def routed_batches(model, batches, sites, total_tokens: int | None = None, progress: bool = True,
                   desc: str = "probe"):
    """Run each ProbeBatch through the decoder stack with `sites` hooked; yield (batch, device, indices
    [L, B*S, k], weights [L, B*S, k] | None, logits [L, B*S, E] | None). Hooks go when the loop ends."""
    from tqdm.auto import tqdm

    first = sites[0].module
    device = next(iter(first.parameters()), next(model.parameters())).device
    base = getattr(model, "base_model", model)  # the decoder stack: routing never needs the LM head
    in_device = model.get_input_embeddings().weight.device
    bar = tqdm(total=total_tokens, desc=desc, unit="tok", unit_scale=True, disable=not progress)
    with RouterHooks(sites) as hooks, torch.inference_mode(), bar:
        for batch in batches:
            mask = batch.attention_mask
            base(input_ids=batch.input_ids.to(in_device), attention_mask=mask.to(in_device), use_cache=False)
            yield (batch, device, *hooks.take(mask.numel(), device))
            bar.update(int(mask.sum()))


def probe_counts(model, batches, domains: list[str], total_tokens: int | None = None,
                 sample_tokens: int = 2048, progress: bool = True) -> tuple[RoutingCounts, list]:
    """Run `batches` (ProbeBatch) through `model` with router hooks; returns the counts and router sites."""
    sites = discover_routers(model)
    first = sites[0].module
    device = next(iter(first.parameters()), next(model.parameters())).device
    counts = RoutingCounts([s.layer for s in sites], list(domains), sites[0].num_experts,
                           sites[0].top_k, device=device, sample_tokens=sample_tokens)
    domain_index = {d: i for i, d in enumerate(counts.domains)}
    for batch, _, indices, weights, logits in routed_batches(model, batches, sites, total_tokens, progress):
        mask = batch.attention_mask
        dom = torch.full((mask.shape[0],), domain_index[batch.domain], dtype=torch.long)
        counts.update(indices, weights, logits, mask, dom, scoring=sites[0].scoring,
                      input_ids=batch.input_ids, doc_ids=batch.doc_ids, offsets=batch.offsets)
    return counts, sites


def model_name_of(model) -> str:
    """The name a run records for `model`: its path, else its `name_or_path`, else its class."""
    return str(model) if isinstance(model, str | Path) else str(
        getattr(model, "name_or_path", "") or type(model).__name__)


def prepare_model(model, tokenizer=None, device: str | None = None, device_map: str | None = None):
    """(model in eval mode, tokenizer, pad id) from a checkpoint path or a loaded model; a model without
    routers fails here, before any data is tokenized."""
    model_name = model_name_of(model)
    if isinstance(model, str | Path):
        model = load_model(model, device=device, device_map=device_map)
    elif device is not None and device_map is None:
        model.to(resolve_device(device))
    model.eval()
    discover_routers(model)
    tok = tokenizer if tokenizer is not None and not isinstance(tokenizer, str | Path) else load_tokenizer(
        tokenizer or model_name)
    pad_id = tok.pad_token_id if tok.pad_token_id is not None else (tok.eos_token_id or 0)
    return model, tok, pad_id


def probe_inputs(model, data, shard: tuple[int, int] = (0, 1), domains: list[str] | None = None):
    """(documents by domain, model name, manifest parents), all before a checkpoint is loaded: bad data,
    an unknown domain or an unfinished training run fail in seconds."""
    docs = read_documents(data, shard)  # cheap: only the domain column is read
    if domains:
        unknown = [d for d in domains if d not in docs]
        if unknown:
            raise DataError(f"domain(s) {unknown} not in '{data}'; it has {list(docs)}.")
        docs = {d: docs[d] for d in docs if d in domains}
    model_name = model_name_of(model)
    parents = [input_ref(model_name, "checkpoint", "model"),
               *(input_ref(d, ("tagged", "mixture")) for d in (data if isinstance(data, list) else [data]))]
    return docs, model_name, parents


def run_probe(model, data, output, *, tokenizer=None, max_tokens_per_domain: int = 100_000,
              batch_size: int = 8, seq_len: int = 512, device: str | None = None,
              device_map: str | None = None, sample_tokens: int = 2048, domains: list[str] | None = None,
              shard: tuple[int, int] = (0, 1), progress: bool = True) -> dict:
    """Probe the routers of `model` (checkpoint path or loaded model) on tagged `data`; write to `output`.

    Writes routing.parquet, counts.npz, tokens.npz, metrics.json, report.md, heatmaps/ and
    jsd_by_layer.png; returns the metrics dict (as in metrics.json).
    """
    from probes.report import write_run

    if max_tokens_per_domain <= 0 or batch_size <= 0 or seq_len <= 0:
        raise TracemixError("--max-tokens-per-domain, --batch-size and --seq-len must be positive.")
    if not 0 <= shard[0] < shard[1]:
        raise TracemixError(f"--shard {shard[0]}/{shard[1]}: give I/N with 0 <= I < N, e.g. --shard 0/4.")
    docs, model_name, parents = probe_inputs(model, data, shard, domains)
    model, tok, pad_id = prepare_model(model, tokenizer, device, device_map)
    batches = iter_batches(docs, tok, max_tokens_per_domain, batch_size, seq_len, pad_id)
    counts, sites = probe_counts(model, batches, list(docs), total_tokens=max_tokens_per_domain * len(docs),
                                 sample_tokens=sample_tokens, progress=progress)
    if int(counts.n_tokens.sum()) == 0:
        raise TracemixError(f"the tokenizer produced no tokens from '{data}'; are the texts empty?")
    config = {"model": model_name, "data": [str(d) for d in (data if isinstance(data, list) else [data])],
              "max_tokens_per_domain": max_tokens_per_domain, "batch_size": batch_size, "seq_len": seq_len,
              "sample_tokens": sample_tokens, "domains": list(docs), "shard": list(shard),
              "family": getattr(model.config, "model_type", None),
              "routers": [s.name for s in sites], "router_source": sites[0].source, "scoring": sites[0].scoring}
    return write_run(output, model_name, counts, config, parents)
