"""`tracemix ablate`: vary one thing in the data, then mix -> train -> eval -> probe each variant and compare."""

from ablate.runner import run_sweep
from ablate.sweep import Sweep, load_sweep

__all__ = ["Sweep", "load_sweep", "run_sweep"]
