"""Benchmark: how fast the Slack app acks, and shows work, while the local model is busy.

    python tests/bench/bench_slack_ack.py [--core auto|real|busy] [--mentions 20]

Runs the real bolt app (mounted as `firstline serve` does) on 127.0.0.1, Slack's Web API as a
local stand-in (tests/adapters/slack/slack_standin.py), and sends N signed app_mention events
at once while the model is already answering a question. Prints, in milliseconds:

* ack: from sending the HTTP request to receiving Slack's 200 (target: well under 3000);
* first sign: from sending the event to the stand-in receiving the 👀 reaction or the
  placeholder message, whichever comes first;
* answer: from sending the event to the placeholder being updated with the answer.

``--core real`` answers with bot.core.Firstline (sample knowledge base, local GGUF); ``busy``
with a stand-in whose every answer holds one lock and burns CPU in a worker thread for
``--slm-seconds`` (pure Python, so it contends for the GIL harder than llama.cpp does).
Load generator, app and stand-in share one process and event loop: figures are pessimistic.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import platform
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "adapters" / "slack")]

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402
from slack_standin import (  # noqa: E402
    APP_TOKEN,
    BOT_TOKEN,
    BOT_USER,
    SECRET,
    SignedSender,
    SlackStandIn,
    event_callback,
    mention_event,
    serve,
)

from adapters.slack.server import mount_slack  # noqa: E402
from adapters.slack.settings import SlackSettings  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.types import Notify, Question, Reply, Responder, Route, Source  # noqa: E402

CHANNEL = "C0BENCH"
QUESTIONS = ["How do I reset my VPN password?", "How do I book a meeting room?",
             "What is the expense deadline?", "How do I connect to the office Wi-Fi?",
             "How do I report a phishing e-mail?"]


class BusyModel:
    """One model, one answer at a time, each burning CPU in a worker thread."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.lock = threading.Lock()

    async def handle(self, question: Question, notify: Notify | None = None) -> Reply:
        await asyncio.to_thread(self._generate)
        source = Source("it/vpn-password-reset.md", "VPN password reset", 0.9)
        return Reply(text=f"Answer to {question.text} [1]", answer_id=f"b{time.time_ns()}",
                     route=Route.LOCAL, sources=(source,), cited=(source.path,))

    async def feedback(self, answer_id: str, user: str, vote: Any, reason: str = "") -> None:
        return None

    def _generate(self) -> None:
        with self.lock:
            end = time.perf_counter() + self.seconds
            n = 0
            while time.perf_counter() < end:
                n += sum(i * i for i in range(200))


def real_core(data_dir: Path) -> Responder:
    from bot.app.composition import build_firstline

    core = build_firstline(Settings.load({"data_dir": data_dir}))
    print("indexing the sample knowledge base for the real core ...", flush=True)
    core.indexing.index()
    return core


def pick_core(choice: str, slm_seconds: float, data_dir: Path) -> tuple[Responder, str]:
    if choice in ("auto", "real"):
        try:
            return real_core(data_dir), "real core (bot.core.Firstline, local GGUF SLM)"
        except Exception as exc:  # auto falls back; real insists
            if choice == "real":
                raise
            print(f"real core unavailable ({type(exc).__name__}: {exc}); using the busy stand-in")
    return BusyModel(slm_seconds), f"busy stand-in (one lock, {slm_seconds:.1f} s CPU per answer)"


def first_sign(standin: SlackStandIn, ts: str) -> float | None:
    times = [c.at for c in standin.calls
             if (c.method == "reactions.add" and c.args.get("timestamp") == ts)
             or (c.method == "chat.postMessage" and c.args.get("thread_ts") == ts)]
    return min(times) if times else None


def answered(standin: SlackStandIn, ts: str) -> float | None:
    placeholders = {m["ts"] for m in standin.in_thread(CHANNEL, ts) if m.get("bot_id")}
    times = [c.at for c in standin.calls_to("chat.update") if c.args.get("ts") in placeholders]
    return min(times) if times else None


async def when(standin: SlackStandIn, moment: Callable[[SlackStandIn, str], float | None],
               ts: str, timeout: float) -> float:
    """Wait until ``moment`` has happened for the message ``ts``; its perf_counter time."""
    at = await standin.wait_for(lambda: moment(standin, ts), timeout)
    assert at is not None
    return at


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def line(name: str, seconds: list[float]) -> str:
    ms = [s * 1000 for s in seconds]
    return (f"{name:<12} n={len(ms):<3} p50={pct(ms, 50):8.1f}  p95={pct(ms, 95):8.1f}  "
            f"max={max(ms):8.1f} ms")


async def mention(slack: SignedSender, standin: SlackStandIn, text: str) -> tuple[str, float,
                                                                                  float]:
    message = standin.user_message(CHANNEL, f"<@{BOT_USER}> {text}")
    sent = time.perf_counter()
    status, _, seconds = await slack.event(event_callback(mention_event(message, CHANNEL)))
    assert status == 200, status
    return message["ts"], sent, seconds


async def run(args: argparse.Namespace) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="firstline-bench-"))
    responder, label = pick_core(args.core, args.slm_seconds, data_dir)
    standin = await SlackStandIn().start()
    settings = SlackSettings(bot_token=BOT_TOKEN, app_token=APP_TOKEN, signing_secret=SECRET,
                             api_url=standin.api_url, stream=False)  # streamed: bench_slack_stream
    web_app = web.Application()
    mount_slack(web_app, responder, settings)
    runner, url = await serve(web_app)
    async with aiohttp.ClientSession() as session:
        slack = SignedSender(f"{url}/slack/events", session)
        # warm up (auth.test, connections), then keep the model busy before the burst
        ts, _, _ = await mention(slack, standin, "warm-up: what is the Wi-Fi password?")
        await standin.wait_for(lambda: answered(standin, ts), args.answer_timeout)
        busy_ts, _, _ = await mention(slack, standin, "a long question keeping the model busy")
        await standin.wait_for(lambda: first_sign(standin, busy_ts), 10)
        burst = await asyncio.gather(*(mention(slack, standin, QUESTIONS[i % len(QUESTIONS)])
                                       for i in range(args.mentions)))
        signs = [await when(standin, first_sign, t, 30) - sent for t, sent, _ in burst]
        print(f"\nresponder: {label}")
        print(f"machine:   {os.cpu_count()} CPUs, Python {platform.python_version()}, "
              f"{args.mentions} concurrent signed app_mention events over HTTP\n")
        print(line("ack", [ack for _, _, ack in burst]))
        print(line("first sign", signs))
        if args.answer_timeout > 0:
            done = [await when(standin, answered, t, args.answer_timeout) - sent
                    for t, sent, _ in burst]
            print(line("answer", done))
        slow = [ack for _, _, ack in burst if ack >= 3.0]
        print(f"\nacks at or over Slack's 3 s: {len(slow)} of {len(burst)}")
    await runner.cleanup()
    await standin.stop()
    close = getattr(responder, "close", None)
    if close is not None:
        await close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--core", choices=["auto", "real", "busy"], default="auto")
    parser.add_argument("--mentions", type=int, default=20)
    parser.add_argument("--slm-seconds", type=float, default=1.0,
                        help="CPU seconds per answer for the busy stand-in")
    parser.add_argument("--answer-timeout", type=float, default=900.0,
                        help="seconds to wait for all answers (0: do not wait)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
