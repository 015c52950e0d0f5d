"""OpenMP threads wait passively (bot/__init__.py): the runtime llama.cpp and torch share reads
the policy once, on torch's import, so importing ``bot`` first must be enough, and an operator's
own OMP_WAIT_POLICY must win. Read back from the runtime itself (OMP_DISPLAY_ENV)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IMPORTS = "import bot, sentence_transformers, llama_cpp"


def spin_counts(env_policy: str | None) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    env.update(OMP_DISPLAY_ENV="VERBOSE", PYTHONPATH=str(ROOT))
    if env_policy is not None:
        env["OMP_WAIT_POLICY"] = env_policy
    run = subprocess.run([sys.executable, "-c", IMPORTS], env=env, capture_output=True,
                         text=True, check=True, timeout=120)
    return re.findall(r"GOMP_SPINCOUNT = '(\d+)'", run.stderr)


def test_importing_bot_makes_the_openmp_threads_wait_passively() -> None:
    counts = spin_counts(None)
    assert counts and set(counts) == {"0"}, counts


def test_an_operators_wait_policy_is_kept() -> None:
    counts = spin_counts("ACTIVE")
    assert counts and "0" not in counts, counts
