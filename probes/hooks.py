"""Forward hooks that read each router's own decision: top-k indices, their weights, the logits.

Indices are taken from the router's output, never recomputed as `topk(logits)`: a bias-corrected router
(DeepSeek-V3 adds `e_score_correction_bias` and restricts choices to top groups) picks experts that
`topk(logits)` would not. The hook only keeps references; all counting happens once per batch, vectorised
over layers, so probing costs a few tensor ops per batch rather than per layer.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from probes.discover import RouterSite
from tracemix.errors import TracemixError


@dataclass
class RouterOutput:
    indices: torch.Tensor  # [T, k] int64, the router's chosen experts
    weights: torch.Tensor | None  # [T, k] gate weights of those experts (None if the router gives none)
    logits: torch.Tensor | None  # [T, E] router logits (None if the router gives none)


def _tuple_output(tensors: list[torch.Tensor], site: RouterSite):
    """(logits [T, E], weights [T, k], indices [T, k]) in any order: told apart by dtype and trailing size."""
    indices = weights = logits = None
    for t in tensors:
        if not t.is_floating_point():
            if indices is None and t.shape[-1] == site.top_k:
                indices = t
        elif logits is None and t.shape[-1] == site.num_experts:
            logits = t
        elif weights is None and t.shape[-1] == site.top_k:
            weights = t
    return indices, weights, logits


def _scores_output(tensors: list[torch.Tensor], site: RouterSite):
    """Llama-4: (scores [T, E], logits [T, E]); the chosen experts are exactly the non-zero scores."""
    if len(tensors) < 2 or tensors[0].shape[-1] != site.num_experts:
        return None, None, None
    scores = tensors[0].reshape(-1, site.num_experts)
    chosen = scores != 0  # [T, E]
    per_token = chosen.sum(-1)
    if bool((per_token != site.top_k).any()):
        bad = int((per_token != site.top_k).nonzero()[0, 0])
        raise TracemixError(f"router '{site.name}': token {bad} has {int(per_token[bad])} non-zero scores, not "
                            f"k = {site.top_k}; a chosen expert's score underflowed to 0, so its choice cannot be "
                            "read (probe in float32: --dtype float32).")
    indices = chosen.nonzero()[:, 1].reshape(-1, site.top_k)  # row-major: each token's experts, ascending
    return indices, scores.gather(-1, indices), tensors[1]


def _sorted_output(tensors: list[torch.Tensor], expert_size, site: RouterSite):
    """JetMoE: the top-k choices grouped by expert (`index_sorted_experts` into the flat [T*k] choices,
    `batch_gates` in that order, `expert_size` choices per expert); put back in token order."""
    if len(tensors) < 3 or not isinstance(expert_size, list | tuple) or len(expert_size) != site.num_experts:
        return None, None, None
    order, gates = tensors[0], tensors[2]
    sizes = torch.as_tensor(expert_size, device=order.device)
    expert_of_sorted = torch.repeat_interleave(torch.arange(site.num_experts, device=order.device), sizes)
    flat = torch.empty_like(order).scatter_(0, order, expert_of_sorted)  # [T*k] in token order
    weights = torch.empty_like(gates).scatter_(0, order, gates)
    logits = tensors[3] if len(tensors) > 3 and tensors[3].shape[-1] == site.num_experts else None
    return flat.reshape(-1, site.top_k), weights.reshape(-1, site.top_k), logits


def parse_router_output(output, site: RouterSite) -> RouterOutput:
    """Read the router's own choice from its output (or, for `experts_input`, the experts' inputs)."""
    items = list(output) if isinstance(output, tuple | list) else [output]
    tensors = [t for t in items if isinstance(t, torch.Tensor)]
    if site.read == "scores":
        indices, weights, logits = _scores_output(tensors, site)
    elif site.read == "sorted":
        indices, weights, logits = _sorted_output(tensors, next((x for x in items if isinstance(x, list)), None), site)
    elif site.read == "experts_input":  # (hidden, top_k_index, top_k_weights): logits come from the router
        indices, weights, _ = _tuple_output(tensors[1:], site)
        logits = None
    else:
        indices, weights, logits = _tuple_output(tensors, site)
    if indices is None:
        raise TracemixError(
            f"router '{site.name}' ({type(site.module).__name__}) returned no top-k expert indices "
            f"(got {[tuple(t.shape) for t in tensors]}, read as '{site.read}'); the probe reads the router's own "
            "choice and will not recompute it from logits. Use a transformers version whose router returns "
            "(logits, weights, indices), or add the family to tracemix.moe_families.")
    k, e = site.top_k, site.num_experts
    return RouterOutput(
        indices=indices.detach().reshape(-1, k),
        weights=None if weights is None else weights.detach().reshape(-1, k),
        logits=None if logits is None else logits.detach().reshape(-1, e),
    )


class RouterHooks:
    """Context manager: hooks every router, collects one RouterOutput per layer per forward.

    Every hook is removed on exit, also when the forward raises.
    """

    def __init__(self, sites: list[RouterSite]):
        self.sites = sites
        self.outputs: dict[int, RouterOutput] = {}
        self._logits: dict[int, torch.Tensor] = {}  # router logits seen before the experts ran (DBRX)
        self._handles: list = []

    def _make_hook(self, site: RouterSite):
        def hook(module, args, output):
            out = parse_router_output(output, site)
            logits = self._logits.pop(site.layer, None)
            if logits is not None and out.logits is None:
                out.logits = logits.detach().reshape(-1, site.num_experts)
            self.outputs[site.layer] = out

        def pre_hook(module, args, kwargs):  # the experts' inputs carry the block's choice (DBRX)
            hook(module, None, tuple(args) + tuple(kwargs.values()))

        return hook, pre_hook

    def _make_logits_hook(self, site: RouterSite):
        def hook(module, args, output):
            logits = output[0] if isinstance(output, tuple | list) else output
            if isinstance(logits, torch.Tensor) and logits.shape[-1] == site.num_experts:
                self._logits[site.layer] = logits

        return hook

    def __enter__(self) -> RouterHooks:
        try:
            for site in self.sites:
                hook, pre_hook = self._make_hook(site)
                if site.read == "experts_input":
                    self._handles.append(site.module.register_forward_pre_hook(pre_hook, with_kwargs=True))
                else:
                    self._handles.append(site.module.register_forward_hook(hook))
                if site.logits_module is not None:
                    self._handles.append(site.logits_module.register_forward_hook(self._make_logits_hook(site)))
        except BaseException:
            self.remove()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.remove()

    def remove(self) -> None:
        while self._handles:
            self._handles.pop().remove()
        self.outputs.clear()
        self._logits.clear()

    def take(self, n_tokens: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor | None,
                                                                 torch.Tensor | None]:
        """Stack this forward's outputs over layers: indices [L, T, k], weights [L, T, k], logits [L, T, E]."""
        missing = [s.name for s in self.sites if s.layer not in self.outputs]
        if missing:
            raise TracemixError(f"routers {missing} did not run in the forward pass; is the model complete?")
        outs = [self.outputs[s.layer] for s in self.sites]
        self.outputs = {}
        for site, out in zip(self.sites, outs, strict=True):
            if out.indices.shape[0] != n_tokens:
                raise TracemixError(f"router '{site.name}' saw {out.indices.shape[0]} tokens but the batch has "
                                    f"{n_tokens}; token-dropping or reordering routers are not supported.")
        indices = torch.stack([o.indices.to(device, non_blocking=True) for o in outs])
        n_e = self.sites[0].num_experts
        if indices.numel() and not bool(((indices >= 0) & (indices < n_e)).all()):  # one check per batch
            raise TracemixError(f"a router chose expert {int(indices.max())} but the model has {n_e} experts; "
                                "the family's expert count in tracemix.moe_families is wrong.")
        weights = None if any(o.weights is None for o in outs) else torch.stack(
            [o.weights.to(device, non_blocking=True) for o in outs])
        logits = None if any(o.logits is None for o in outs) else torch.stack(
            [o.logits.to(device, non_blocking=True) for o in outs])
        return indices, weights, logits
