"""The domain-classifier registry: `load_classifier("heuristic" | "fasttext:PATH" | "llm", **kw)`, and the
scaffold-scorer registry: `load_scaffold_scorer("heuristic" | "fasttext:PATH")`.

A classifier is any object with `name: str` and `predict(text) -> {domain: probability}` over the four
domains (optionally `predict_many(texts)` for batches). A scaffold scorer has `name: str` and
`score(text) -> float` in [0, 1] (optionally `score_many(texts)`). Implementations are imported only when
asked for.
"""

from __future__ import annotations

import difflib
import importlib
from pathlib import Path
from typing import Any, Protocol

from tracemix.errors import DataError, RecipeError

DEFAULT_CLASSIFIER = "heuristic"  # needs no network and no model download

# name -> (module:attribute, what the part after ':' is, one-line help)
CLASSIFIERS: dict[str, tuple[str, str | None, str]] = {
    "heuristic": ("curation.classifiers.heuristic:HeuristicClassifier", None, "explainable features, no model needed"),
    "fasttext": (
        "curation.classifiers.fasttext_tagger:FastTextClassifier",
        "PATH",
        "a model trained by `tracemix classifier train`",
    ),
    "llm": ("curation.classifiers.llm_label:LLMClassifier", None, "an OpenAI-compatible endpoint (--base-url, --model)"),
}


HEURISTIC_SCAFFOLD = "scaffold-heuristic-v1"  # the name the heuristic scorer puts in manifests
# name -> (module:attribute, what the part after ':' is, one-line help)
SCAFFOLD_SCORERS: dict[str, tuple[str, str | None, str]] = {
    "heuristic": ("curation.classifiers.scaffold:HeuristicScaffold", None,
                  "step markers, equation chains, symbols, indentation (no model needed)"),
    "fasttext": ("curation.classifiers.scaffold_fasttext:FastTextScaffoldScorer", "PATH",
                 "the structured-signals paper's scorer: code probability of a fastText code-vs-non-code "
                 "model (`tracemix classifier train-scaffold`) or the expected rating of a distilled LLM "
                 "rating model (`tracemix classifier train --target scaffold`)"),
}


class Classifier(Protocol):
    name: str

    def predict(self, text: str) -> dict[str, float]: ...


def parse_spec(spec: str, kinds: dict = CLASSIFIERS, what: str = "classifier") -> tuple[str, str | None]:
    """'fasttext:model.bin' -> ('fasttext', 'model.bin'); checks the name with a did-you-mean hint."""
    name, sep, arg = str(spec).partition(":")
    flag = "--scaffold" if what == "scaffold scorer" else "--classifier"
    if name not in kinds:
        close = difflib.get_close_matches(name, kinds, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise RecipeError(
            f"unknown {what} '{spec}'.{hint} Choose one of: "
            + ", ".join(f"{n}:{a}" if a else n for n, (_, a, _h) in kinds.items())
        )
    wants_arg = kinds[name][1]
    if wants_arg and not arg:
        raise RecipeError(f"{what} '{name}' needs a {wants_arg}: use {flag} {name}:{wants_arg}")
    if not wants_arg and sep:
        raise RecipeError(f"{what} '{name}' takes no ':{arg}' part; use {flag} {name}")
    return name, arg or None


def check_spec(spec: str, **kw: Any) -> None:
    """Cheap checks that need no model load: the name, the model file, the llm endpoint options."""
    name, arg = parse_spec(spec)
    if name == "fasttext" and not Path(arg).expanduser().is_file():
        raise DataError(
            f"fastText model not found: {arg}. Train one with `tracemix classifier train "
            f"--labels LABELED.jsonl --output {arg}`"
        )
    if name == "llm":
        missing = [k for k in ("base_url", "model") if not kw.get(k)]
        if missing:
            flags = " ".join(f"--{k.replace('_', '-')}" for k in missing)
            raise RecipeError(
                f"classifier 'llm' needs {flags} (an OpenAI-compatible endpoint and model name)"
            )


def load_classifier(spec: str | Classifier, **kw: Any) -> Classifier:
    """Resolve a spec to a classifier object; objects are returned as they are."""
    if not isinstance(spec, str):
        if not callable(getattr(spec, "predict", None)) or not isinstance(getattr(spec, "name", None), str):
            raise RecipeError(f"{spec!r} is not a classifier: it needs a `name` string and a `predict(text)`")
        return spec
    check_spec(spec, **kw)
    name, arg = parse_spec(spec)
    module_name, attr = CLASSIFIERS[name][0].split(":")
    cls = getattr(importlib.import_module(module_name), attr)
    if name == "fasttext":
        return cls(str(Path(arg).expanduser()))
    if name == "llm":
        return cls(**{k: v for k, v in kw.items() if v is not None})
    return cls()


def check_scaffold_spec(spec: str) -> None:
    """Cheap checks of a scaffold-scorer spec: the name and the model file."""
    name, arg = parse_spec(spec, SCAFFOLD_SCORERS, "scaffold scorer")
    if name == "fasttext" and not Path(arg).expanduser().is_file():
        raise DataError(
            f"scaffold model not found: {arg}. Train one with `tracemix classifier train-scaffold "
            f"--input TAGGED_FOLDER --output {arg}`"
        )


def load_scaffold_scorer(spec: Any = "heuristic") -> Any:
    """Resolve a scaffold-scorer spec to an object with `name` and `score(text)`; objects pass through."""
    if not isinstance(spec, str):
        if not callable(getattr(spec, "score", None)) or not isinstance(getattr(spec, "name", None), str):
            raise RecipeError(f"{spec!r} is not a scaffold scorer: it needs a `name` string and a `score(text)`")
        return spec
    check_scaffold_spec(spec)
    name, arg = parse_spec(spec, SCAFFOLD_SCORERS, "scaffold scorer")
    module_name, attr = SCAFFOLD_SCORERS[name][0].split(":")
    cls = getattr(importlib.import_module(module_name), attr)
    return cls(str(Path(arg).expanduser())) if arg else cls()
