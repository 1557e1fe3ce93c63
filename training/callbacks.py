"""Per-domain expert load during MoE training, from the model's own router outputs.

Every N steps a fixed sample of documents per domain is run through the model (no grad) and each MoE
layer's chosen experts are counted. Load `f(l,d,e) = N_k(e,d) / (k * N_d)` (DESIGN.md; sums to 1 over
experts). Indices come from the router module's own output, never from `topk(logits)`, which is wrong
for bias-corrected routers. Rows go to `expert_load.jsonl`: {step, domain, layer, n_tokens, load}.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from transformers import TrainerCallback


def router_modules(model) -> list[tuple[str, Any]]:
    """The top-k router of each MoE layer: modules whose output ends with an integer (tokens, k) index tensor.

    transformers' MoE families name them `*TopKRouter` (Qwen3-MoE, OLMoE, Mixtral, ...).
    """
    return [(name, m) for name, m in model.named_modules() if type(m).__name__.endswith("TopKRouter")]


class ExpertLoadCallback(TrainerCallback):
    def __init__(self, samples: dict[str, list[str]], tokenizer, every: int, path: str | Path,
                 max_length: int = 256):
        self.samples, self.tokenizer, self.every = samples, tokenizer, every
        self.path, self.max_length = Path(path), max_length

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if state.global_step % self.every == 0:
            self.record(model, state.global_step, state.is_world_process_zero)

    def measure(self, model) -> dict[str, dict[int, tuple[int, list[float]]]]:
        """domain -> layer -> (n_tokens, load per expert)."""
        import torch

        routers = router_modules(model)
        if not routers:
            raise ValueError(f"{type(model).__name__} has no top-k router modules to measure expert load on")
        picked: list[torch.Tensor] = []

        def hook(module, inputs, output):
            picked.append(output[-1].detach().reshape(-1, output[-1].shape[-1]))  # (tokens, k)

        handles = [m.register_forward_hook(hook) for _, m in routers]
        was_training = model.training
        model.eval()
        result: dict[str, dict[int, tuple[int, list[float]]]] = {}
        try:
            device = next(model.parameters()).device
            with torch.no_grad():
                for domain, texts in self.samples.items():
                    counts: dict[int, torch.Tensor] = {}
                    for text in texts:
                        ids = self.tokenizer(text, truncation=True, max_length=self.max_length,
                                             return_tensors="pt")["input_ids"].to(device)
                        picked.clear()
                        model(input_ids=ids, use_cache=False)
                        for layer, idx in enumerate(picked):
                            n_experts = routers[layer][1].weight.shape[0]
                            c = torch.bincount(idx.flatten().cpu(), minlength=n_experts)
                            counts[layer] = counts.get(layer, 0) + c
                    k = picked[0].shape[-1] if picked else 1
                    result[domain] = {layer: (int(c.sum()) // k, (c.double() / c.sum()).tolist())
                                      for layer, c in counts.items()}
        finally:
            for h in handles:
                h.remove()
            model.train(was_training)
        return result

    def record(self, model, step: int, write: bool = True) -> None:
        loads = self.measure(model)  # every process runs it: sharded models need all ranks in the forward
        if not write:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            for domain, layers in loads.items():
                for layer, (n_tokens, load) in layers.items():
                    f.write(json.dumps({"step": step, "domain": domain, "layer": layer, "n_tokens": n_tokens,
                                        "load": [round(x, 6) for x in load]}) + "\n")


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
