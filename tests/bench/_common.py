"""Shared helpers for the benchmark scripts (not a test module)."""

from __future__ import annotations

import argparse
import json
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


def burst_parser(description: str, crowd: str, rounds_help: str) -> argparse.ArgumentParser:
    """The arguments the adapter streaming benchmarks share; ``crowd`` names the burst size
    (``--mentions`` for Slack, ``--chats`` for Teams)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(f"--{crowd}", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=1, help=rounds_help)
    parser.add_argument("--turns", choices=("both", "ordered", "plain"), default="both",
                        help="how the model is handed out in bursts: ordered turns "
                        "(bot.models.turns), the plain lock before them, or both")
    parser.add_argument("--questions", type=int, default=8, help="answerable samples to use")
    return parser


def sample_questions(limit: int) -> list[str]:
    """The first ``limit`` answerable questions about the sample knowledge base."""
    lines = (SAMPLES / "_build" / "questions.jsonl").read_text().splitlines()
    items = [json.loads(line) for line in lines if line.strip()]
    return [i["question"] for i in items if i["answerable"]][:limit]
