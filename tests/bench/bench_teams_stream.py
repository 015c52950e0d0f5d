"""Streamed answers through the Teams adapter beside the plain (non-streamed) path, in one run.

    python tests/bench/bench_teams_stream.py [--repeat 1] [--chats 20] [--data-dir DIR]

The real adapter (mounted as `firstline serve` does) on one real core (sample knowledge base,
packaged GGUF, answer cache off, warm), against the Bot Connector stand-ins of
tests/adapters/teams/ over HTTPS on loopback (tokens checked, Teams' streaming rules applied).
Per question, from POSTing the signed activity:

* first text: the first activity carrying answer text — the first ``streaming`` chunk in a 1:1
  chat (streamed), the answer's message in a group chat, where Teams does not stream (plain);
* finished: the answer's message (the stream's ``final`` message when streamed).

Single questions alternate the two paths question by question (swapping each pass, so each
question goes both ways under the same load); then ``--chats`` concurrent questions, each in its
own 1:1 chat (one stream per chat), alternating with as many group-chat questions, round by
round (``--rounds``), each also with the model handed out by the plain lock of before
(``--turns``). Stand-ins, adapter and model share one machine: figures are pessimistic.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import ROOT, burst_parser, describe, load_average, sample_questions

sys.path.insert(0, str(ROOT / "tests" / "adapters" / "teams"))

import certifi  # noqa: E402
from teams_helpers import APP_ID, APP_PASSWORD, RunningBot, message, served  # noqa: E402
from teams_standins import BotFrameworkStandIns, Posted, make_tls  # noqa: E402

from adapters.teams.settings import TeamsSettings  # noqa: E402
from bot.app.composition import build_firstline  # noqa: E402
from bot.models.turns import Turns  # noqa: E402
from bot.settings import Settings  # noqa: E402

TIMEOUT = 1800.0
MODES = ("streamed", "plain")


def stream_type(posted: Posted) -> str:
    infos = [e for e in posted.activity.get("entities") or [] if e.get("type") == "streaminfo"]
    return str(infos[0].get("streamType", "")) if infos else ""


def is_answer(posted: Posted) -> bool:
    return posted.type == "message" and not posted.error


def is_text(posted: Posted) -> bool:
    return is_answer(posted) or (stream_type(posted) == "streaming" and not posted.error)


async def ask(bot: RunningBot, mode: str, text: str) -> dict[str, float]:
    personal = mode == "streamed"
    activity = message(bot.cloud, text, kind="personal" if personal else "groupChat",
                       mention=not personal)
    conversation = activity["conversation"]["id"]
    sent = time.perf_counter()
    assert await bot.post(activity) == 202
    first = await bot.cloud.wait_for(conversation, is_text, TIMEOUT)
    done = await bot.cloud.wait_for(conversation, is_answer, TIMEOUT)
    refused = bot.cloud.refused(conversation)
    assert not refused, [(p.status, p.error) for p in refused]
    return {"first": (first.at - sent) * 1000, "done": (done.at - sent) * 1000,
            "chunks": float(sum(stream_type(p) == "streaming" for p in
                                bot.cloud.posted(conversation)))}


async def singles(bot: RunningBot, questions: list[str], repeat: int
                  ) -> dict[str, list[dict[str, float]]]:
    results: dict[str, list[dict[str, float]]] = {m: [] for m in MODES}
    for n in range(repeat):
        for i, text in enumerate(questions):
            mode = MODES[(i + n) % 2]
            results[mode].append(await ask(bot, mode, text))
    return results


async def bursts(bot: RunningBot, questions: list[str], chats: int, rounds: int,
                 turns: tuple[bool, ...]) -> dict[str, list[dict[str, float]]]:
    """``chats`` concurrent questions per burst, each path with each way of handing out the
    model (``turns``: ordered, as now, and/or the plain lock before), in ABBA order."""
    once = [(mode, ordered) for i, ordered in enumerate(turns)
            for mode in (MODES if i % 2 == 0 else MODES[::-1])]
    results: dict[str, list[dict[str, float]]] = {}
    for n in range(rounds):
        for mode, ordered in (once if n % 2 == 0 else once[::-1]):
            bot.responder.local.turns = Turns(ordered)  # LocalSLM
            burst = [questions[i % len(questions)] for i in range(chats)]
            rows = await asyncio.gather(*(ask(bot, mode, text) for text in burst))
            name = f"{mode}, {'ordered turns' if ordered else 'lock, as before'}"
            results.setdefault(name, []).extend(rows)
    return results


def report(title: str, results: dict[str, list[dict[str, float]]]) -> None:
    print(f"\n{title}  (load average {load_average()})")
    for name, rows in results.items():
        print(f"  {name:<9} n={len(rows)}")
        for key, label in (("first", "first text"), ("done", "finished")):
            print(f"    {label:<11} ms: {describe([r[key] for r in rows])}")
        if name.startswith("streamed"):
            print(f"    chunks per answer: {describe([r['chunks'] for r in rows])}")


async def run(core: Any, cloud: BotFrameworkStandIns, questions: list[str],
              args: argparse.Namespace) -> None:
    teams = TeamsSettings(app_id=APP_ID, app_password=APP_PASSWORD, app_type="MultiTenant",
                          openid_metadata_url=cloud.openid_metadata_url,
                          login_url=cloud.login_url)
    async with served(core, teams, cloud) as bot:
        await singles(bot, questions[:2], 1)  # warm: tokens, keys, encoders, the KV cache
        report("single questions", await singles(bot, questions, args.repeat))
        turns = {"both": (True, False), "ordered": (True,), "plain": (False,)}[args.turns]
        report(f"{args.chats} concurrent questions, {args.rounds} round(s) of each (ABBA)",
               await bursts(bot, questions, args.chats, args.rounds, turns))


def main() -> None:
    parser = burst_parser(__doc__.split("\n")[0], "chats", "bursts of each path and turns")
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="fl-bench-teams-"))
    tls = make_tls(Path(tempfile.mkdtemp(prefix="fl-bench-tls-")))
    bundle = tls.ca_file.with_name("bundle.pem")  # botbuilder and MSAL trust the test CA
    bundle.write_text(Path(certifi.where()).read_text() + tls.ca_file.read_text())
    os.environ["REQUESTS_CA_BUNDLE"] = str(bundle)
    cloud = BotFrameworkStandIns(tls, APP_ID, APP_PASSWORD)
    cloud.start()
    core = build_firstline(Settings.load({"data_dir": data_dir, "cache_ttl_seconds": 0},
                                         environ={}))
    core.indexing.index()
    core.load()
    questions = sample_questions(args.questions)
    print(f"load average before: {load_average()}; {len(questions)} sample questions")
    try:
        asyncio.run(run(core, cloud, questions, args))
    finally:
        asyncio.run(core.aclose())
        cloud.stop()


if __name__ == "__main__":
    main()
