"""Answer latency on the sample knowledge base, warm, split into retrieval, prompt processing,
generation and the pipeline's own overhead.

    python tests/bench/bench_answer.py [--data-dir DIR] [--repeat 2]

Targets (issue 2): p50 under 4 s for a short answer; overhead (everything but llama.cpp's prompt
and generation time) under 10% of the total.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from _common import SAMPLES, describe, load_average, percentile

from bot.answering.responder import Firstline
from bot.app.composition import build_firstline
from bot.settings import Settings
from bot.types import Question

QUESTIONS = SAMPLES / "_build" / "questions.jsonl"


async def run(core: Firstline, questions: list[str], repeat: int) -> list[dict[str, float]]:
    rows = []
    for _ in range(repeat):
        for text in questions:
            started = time.perf_counter()
            reply = await core.handle(Question(text, channel="eval"))
            total = (time.perf_counter() - started) * 1000
            rows.append(
                {
                    "total": total,
                    "route": reply.route.value,
                    "retrieval": reply.signals.get("retrieval_ms", 0.0),
                    "prompt": reply.signals.get("slm_prompt_ms", 0.0),
                    "generation": reply.signals.get("slm_generation_ms", 0.0),
                    "prompt_tokens": sum(t["prompt"] for t in reply.tokens.values()),
                    "completion_tokens": sum(t["completion"] for t in reply.tokens.values()),
                }
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="fl-bench-"))
    core = build_firstline(Settings.load({"data_dir": data_dir}, environ={}))
    core.indexing.index()
    core.load()
    items = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    answerable = [i["question"] for i in items if i["answerable"]]
    asyncio.run(run(core, answerable[:2], 1))  # warm the KV cache prefix
    rows = asyncio.run(run(core, answerable, args.repeat))
    local = [r for r in rows if r["prompt"] > 0]
    print(f"load average before/after: {load_average()}")
    print(f"questions: {len(rows)} ({len(local)} answered by the SLM)")
    for key in ("total", "retrieval", "prompt", "generation"):
        print(f"{key:>11} ms: {describe([r[key] for r in local])}")
    print(f"prompt tokens: {describe([r['prompt_tokens'] for r in local])}")
    print(f"completion tokens: {describe([r['completion_tokens'] for r in local])}")
    llama = sum(r["prompt"] + r["generation"] for r in local)
    total = sum(r["total"] for r in local)
    overhead = (total - llama) / total if total else 0.0
    p50 = percentile([r["total"] for r in local], 0.5)
    print(f"p50 latency {p50 / 1000:.2f} s (target < 4 s): {'MET' if p50 < 4000 else 'MISSED'}")
    print(
        f"pipeline overhead {overhead:.1%} of total (target < 10%): "
        f"{'MET' if overhead < 0.10 else 'MISSED'}"
    )
    asyncio.run(core.aclose())


if __name__ == "__main__":
    main()
