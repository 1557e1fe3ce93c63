"""Targets per mixture entry and density bucket, and the short-supply report.

The total budget is split by the (effective) mixture shares, then each entry with a `density` rule is
split into a `scaffold` bucket (score >= threshold) holding `share` of it and a `plain` bucket holding the
rest. Targets are integers that add up to the total exactly (largest-remainder rounding).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from curation.mixing.recipe import Recipe
from curation.mixing.table import ALL, PLAIN, SCAFFOLD

Cell = tuple[str, str]  # (mixture entry, bucket)


def bucket_shares(recipe: Recipe) -> dict[Cell, float]:
    shares: dict[Cell, float] = {}
    for key, share in recipe.effective_shares().items():
        rule = recipe.density.get(key)
        if rule is None:
            shares[(key, ALL)] = share
        else:
            shares[(key, SCAFFOLD)] = share * rule.share
            shares[(key, PLAIN)] = share * (1.0 - rule.share)
    return shares


def bucket_targets(recipe: Recipe) -> dict[Cell, int]:
    """Integer target per (entry, bucket), in the budget's unit, summing exactly to `budget.total`."""
    total = recipe.budget.total
    raw = {cell: s * total for cell, s in bucket_shares(recipe).items()}
    targets = {cell: math.floor(v + 1e-9) for cell, v in raw.items()}
    left = total - sum(targets.values())
    # hand the remaining units to the largest remainders (ties: recipe order), never to a zero share
    order = sorted((c for c in raw if raw[c] > 0), key=lambda c: -(raw[c] - targets[c]))
    for cell in order[:max(left, 0)]:
        targets[cell] += 1
    return targets


def tolerance(total: int, document_size: int) -> float:
    """Allowed distance from a target: max(0.1% of the total, one document)."""
    return max(0.001 * total, float(document_size))


@dataclass
class Shortfall:
    cell: Cell
    domains: tuple[str, ...]
    needed: int
    available: int
    documents: int

    @property
    def repeats_needed(self) -> int | None:
        return math.ceil(self.needed / self.available) if self.available > 0 else None


def shortfall_message(recipe: Recipe, shortfalls: list[Shortfall]) -> str:
    unit = recipe.budget.unit.value
    lines = [f"{recipe.file}: the sources cannot meet the budget (max_repeats: {recipe.max_repeats}); "
             "nothing was written:"]
    for s in shortfalls:
        entry, bucket = s.cell
        inside = f" ({', '.join(s.domains)})" if s.domains != (entry,) else ""
        fix = (f"set `max_repeats: {s.repeats_needed}` to allow upsampling" if s.repeats_needed
               else "no documents at all: tag data for it, or set its share to 0")
        lines.append(f"  mixture.{entry}{inside} bucket '{bucket}': needs {s.needed:,} {unit}, "
                     f"available {s.available:,} in {s.documents:,} documents; {fix}, "
                     "or lower budget.total / the share")
    return "\n".join(lines)
