"""Run every benchmark in this folder, one process each, and print their numbers.

Usage: `python bench/run_all.py [name ...]` (names without the `bench_` prefix, e.g. `progress`).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(names: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if names:
        scripts = [script for script in scripts if script.stem.removeprefix("bench_") in names]
    failures = 0
    for script in scripts:
        print(f"== {script.name}", flush=True)
        completed = subprocess.run([sys.executable, str(script)], check=False)
        failures += completed.returncode != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
