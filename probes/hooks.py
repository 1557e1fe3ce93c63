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


def parse_router_output(output, site: RouterSite) -> RouterOutput:
    """Split a router's output tuple into indices / weights / logits by dtype and trailing size."""
    tensors = list(output) if isinstance(output, tuple | list) else [output]
    indices = weights = logits = None
    for t in tensors:
        if not isinstance(t, torch.Tensor):
            continue
        if not t.is_floating_point():
            if indices is None and t.shape[-1] == site.top_k:
                indices = t
        elif logits is None and t.shape[-1] == site.num_experts:
            logits = t
        elif weights is None and t.shape[-1] == site.top_k:
            weights = t
    if indices is None:
        raise TracemixError(
            f"router '{site.name}' ({type(site.module).__name__}) returned no top-k expert indices "
            f"(got {[tuple(t.shape) for t in tensors if isinstance(t, torch.Tensor)]}); the probe reads the "
            "router's own choice and will not recompute it from logits. Use a transformers version whose "
            "router returns (logits, weights, indices).")
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
        self._handles: list = []

    def _make_hook(self, site: RouterSite):
        def hook(module, args, output):
            self.outputs[site.layer] = parse_router_output(output, site)

        return hook

    def __enter__(self) -> RouterHooks:
        try:
            for site in self.sites:
                self._handles.append(site.module.register_forward_hook(self._make_hook(site)))
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
        weights = None if any(o.weights is None for o in outs) else torch.stack(
            [o.weights.to(device, non_blocking=True) for o in outs])
        logits = None if any(o.logits is None for o in outs) else torch.stack(
            [o.logits.to(device, non_blocking=True) for o in outs])
        return indices, weights, logits
