"""Find the routers of a Mixture-of-Experts model.

Routers are found the way transformers itself records `router_logits`: every `PreTrainedModel` in the
module tree declares `_can_record_outputs`, whose "router_logits" entry names the router class (an
`OutputRecorder`, a class, or a class-name suffix). Models without that metadata fall back to module
structure: a module with integer `top_k` and expert-count attributes and an (experts x hidden) weight.
For a family of the one MoE family table (`tracemix.moe_families`) the table says where the router lives
in a decoder layer (tests check it agrees with the recorded metadata), how many experts it has, k, and how
to read its choice; the router must report its own choice (checked in hooks.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from tracemix.errors import TracemixError
from tracemix.moe_families import MoEFamily, family_of, supported_text

_EXPERT_COUNT_ATTRS = ("num_experts", "num_local_experts", "n_routed_experts")
_LAYER_RE = re.compile(r"(?:^|\.)(?:layers|layer|h|blocks|block)\.(\d+)(?:\.|$)")
_IN_LAYER_RE = re.compile(r"(?:^|\.)(?:layers|layer|h|blocks|block)\.\d+\.(.+)$")  # path inside a layer


@dataclass(frozen=True)
class RouterSite:
    """One router: its decoder layer, module path, expert count E, experts per token k, scoring function."""

    layer: int
    name: str
    num_experts: int
    top_k: int
    scoring: str  # "softmax" | "sigmoid": how router logits become probabilities (soft load)
    source: str  # "table" (tracemix.moe_families) | "recorded" (the model's `_can_record_outputs`) | "structure"
    module: Any = field(compare=False, repr=False)  # the hooked module (DBRX: the experts the block feeds)
    read: str = "tuple"  # how the hook reads the choice: a `tracemix.moe_families.READ_MODES` entry
    logits_module: Any = field(default=None, compare=False, repr=False)  # router whose output is the logits


def _family(model) -> str:
    config = getattr(model, "config", None)
    return str(getattr(config, "model_type", type(model).__name__))


def _first_int(objs, names) -> int | None:
    for obj in objs:
        for name in names:
            value = getattr(obj, name, None)
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                return value
    return None


def _configs(model):
    config = getattr(model, "config", None)
    if config is None:
        return []
    out = [config]
    if hasattr(config, "get_text_config"):
        text = config.get_text_config()
        if text is not config:
            out.append(text)
    return out


def _recorder_matchers(model) -> list[tuple[type | None, str | None, str | None]]:
    """(target_class, class_name suffix, layer_name) for every 'router_logits' recorder in the tree."""
    from transformers import PreTrainedModel

    matchers = []
    for sub in model.modules():
        if not isinstance(sub, PreTrainedModel):
            continue
        specs = (getattr(type(sub), "_can_record_outputs", None) or {}).get("router_logits")
        if specs is None:
            continue
        for spec in specs if isinstance(specs, list) else [specs]:
            if isinstance(spec, str):
                matchers.append((None, spec, None))
            elif isinstance(spec, type):
                matchers.append((spec, None, None))
            else:  # OutputRecorder
                matchers.append((spec.target_class, spec.class_name, spec.layer_name))
    return matchers


def _matches(name: str, module, matcher) -> bool:
    target, class_name, layer_name = matcher
    hit = (target is not None and isinstance(module, target)) or (
        class_name is not None and name.endswith(class_name))
    if hit and layer_name:
        hit = f".{layer_name.strip('.')}." in f".{name}."
    return hit


def _looks_like_router(module) -> bool:
    """Structure test: integer top_k, an expert count, and a router weight of shape (E, hidden)."""
    top_k = _first_int([module], ("top_k", "num_experts_per_tok"))
    n_exp = _first_int([module], _EXPERT_COUNT_ATTRS)
    weight = getattr(module, "weight", None)
    return bool(top_k and n_exp and weight is not None and weight.dim() == 2 and weight.shape[0] == n_exp)


def _site(model, name: str, module, order: int, source: str, family: MoEFamily | None) -> RouterSite | None:
    configs = _configs(model)
    if family is not None:
        n_exp, top_k = family.num_experts(configs[-1]), family.top_k(configs[-1])
    else:
        n_exp = _first_int([module, *configs], _EXPERT_COUNT_ATTRS)
        top_k = _first_int([module, *configs], ("top_k", "num_experts_per_tok"))
    if not n_exp or not top_k:
        return None
    match = _LAYER_RE.search(name)
    layer = int(match.group(1)) if match else order
    # Bias-corrected routers (DeepSeek-V3) score experts with a sigmoid; everyone else uses a softmax.
    sigmoid = hasattr(module, "e_score_correction_bias") or any(
        getattr(c, "scoring_func", None) == "sigmoid" for c in configs)
    scoring = (family.scoring if family and family.scoring else None) or ("sigmoid" if sigmoid else "softmax")
    read = family.read if family is not None else "tuple"
    logits_module = None
    if read == "experts_input":  # the block routes: read what it hands to its sibling `experts` module
        parent_name = name.rpartition(".")[0]
        experts = getattr(model.get_submodule(parent_name), "experts", None)
        if experts is None:
            raise TracemixError(f"router '{name}' of a '{_family(model)}' model has no sibling `experts` module "
                                "to read its block's choice from; is this the transformers version it was made for?")
        name, module, logits_module = f"{parent_name}.experts", experts, module
    return RouterSite(layer=layer, name=name, num_experts=n_exp, top_k=top_k, scoring=scoring, source=source,
                      module=module, read=read, logits_module=logits_module)


def discover_routers(model) -> list[RouterSite]:
    """Every router of `model`, ordered by layer. Raises TracemixError for a model without routers, and for
    a family whose router cannot report its choice (saying why)."""
    family = family_of(model.config) if getattr(model, "config", None) is not None else None
    if family is not None and family.unsupported:
        raise TracemixError(f"{family.name} ({family.model_type}) routers cannot be probed: {family.unsupported}. "
                            "The probe reads each router's own choice and will not guess it from logits.")
    found: list[tuple[str, Any, str]] = []
    if family is not None:  # where the table says the router lives
        found = [(n, m, "table") for n, m in model.named_modules()
                 if (hit := _IN_LAYER_RE.search(n)) and hit.group(1) in family.router]
    matchers = _recorder_matchers(model) if not found else []
    if matchers:
        found = [(n, m, "recorded") for n, m in model.named_modules() if any(_matches(n, m, x) for x in matchers)]
    if not found:
        found = [(n, m, "structure") for n, m in model.named_modules() if n and _looks_like_router(m)]
    sites = [s for i, (n, m, src) in enumerate(found) if (s := _site(model, n, m, i, src, family)) is not None]
    if not sites:
        raise TracemixError(
            f"no MoE router found in a '{_family(model)}' model ({type(model).__name__}): routing probes need a "
            f"Mixture-of-Experts checkpoint. Supported families: {supported_text()}; other transformers MoE "
            "models whose router returns (logits, top-k weights, top-k indices) work too.")
    sites.sort(key=lambda s: (s.layer, s.name))
    if len({s.layer for s in sites}) != len(sites):  # e.g. several routers in one block: number them in order
        sites = [replace(s, layer=i) for i, s in enumerate(sites)]
    shapes = {(s.num_experts, s.top_k) for s in sites}
    if len(shapes) != 1:
        raise TracemixError(f"routers of '{_family(model)}' disagree on (experts, top_k): {sorted(shapes)}; "
                            "probing needs one expert count and one k across layers.")
    return sites
