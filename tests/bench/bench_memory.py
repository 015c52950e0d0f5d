"""Peak resident memory of `firstline ask` with the default models (target: under 1.5 GB).

python tests/bench/bench_memory.py [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import ROOT


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path)
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="fl-mem-"))
    firstline = [sys.executable, "-m", "bot.cli", "--data-dir", str(data_dir)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([*firstline, "index"], check=True, env=env, capture_output=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out = subprocess.run(
        [*firstline, "ask", "How do I reset my VPN password?"],
        check=True,
        env=env,
        capture_output=True,
        text=True,
    )
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the largest child so far: the ask run if it is bigger than index
    print(out.stdout.strip().splitlines()[-1])
    print(
        f"peak RSS of `firstline ask`: {peak_kb / 1024:.0f} MB "
        f"(largest child before it: {before / 1024:.0f} MB)"
    )
    print(f"target < 1536 MB: {'MET' if peak_kb / 1024 < 1536 else 'MISSED'}")


if __name__ == "__main__":
    main()
