"""Run every benchmark in this folder (quick settings) and list the result files.

Each `bench_*.py` measures its baseline in the same run and prints ratios; machines are noisy, so read
the ratios, not the seconds. Results land in `benchmarks/results/*.json`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    failed = []
    for script in sorted(HERE.glob("bench_*.py")) + sorted(HERE.glob("accuracy_*.py")):
        print(f"\n=== {script.name} ===", flush=True)
        if subprocess.run([sys.executable, str(script)], cwd=HERE.parent).returncode != 0:
            failed.append(script.name)
    print("\nresults:", *sorted(str(p.relative_to(HERE.parent)) for p in (HERE / "results").glob("*.json")),
          sep="\n  ")
    if failed:
        print("failed:", ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
