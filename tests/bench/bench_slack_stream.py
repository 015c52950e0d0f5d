"""Streamed answers through the Slack adapter beside the placeholder path, in the same run.

    python tests/bench/bench_slack_stream.py [--repeat 1] [--mentions 20] [--data-dir DIR]

Two real bolt apps (mounted as `firstline serve` does) on one real core (sample knowledge base,
packaged GGUF, answer cache off, warm), each with its own Slack stand-in over loopback and
signed events: one streams (chat.startStream / appendStream / stopStream), one has
``stream=False`` (placeholder, then chat.update). Per mention, from sending the event:

* ack: Slack's 200 for the event;
* first text: the first answer text the asker can see — chat.startStream (it carries the first
  text) when streamed, the chat.update replacing the placeholder otherwise;
* finished: the 👀 reaction taken away (right after the answer's last Slack call).

Single mentions alternate the two apps question by question (swapping each pass, so each question
goes both ways under the same load); then a burst of ``--mentions`` concurrent mentions to each
app in turn. Load generator, apps, stand-ins and model share one machine: figures are
pessimistic.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from _common import ROOT, SAMPLES, describe, load_average

sys.path.insert(0, str(ROOT / "tests" / "adapters" / "slack"))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402
from slack_standin import (  # noqa: E402
    BOT_USER,
    SignedSender,
    SlackStandIn,
    event_callback,
    mention_event,
    serve,
    slack_settings,
)

from adapters.slack.server import mount_slack  # noqa: E402
from bot.app.composition import build_firstline  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.types import Responder  # noqa: E402

CHANNEL = "C0BENCH"
TIMEOUT = 1800.0


@dataclass
class Mode:
    name: str
    standin: SlackStandIn
    sender: SignedSender
    runner: web.AppRunner


async def start(core: Responder, stream: bool, session: aiohttp.ClientSession) -> Mode:
    standin = await SlackStandIn().start()
    web_app = web.Application()
    mount_slack(web_app, core, replace(slack_settings(standin), stream=stream))
    runner, url = await serve(web_app)
    name = "streamed" if stream else "placeholder"
    return Mode(name, standin, SignedSender(f"{url}/slack/events", session), runner)


def first_text(standin: SlackStandIn, ts: str) -> float | None:
    mine = {m["ts"] for m in standin.in_thread(CHANNEL, ts) if m.get("bot_id")}
    times = [c.at for c in standin.calls_to("chat.startStream") if c.args.get("thread_ts") == ts]
    times += [c.at for c in standin.calls_to("chat.update") if c.args.get("ts") in mine]
    return min(times) if times else None


def finished(standin: SlackStandIn, ts: str) -> float | None:
    times = [c.at for c in standin.calls_to("reactions.remove") if c.args.get("timestamp") == ts]
    return min(times) if times else None


async def ask(mode: Mode, text: str) -> dict[str, float]:
    standin = mode.standin
    message = standin.user_message(CHANNEL, f"<@{BOT_USER}> {text}")
    sent = time.perf_counter()
    status, _, ack = await mode.sender.event(event_callback(mention_event(message, CHANNEL)))
    assert status == 200, status
    first = await standin.wait_for(lambda: first_text(standin, message["ts"]), TIMEOUT)
    done = await standin.wait_for(lambda: finished(standin, message["ts"]), TIMEOUT)
    return {"ack": ack * 1000, "first": (first - sent) * 1000, "done": (done - sent) * 1000}


async def singles(modes: tuple[Mode, Mode], questions: list[str], repeat: int
                  ) -> dict[str, list[dict[str, float]]]:
    results: dict[str, list[dict[str, float]]] = {m.name: [] for m in modes}
    for n in range(repeat):
        for i, text in enumerate(questions):
            mode = modes[(i + n) % 2]
            results[mode.name].append(await ask(mode, text))
    return results


def report(title: str, results: dict[str, list[dict[str, float]]]) -> None:
    print(f"\n{title}  (load average {load_average()})")
    for name, rows in results.items():
        print(f"  {name:<12} n={len(rows)}")
        for key, label in (("ack", "ack"), ("first", "first text"), ("done", "finished")):
            print(f"    {label:<11} ms: {describe([r[key] for r in rows])}")


async def run(core: Responder, questions: list[str], args: argparse.Namespace) -> None:
    async with aiohttp.ClientSession() as session:
        modes = (await start(core, True, session), await start(core, False, session))
        await singles(modes, questions[:2], 1)  # warm: connections, encoders, the KV cache
        report("single mentions", await singles(modes, questions, args.repeat))
        for mode in modes:
            burst = [questions[i % len(questions)] for i in range(args.mentions)]
            rows = await asyncio.gather(*(ask(mode, text) for text in burst))
            report(f"{args.mentions} concurrent mentions, {mode.name}", {mode.name: list(rows)})
        for mode in modes:
            await mode.runner.cleanup()
            await mode.standin.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--mentions", type=int, default=20)
    parser.add_argument("--questions", type=int, default=8, help="answerable samples to use")
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="fl-bench-slack-"))
    core = build_firstline(Settings.load({"data_dir": data_dir, "cache_ttl_seconds": 0},
                                         environ={}))
    core.indexing.index()
    core.load()
    items = [json.loads(line) for line in
             (SAMPLES / "_build" / "questions.jsonl").read_text().splitlines() if line.strip()]
    questions = [i["question"] for i in items if i["answerable"]][:args.questions]
    print(f"load average before: {load_average()}; {len(questions)} sample questions")
    asyncio.run(run(core, questions, args))
    asyncio.run(core.aclose())


if __name__ == "__main__":
    main()
