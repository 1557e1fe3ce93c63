"""tracemix: what in the training data makes a model reason better.

The shared core: the domain taxonomy, errors, provenance manifests, atomic writes and the
`tracemix` command dispatcher. The work itself lives in the `curation`, `training`, `eval` and
`probes` packages.
"""

__version__ = "0.1.0"
