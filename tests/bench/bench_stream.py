"""Streamed answers: time to the first visible answer text vs time to the finished answer, beside
the non-streamed ``handle()`` in the same run (sample knowledge base, real GGUF, warm).

    python tests/bench/bench_stream.py [--data-dir DIR] [--repeat 4] [--slm GGUF]

The two modes alternate question by question over the answerable sample questions, swapping
in the next pass (so every question is asked both ways once per two passes, under the same
machine load, and never twice in a row, which would let llama.cpp reuse the whole prompt).
"first text" is the first TextDelta or Replace; "first event" is usually the search status.
The first text is broken down into retrieval, the SLM's prompt tokens reused from its KV cache
(the fixed system prompt and worked examples) and processed per answer (passage and question),
and the processing rate; ``--after-start N`` also times the first answer after a start (KV
cache empty) without and with the warm-up at load.
Issue 13's target through the adapters: first text p50 <= 1.0 s, p95 <= 2.0 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from _common import SAMPLES, describe, load_average, percentile

from bot.answering.prompt import fixed_prefix
from bot.answering.responder import Firstline
from bot.answering.streaming import visible_text
from bot.app.composition import build_firstline
from bot.settings import Settings
from bot.types import Final, Question, Replace, StreamEvent, TextDelta

QUESTIONS = SAMPLES / "_build" / "questions.jsonl"


async def handled(core: Firstline, text: str) -> dict[str, float]:
    started = time.perf_counter()
    reply = await core.handle(Question(text, channel="eval"))
    return {"total": (time.perf_counter() - started) * 1000,
            "local": float(reply.signals.get("slm_prompt_ms", 0.0) > 0)}


async def streamed(core: Firstline, text: str) -> dict[str, float]:
    started = time.perf_counter()
    marks: dict[str, float] = {}
    events: list[StreamEvent] = []
    async for event in core.stream(Question(text, channel="eval")):
        now = (time.perf_counter() - started) * 1000
        marks.setdefault("event", now)
        if isinstance(event, TextDelta | Replace):
            marks.setdefault("text", now)
            marks["replaces"] = marks.get("replaces", 0) + isinstance(event, Replace)
        events.append(event)
    final = events[-1]
    assert isinstance(final, Final) and visible_text(events) == final.reply.text
    return {"first_event": marks["event"], "first_text": marks["text"],
            "total": (time.perf_counter() - started) * 1000,
            "deltas": float(sum(isinstance(e, TextDelta) for e in events)),
            "replaced": float(marks.get("replaces", 0) > 0),
            **breakdown(final.reply.signals)}


def breakdown(signals: dict[str, float]) -> dict[str, float]:
    """Where the time to the first text goes: retrieval, the SLM's prompt (tokens reused from
    the KV cache vs processed for this answer) and its first token."""
    prompt_ms = float(signals.get("slm_prompt_ms", 0.0))
    new = float(signals.get("slm_prompt_tokens", 0) - signals.get("slm_cached_tokens", 0))
    return {"prompt": prompt_ms, "local": float(prompt_ms > 0),
            "retrieval": float(signals.get("retrieval_ms", 0.0)),
            "cached_tokens": float(signals.get("slm_cached_tokens", 0)), "new_tokens": new,
            "rate": new / prompt_ms * 1000 if prompt_ms else 0.0,
            "verify": float(signals.get("verify_ms", 0.0))}


async def run(core: Firstline, questions: list[str], repeat: int
              ) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
    """Question i goes through handle() when (i + pass) is even, else through stream(): the two
    modes alternate question by question (same machine load), and every question is asked
    both ways once per two passes."""
    plain: list[dict[str, float]] = []
    streams: list[dict[str, float]] = []
    for n in range(repeat):
        for i, text in enumerate(questions):
            if (i + n) % 2 == 0:
                plain.append(await handled(core, text))
            else:
                streams.append(await streamed(core, text))
    return plain, streams


async def after_start(core: Firstline, questions: list[str]) -> dict[str, list[float]]:
    """The first answer after a start, with the KV cache emptied before each question: as
    before (nothing evaluated) and as ``Firstline.load`` leaves it now (the fixed prompt
    beginning warmed), alternating question by question and swapping in the second pass."""
    llm = core.local._model()  # type: ignore[attr-defined]  # LocalSLM's llama.cpp context
    marks: dict[str, list[float]] = {"cold": [], "warmed": []}
    for n in range(2):
        for i, text in enumerate(questions):
            mode = "warmed" if (i + n) % 2 else "cold"
            llm.reset()
            if mode == "warmed":
                core.local.warm(fixed_prefix())
            row = await streamed(core, text)
            if row["local"]:
                marks[mode].append(row["first_text"])
    return marks


BREAKDOWN = (("retrieval", "  of which retrieval, ms:"),
             ("prompt", "  of which SLM prompt + 1st token:"),
             ("cached_tokens", "  prompt tokens reused (KV cache):"),
             ("new_tokens", "  prompt tokens processed:"),
             ("rate", "  prompt processing, tokens/s:"),
             ("verify", "after the draft: verify pass, ms:"))


def report(plain: list[dict[str, float]], streams: list[dict[str, float]]) -> None:
    print(f"load average after: {load_average()}")
    local_plain = [r for r in plain if r["local"]]
    local_stream = [r for r in streams if r["local"]]
    print(f"answers: {len(plain)} handle(), {len(streams)} stream() "
          f"({len(local_stream)} streamed answers drafted by the SLM)")
    print(f"handle() finished answer, ms:     {describe([r['total'] for r in local_plain])}")
    print(f"stream() finished answer, ms:     {describe([r['total'] for r in local_stream])}")
    print(f"stream() first visible text, ms:  {describe([r['first_text'] for r in local_stream])}")
    print(f"stream() first event (status), ms:{describe([r['first_event'] for r in local_stream])}")
    for key, label in BREAKDOWN:
        print(f"{label:34}{describe([r[key] for r in local_stream])}")
    print(f"stream() text deltas per answer:  {describe([r['deltas'] for r in local_stream])}")
    replaced = sum(r["replaced"] for r in local_stream)
    print(f"streamed answers with a Replace:  {replaced:.0f} of {len(local_stream)}")
    p50 = percentile([r["first_text"] for r in local_stream], 0.5)
    p95 = percentile([r["first_text"] for r in local_stream], 0.95)
    print(f"first text p50 {p50 / 1000:.2f} s (issue 13 target <= 1.0 s), "
          f"p95 {p95 / 1000:.2f} s (target <= 2.0 s)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--repeat", type=int, default=4)
    parser.add_argument("--slm", help="a GGUF path (default: the packaged model)")
    parser.add_argument("--after-start", type=int, default=10, metavar="N",
                        help="also time the first answer after a start on N questions (0: not)")
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="fl-bench-"))
    overrides = {"data_dir": data_dir, "cache_ttl_seconds": 0}
    if args.slm:
        overrides["slm_model"] = args.slm
    core = build_firstline(Settings.load(overrides, environ={}))
    core.indexing.index()
    core.load()
    items = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    answerable = [i["question"] for i in items if i["answerable"]]
    print(f"load average before: {load_average()}")
    asyncio.run(run(core, answerable[:4], 1))  # warm: the system prompt's KV cache, the encoders
    plain, streams = asyncio.run(run(core, answerable, args.repeat))
    report(plain, streams)
    if args.after_start:
        marks = asyncio.run(after_start(core, answerable[: args.after_start]))
        print("first answer after a start, first text ms (KV emptied before each question):")
        print(f"  nothing evaluated (before):     {describe(marks['cold'])}")
        print(f"  fixed beginning warmed at load: {describe(marks['warmed'])}")
        print(f"load average after: {load_average()}")
    asyncio.run(core.aclose())


if __name__ == "__main__":
    main()
