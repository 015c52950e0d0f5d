"""Shared helpers for the benchmark scripts (not a test module)."""

from __future__ import annotations

import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
SAMPLES = ROOT / "knowledge" / "samples"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else 0.0


def describe(values: list[float]) -> str:
    return (
        f"p50 {percentile(values, 0.5):8.1f}  p95 {percentile(values, 0.95):8.1f}  "
        f"mean {statistics.fmean(values):8.1f}"
    )


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())
