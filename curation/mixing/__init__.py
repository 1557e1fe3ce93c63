"""Exact, density-controlled mixtures from recipe files (`tracemix mix`).

    from curation.mixing import load_recipe, build_mixture
    recipe = load_recipe("recipes/demo/math_density.yaml", {"density.math_text.share": 0.25})
    manifest = build_mixture(recipe, output="data/mixtures/demo/d025")
"""

from curation.mixing.build import build_mixture, plan_mixture
from curation.mixing.manifest import load_result, plan_table, weights
from curation.mixing.recipe import Recipe, is_mixing_recipe, load_recipe

__all__ = ["Recipe", "build_mixture", "is_mixing_recipe", "load_recipe", "load_result", "plan_mixture", "plan_table",
           "weights"]
