"""Streaming routing counts per (layer, domain, expert), kept on the model's device.

State has a fixed size (L x D x E x E at most) whatever the number of tokens probed, so memory does not
grow with the probe; counts from shards of the data simply add (`RoutingCounts.merge`). A bounded sample
of per-token expert sets (the first `sample_tokens` tokens of each domain, in data order) is kept for
router saturation between two checkpoints.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from tracemix.atomic import atomic_path

_STATE = ("selected", "prob_sum", "n_tokens", "coact", "repeat_pairs", "repeat_any", "repeat_first")


class RoutingCounts:
    """Sums over tokens: selections N_k(e,d), router-probability sums, co-activations, consecutive repeats."""

    def __init__(self, layers: list[int], domains: list[str], num_experts: int, top_k: int,
                 device: str | torch.device = "cpu", sample_tokens: int = 2048):
        self.layers, self.domains = list(layers), list(domains)
        self.num_experts, self.top_k, self.sample_tokens = num_experts, top_k, sample_tokens
        self.device = torch.device(device)
        n_l, n_d, n_e = len(self.layers), len(self.domains), num_experts
        z = dict(device=self.device, dtype=torch.int64)
        self.selected = torch.zeros(n_l, n_d, n_e, **z)  # N_k(e, d): tokens of d that chose e
        self.prob_sum = torch.zeros(n_l, n_d, n_e, device=self.device, dtype=torch.float64)
        self.n_tokens = torch.zeros(n_l, n_d, **z)  # N_d, per layer so counts can be checked per layer
        self.coact = torch.zeros(n_l, n_d, n_e, n_e, **z)  # N(i, j); the diagonal is N(i)
        self.repeat_pairs = torch.zeros(n_l, n_d, **z)  # consecutive non-padding token pairs
        self.repeat_any = torch.zeros(n_l, n_d, **z)  # pairs sharing at least one expert
        self.repeat_first = torch.zeros(n_l, n_d, **z)  # pairs with the same first-choice expert
        self._sampled = [0] * n_d
        self._samples: dict[str, list[np.ndarray]] = {"experts": [], "domain": [], "doc": [], "position": [],
                                                      "token": []}

    @torch.no_grad()
    def update(self, indices: torch.Tensor, weights: torch.Tensor | None, logits: torch.Tensor | None,
               attention_mask: torch.Tensor, domain_ids: torch.Tensor, scoring: str = "softmax",
               input_ids: torch.Tensor | None = None, doc_ids: list[str] | None = None,
               offsets: list[int] | None = None) -> None:
        """Add one batch. indices/weights [L, B*S, k], logits [L, B*S, E], mask [B, S], domain_ids [B]."""
        n_l, n_d, n_e, k = len(self.layers), len(self.domains), self.num_experts, self.top_k
        b, s = attention_mask.shape
        mask = attention_mask.to(self.device).bool()  # [B, S]
        dom = domain_ids.to(self.device).long()
        flat_mask = mask.reshape(-1)
        keep = flat_mask.nonzero()[:, 0]  # [T] flat positions of non-padding tokens (index_select is cheap)
        tok_dom = dom.repeat_interleave(s)[keep]  # [T] domain of every non-padding token
        idx = indices.reshape(n_l, b * s, k).index_select(1, keep).long()  # [L, T, k]
        layer_off = torch.arange(n_l, device=self.device)[:, None]  # [L, 1]
        row = (layer_off * n_d + tok_dom[None, :])  # [L, T] flat (layer, domain) row

        self.n_tokens += torch.bincount(tok_dom, minlength=n_d)[None, :]
        sel_flat = (row[..., None] * n_e + idx).reshape(-1)  # [L*T*k]
        self.selected.view(-1).index_add_(0, sel_flat, torch.ones_like(sel_flat))

        if logits is not None:
            lg = logits.reshape(n_l, b * s, n_e).index_select(1, keep).float()  # [L, T, E]
            if scoring == "sigmoid":  # independent expert scores, normalised to a distribution over E
                probs = lg.sigmoid()
                probs = probs / probs.sum(-1, keepdim=True).clamp_min(1e-20)
            else:
                probs = lg.softmax(-1)
            self.prob_sum.view(n_l * n_d, n_e).index_add_(0, row.reshape(-1), probs.reshape(-1, n_e).double())

        # co-activation over all expert pairs (i, j) of each token; i == j gives N(i)
        pair = idx[..., :, None] * n_e + idx[..., None, :]  # [L, T, k, k]
        co_flat = (row[..., None, None] * (n_e * n_e) + pair).reshape(-1)
        self.coact.view(-1).index_add_(0, co_flat, torch.ones_like(co_flat))

        # consecutive tokens of one sequence, both non-padding (Mixtral's repeat analysis)
        if s > 1:
            valid = (mask[:, 1:] & mask[:, :-1]).reshape(-1)  # [B*(S-1)]
            prev_pos = (torch.arange(b, device=self.device)[:, None] * s
                        + torch.arange(s - 1, device=self.device)[None, :]).reshape(-1)[valid]  # [P]
            pair_dom = dom.repeat_interleave(s - 1)[valid]  # [P]
            prow = (layer_off * n_d + pair_dom[None, :]).reshape(-1)  # [L*P]
            flat_idx = indices.reshape(n_l, b * s, k)
            prev, cur = flat_idx.index_select(1, prev_pos), flat_idx.index_select(1, prev_pos + 1)  # [L, P, k]
            any_rep = (cur[..., :, None] == prev[..., None, :]).reshape(n_l, -1, k * k).any(-1)  # [L, P]
            if weights is not None:  # first choice = highest gate weight (routers need not sort)
                top = weights.reshape(n_l, b * s, k).argmax(-1, keepdim=True)  # [L, B*S, 1]
                first = flat_idx.gather(-1, top)[..., 0]  # [L, B*S]
            else:
                first = flat_idx[..., 0]
            first_rep = first.index_select(1, prev_pos) == first.index_select(1, prev_pos + 1)  # [L, P]
            self.repeat_pairs.view(-1).index_add_(0, prow, torch.ones_like(prow))
            self.repeat_any.view(-1).index_add_(0, prow, any_rep.reshape(-1).long())
            self.repeat_first.view(-1).index_add_(0, prow, first_rep.reshape(-1).long())

        n_t = keep.numel()
        if self.sample_tokens > 0 and min(self._sampled) < self.sample_tokens and n_t:
            self._keep_sample(idx, tok_dom, mask, dom, input_ids, doc_ids, offsets)

    def _keep_sample(self, idx, tok_dom, mask, dom, input_ids, doc_ids, offsets) -> None:
        """Keep the first `sample_tokens` tokens per domain (row-major data order) with their expert sets."""
        take = torch.zeros_like(tok_dom, dtype=torch.bool)
        for d in tok_dom.unique().tolist():
            room = self.sample_tokens - self._sampled[d]
            if room <= 0:
                continue
            where = (tok_dom == d).nonzero()[:, 0][:room]
            take[where] = True
            self._sampled[d] += where.numel()
        if not bool(take.any()):
            return
        b, s = mask.shape
        rows = torch.arange(b, device=self.device)[:, None].expand(b, s)[mask][take].cpu().numpy()
        cols = torch.arange(s, device=self.device)[None, :].expand(b, s)[mask][take].cpu().numpy()
        self._samples["experts"].append(idx[:, take].sort(-1).values.permute(1, 0, 2).to(torch.int16).cpu().numpy())
        self._samples["domain"].append(tok_dom[take].cpu().numpy().astype(np.int16))
        off = np.asarray(offsets if offsets is not None else [0] * b)
        self._samples["position"].append((off[rows] + cols).astype(np.int64))
        self._samples["doc"].append(np.asarray(doc_ids if doc_ids is not None else [""] * b, dtype=str)[rows])
        tokens = input_ids[mask.cpu()].cpu().numpy() if input_ids is not None else np.full(mask.sum().item(), -1)
        self._samples["token"].append(tokens[take.cpu().numpy()].astype(np.int64))

    def state(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name).cpu().numpy() for name in _STATE}

    def samples(self) -> dict[str, np.ndarray]:
        n_l, k = len(self.layers), self.top_k
        if not self._samples["experts"]:
            empty = {"experts": np.zeros((0, n_l, k), np.int16), "domain": np.zeros(0, np.int16),
                     "doc": np.zeros(0, dtype=str), "position": np.zeros(0, np.int64), "token": np.zeros(0, np.int64)}
            return empty
        return {key: np.concatenate(parts) for key, parts in self._samples.items()}

    def nbytes(self) -> int:
        """Bytes held by the running state (the sample is bounded separately by `sample_tokens`)."""
        return sum(getattr(self, name).element_size() * getattr(self, name).nelement() for name in _STATE)

    def merge(self, other: RoutingCounts) -> None:
        """Add counts from another shard of the data (same model, layers, domains)."""
        if (other.layers, other.domains, other.num_experts) != (self.layers, self.domains, self.num_experts):
            raise ValueError("can only merge counts of the same layers, domains and expert count")
        for name in _STATE:
            getattr(self, name).add_(getattr(other, name).to(self.device))

    @classmethod
    def from_saved(cls, arrays: dict[str, np.ndarray], samples: dict[str, np.ndarray] | None = None,
                   sample_tokens: int = 2048) -> RoutingCounts:
        """Counts as written to counts.npz (and, optionally, the token sample of tokens.npz)."""
        counts = cls(arrays["layers"].tolist(), arrays["domains"].tolist(), int(arrays["num_experts"]),
                     int(arrays["top_k"]), sample_tokens=sample_tokens)
        for name in _STATE:
            getattr(counts, name).copy_(torch.from_numpy(np.asarray(arrays[name])))
        if samples is not None and len(samples.get("domain", ())):
            for key in counts._samples:
                counts._samples[key].append(samples[key])
        return counts

    def save(self, path: str | Path) -> None:
        """counts.npz: the state plus layer / domain names; tokens.npz is written by the report."""
        meta = {"layers": np.asarray(self.layers), "domains": np.asarray(self.domains, dtype=str),
                "num_experts": np.asarray(self.num_experts), "top_k": np.asarray(self.top_k)}
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.savez_compressed(f, **self.state(), **meta)


def load_counts(path: str | Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return {key: z[key] for key in z.files}
