"""Per-domain expert load during MoE training, measured by the routing probe's own code.

Every N steps a fixed sample of documents per domain is run through the model (no grad) with the probe's
router hooks (`probes.discover` finds the routers, `probes.hooks` reads each router's own top-k indices and
always removes its hooks, `probes.counts` aggregates them without padding), so the load logged during
training is exactly what `tracemix probe` reports for that checkpoint: `f(l,d,e) = N_k(e,d) / (k N_d)`,
summing to 1 over experts. Rows go to `expert_load.jsonl`: {step, domain, layer, n_tokens, load}.
"""

from __future__ import annotations

import json
from pathlib import Path

from transformers import TrainerCallback


class ExpertLoadCallback(TrainerCallback):
    """Every `every` optimizer steps, measure per-domain expert load on `samples` (domain -> texts).

    Each text is truncated to `max_length` tokens; texts of a domain are batched `batch_size` at a time
    (right-padded, padding never counted). Every process measures (a sharded model needs all ranks in the
    forward); only the main process writes.
    """

    def __init__(self, samples: dict[str, list[str]], tokenizer, every: int, path: str | Path,
                 max_length: int = 256, batch_size: int = 8):
        if every < 1 or max_length < 1 or batch_size < 1:
            raise ValueError(f"every, max_length and batch_size must be positive (got {every}, {max_length}, "
                             f"{batch_size})")
        self.samples, self.tokenizer, self.every = samples, tokenizer, every
        self.path, self.max_length, self.batch_size = Path(path), max_length, batch_size

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if state.global_step % self.every == 0:
            self.record(model, state.global_step, state.is_world_process_zero)

    def _batches(self):
        """ProbeBatch per `batch_size` texts of each domain: the probe's own collation (mask 0 on padding)."""
        from probes.data import collate

        tok = self.tokenizer
        pad_id = tok.pad_token_id if tok.pad_token_id is not None else (tok.eos_token_id or 0)
        for domain, texts in self.samples.items():
            for start in range(0, len(texts), self.batch_size):
                chunk = texts[start:start + self.batch_size]
                encoded = tok(chunk, truncation=True, max_length=self.max_length)["input_ids"]
                windows = [(f"{domain}:{start + i}", 0, ids) for i, ids in enumerate(encoded) if ids]
                if windows:
                    yield collate(domain, windows, pad_id)

    def measure(self, model) -> dict[str, dict[int, tuple[int, list[float]]]]:
        """domain -> layer -> (n_tokens, load per expert); (layer, domain) pairs without tokens are left out.

        Raises TracemixError when the model has no MoE router. The model's train/eval mode is restored.
        """
        from probes.metrics import load
        from probes.run import probe_counts

        was_training = model.training
        model.eval()  # no dropout; also keeps gradient checkpointing out of the measuring forward
        try:
            counts, sites = probe_counts(model, self._batches(), list(self.samples), sample_tokens=0,
                                         progress=False)
        finally:
            model.train(was_training)
        n_tokens = counts.n_tokens.cpu().numpy()
        f = load(counts.selected.cpu().numpy(), n_tokens, counts.top_k)  # [L, D, E]
        result: dict[str, dict[int, tuple[int, list[float]]]] = {}
        for d, domain in enumerate(counts.domains):
            layers = {layer: (int(n_tokens[i, d]), f[i, d].tolist())
                      for i, layer in enumerate(counts.layers) if n_tokens[i, d] > 0}
            if layers:
                result[domain] = layers
        return result

    def record(self, model, step: int, write: bool = True) -> None:
        loads = self.measure(model)  # every process runs it: sharded models need all ranks in the forward
        if not write:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            for domain, layers in loads.items():
                for layer, (n_tokens, share) in layers.items():
                    f.write(json.dumps({"step": step, "domain": domain, "layer": layer, "n_tokens": n_tokens,
                                        "load": [round(x, 6) for x in share]}) + "\n")


def domain_samples(ds, per_domain: int) -> dict[str, list[str]]:
    """The first `per_domain` texts of each domain of a tagged mixture (deterministic)."""
    if "domain" not in ds.column_names or "text" not in ds.column_names:
        return {}
    out: dict[str, list[str]] = {}
    for row in ds.select_columns(["domain", "text"]):
        bucket = out.setdefault(row["domain"], [])
        if len(bucket) < per_domain and row["text"]:
            bucket.append(row["text"])
    return dict(sorted(out.items()))
