"""Throughput and latency with 1, 2 and 4 concurrent askers: the SLM in-process versus the SLM
server (``python -m bot.slm_server`` → llama_cpp.server over HTTP), same index, same questions.

    python tests/bench/bench_scaleout.py [--data-dir DIR] [--per-asker 2]

Each level asks ``askers × per_asker`` distinct answerable questions from the sample set (the
answer cache is off), ``askers`` at a time. Printed per mode and level: answers per minute, p50
and p95 end-to-end latency, mean SLM time per answer, and how much of the latency was waiting
for the SLM rather than using it — which is where the bottleneck shows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from _common import SAMPLES, load_average, percentile

from bot.answering.responder import Firstline
from bot.app.composition import build_firstline
from bot.models.remote import RemoteSLM
from bot.settings import Settings
from bot.types import Question

QUESTIONS = SAMPLES / "_build" / "questions.jsonl"
LEVELS = (1, 2, 4)


def questions() -> list[str]:
    rows = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    return [r["question"] for r in rows if r.get("answerable") and r["id"].startswith("en")]


async def level(core: Firstline, askers: int, asked: list[str]) -> dict[str, float]:
    queue: asyncio.Queue[str] = asyncio.Queue()
    for q in asked:
        queue.put_nowait(q)
    latencies: list[float] = []
    slm: list[float] = []

    async def asker(n: int) -> None:
        while not queue.empty():
            reply = await core.handle(Question(queue.get_nowait(), user=f"bench{n}"))
            latencies.append(reply.latency_ms / 1000)
            slm.append(_slm_seconds(core, reply.answer_id))

    started = time.perf_counter()
    await asyncio.gather(*(asker(n) for n in range(askers)))
    wall = time.perf_counter() - started
    return {"askers": askers, "answers": len(latencies), "per_min": 60 * len(latencies) / wall,
            "p50": percentile(latencies, 0.5), "p95": percentile(latencies, 0.95),
            "slm": statistics.fmean(slm),
            "wait": statistics.fmean(latencies) - statistics.fmean(slm)}


def _slm_seconds(core: Firstline, answer_id: str) -> float:
    """The SLM's own time for one answer, from its ledger row (cost = seconds × rate)."""
    row = core.ledger.get(answer_id)
    rate = core.settings.onprem_usd_per_second
    return (row.cost_usd / rate) if row and rate else 0.0


def start_server(command: list[str], port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=2):
                return process
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise SystemExit(f"{command} did not start")


def servers(model: str, data_dir: Path, port: int) -> list[subprocess.Popen[bytes]]:
    """The SLM server as deployed (logprobs on), and with --no-logprobs (no confidence signals),
    to show what the logprobs cost."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRSTLINE_")}
    env |= {"FIRSTLINE_DATA_DIR": str(data_dir), "FIRSTLINE_SLM_MODEL": model}
    deployed = [sys.executable, "-m", "bot.slm_server", "--host", "127.0.0.1", "--port", str(port)]
    bare = [*deployed[:-1], str(port + 1), "--no-logprobs"]
    return [start_server(deployed, port, env), start_server(bare, port + 1, env)]


async def run_modes(cores: dict[str, Firstline], pool: list[str],
                    per_asker: int) -> dict[str, list[dict[str, float]]]:
    """Each level runs every mode in turn, so drifting load on a shared machine hits all alike.
    A mode is a core of its own over the same store, built with that mode's SLM."""
    for core in cores.values():
        await core.handle(Question(pool[-1]))  # warm: model loaded, system prompt in KV cache
    results: dict[str, list[dict[str, float]]] = {name: [] for name in cores}
    offset = 0
    for askers in LEVELS:
        count = askers * per_asker
        asked = [pool[(offset + i) % (len(pool) - 1)] for i in range(count)]
        offset += count
        for name, core in cores.items():
            results[name].append(await level(core, askers, asked))
    return results


def report(name: str, rows: list[dict[str, float]]) -> None:
    print(f"\n{name}")
    print(" askers  answers  answers/min   p50 s   p95 s   SLM s/answer   waiting s/answer")
    for r in rows:
        print(f" {r['askers']:>6.0f}  {r['answers']:>7.0f}  {r['per_min']:>11.2f}  "
              f"{r['p50']:>6.1f}  {r['p95']:>6.1f}  {r['slm']:>13.1f}  {r['wait']:>17.1f}")
    one, four = rows[0], rows[-1]
    print(f" 4 askers: {four['per_min'] / one['per_min']:.2f}x the answers/min of one asker, "
          f"p95 {four['p95'] / one['p95']:.1f}x")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--per-asker", type=int, default=2)
    parser.add_argument("--port", type=int, default=18080)
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="firstline-bench-scaleout-"))
    settings = Settings.load({"data_dir": data_dir, "cache_ttl_seconds": 0}, environ={},
                             config_file=data_dir / "none.toml")
    core = build_firstline(settings)
    core.indexing.index()
    core.load()
    pool = questions()
    print(f"cores: {os.cpu_count()}, shared with other work on this machine (load average "
          f"{load_average()} before); model {core.local.name}; {len(pool)} questions, "
          f"{args.per_asker} per asker per level; answer cache off", flush=True)
    model = str(core.local.model_path)  # type: ignore[attr-defined]
    processes = servers(model, data_dir / "slm-server", args.port)
    base = f"http://127.0.0.1:{args.port}"
    deployed = RemoteSLM(f"{base}/v1", "", timeout=600.0)
    bare = RemoteSLM(f"http://127.0.0.1:{args.port + 1}/v1", "", timeout=600.0)
    bare.want_logprobs = False
    cores = {"SLM in-process (llama-cpp-python, one context behind a lock)": core,
             "SLM server as deployed (python -m bot.slm_server; logprobs on)":
                 build_firstline(settings, local=deployed),
             "SLM server --no-logprobs (llama_cpp.server --logits_all false; no confidence)":
                 build_firstline(settings, local=bare)}
    try:
        for remote in (deployed, bare):
            remote.load()
        results = await run_modes(cores, pool, args.per_asker)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        for mode in cores.values():
            if mode is not core:
                await mode.aclose()
    for name, rows in results.items():
        report(name, rows)
    print(f"\nload average after: {load_average()}. SLM s/answer is the model's own time "
          "in-process; for a server it is the HTTP round trip, which includes queueing inside "
          "the server (one request at a time), so 'waiting' there stays near 0.")
    await core.aclose()


if __name__ == "__main__":
    asyncio.run(main())
