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

Single mentions alternate the two apps question by question (swapping each pass, so each
question goes both ways under the same load); then bursts of ``--mentions`` concurrent
mentions, the two apps in alternating rounds (``--rounds`` of each: streamed, placeholder,
placeholder, streamed, ...), each also with the model handed out by the plain lock of before
(``--turns``). In a burst the answers queue behind the one local model: "queued" is an answer's
finish time less its own share (its finish minus the previous answer's finish, "served"). Load
generator, apps, stand-ins and model share one machine: figures are pessimistic.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from _common import ROOT, burst_parser, describe, load_average, sample_questions

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
from bot.answering.responder import Firstline  # noqa: E402
from bot.app.composition import build_firstline  # noqa: E402
from bot.models.turns import Turns  # noqa: E402
from bot.settings import Settings  # noqa: E402

CHANNEL = "C0BENCH"
TIMEOUT = 1800.0


@dataclass
class Mode:
    name: str
    standin: SlackStandIn
    sender: SignedSender
    runner: web.AppRunner


async def start(core: Firstline, stream: bool, session: aiohttp.ClientSession) -> Mode:
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


async def bursts(core: Firstline, modes: tuple[Mode, Mode], questions: list[str],
                 mentions: int, rounds: int, turns: tuple[bool, ...]
                 ) -> dict[str, list[dict[str, float]]]:
    """``mentions`` concurrent mentions per burst, each mode with each way of handing out the
    model (``turns``: ordered, as now, and/or the plain lock before), the bursts in ABBA order
    (streamed, placeholder, placeholder, streamed, ...) so that load falls on all alike."""
    results: dict[str, list[dict[str, float]]] = {}
    for mode, ordered in schedule(modes, turns, rounds):
        core.local.turns = Turns(ordered)  # type: ignore[attr-defined]  # LocalSLM
        burst = [questions[i % len(questions)] for i in range(mentions)]
        rows = await asyncio.gather(*(ask(mode, text) for text in burst))
        name = f"{mode.name}, {'ordered turns' if ordered else 'lock, as before'}"
        results.setdefault(name, []).extend(queued(list(rows)))
    return results


def schedule(modes: tuple[Mode, Mode], turns: tuple[bool, ...], rounds: int
             ) -> list[tuple[Mode, bool]]:
    once = [(mode, ordered) for i, ordered in enumerate(turns)
            for mode in (modes if i % 2 == 0 else modes[::-1])]
    return [pair for n in range(rounds) for pair in (once if n % 2 == 0 else once[::-1])]


def queued(rows: list[dict[str, float]]) -> list[dict[str, float]]:
    """Each answer's wait behind the one local model: its finish minus the previous answer's
    finish is its own service time, the rest of its finish time is queueing."""
    ordered = sorted(rows, key=lambda r: r["done"])
    previous = 0.0
    for row in ordered:
        row["service"] = row["done"] - max(previous, 0.0)
        row["queue"] = row["done"] - row["service"]
        previous = row["done"]
    return rows


LABELS = (("ack", "ack"), ("first", "first text"), ("done", "finished"),
          ("queue", "queued"), ("service", "served"))


def report(title: str, results: dict[str, list[dict[str, float]]]) -> None:
    print(f"\n{title}  (load average {load_average()})")
    for name, rows in results.items():
        print(f"  {name:<12} n={len(rows)}")
        for key, label in LABELS:
            if key in rows[0]:
                print(f"    {label:<11} ms: {describe([r[key] for r in rows])}")


async def run(core: Firstline, questions: list[str], args: argparse.Namespace) -> None:
    async with aiohttp.ClientSession() as session:
        modes = (await start(core, True, session), await start(core, False, session))
        await singles(modes, questions[:2], 1)  # warm: connections, encoders, the KV cache
        report("single mentions", await singles(modes, questions, args.repeat))
        turns = {"both": (True, False), "ordered": (True,), "plain": (False,)}[args.turns]
        report(f"{args.mentions} concurrent mentions, {args.rounds} round(s) of each (ABBA)",
               await bursts(core, modes, questions, args.mentions, args.rounds, turns))
        for mode in modes:
            await mode.runner.cleanup()
            await mode.standin.stop()


def main() -> None:
    parser = burst_parser(__doc__.split("\n")[0], "mentions", "bursts of each mode and turns")
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="fl-bench-slack-"))
    core = build_firstline(Settings.load({"data_dir": data_dir, "cache_ttl_seconds": 0},
                                         environ={}))
    core.indexing.index()
    core.load()
    questions = sample_questions(args.questions)
    print(f"load average before: {load_average()}; {len(questions)} sample questions")
    asyncio.run(run(core, questions, args))
    asyncio.run(core.aclose())


if __name__ == "__main__":
    main()
