"""tracemix curation: tagging documents by domain, statistics and mixtures.

`curation.DomainTagger` (a datatrove step) is imported on first use, so `import curation` stays light.
"""

_LAZY = {
    "DomainTagger": "curation.tagging.tagger",
    "NormaliseText": "curation.tagging.tagger",
    "load_classifier": "curation.classifiers.registry",
    "run_tag": "curation.tagging.tag",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'curation' has no attribute {name!r}")
