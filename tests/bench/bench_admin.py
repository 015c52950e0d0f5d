"""Benchmark: admin console page render time with a big ledger, beside the same pages over a
small one and the `firstline costs` report over the same big one, all in this process.

    python tests/bench/bench_admin.py [--rows 100000] [--baseline-rows 1000] [--repeats 20]

Each ledger is a real SQLite file filled with rows spread over the last 90 days (mixed routes,
votes, models, latencies, question text logged); the console is served by aiohttp on loopback
(tests/admin/console_harness.py) and each page is fetched over HTTP with the bearer token, so
a figure is the whole request: auth, the ledger's SQL, Jinja and the socket. Prints p50/p95/mean
in milliseconds per page and ledger size.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import ROOT, describe, load_average

sys.path.insert(0, str(ROOT / "tests" / "admin"))

from console_harness import TOKEN, console_core, serving  # noqa: E402

from bot.ledger.pricing import Pricing  # noqa: E402
from bot.ledger.report import pricing_note, render  # noqa: E402
from bot.ledger.schema import answers, create_ledger_engine, write  # noqa: E402
from bot.ledger.store import Ledger  # noqa: E402

PAGES = ["/admin/overview?days=7", "/admin/overview?days=90", "/admin/conversations",
         "/admin/conversations?route=cloud&feedback=down", "/admin/conversations?page=200",
         "/admin/documents", "/admin/costs?days=90&by=day", "/admin/costs?days=90&by=model",
         "/admin/costs/costs.csv?days=90"]
DAY = 86400
ROUTES = ["local"] * 6 + ["cloud"] * 2 + ["cache", "declined", "local-fallback", "failed"]


def bench_row(rng: random.Random, n: int, now: datetime) -> dict[str, object]:
    route = rng.choice(ROUTES)
    models = ["slm", "gpt-4o-mini"] if route == "cloud" else ["slm"]
    tokens = {m: {"prompt": 900, "completion": 120} for m in models}
    return {
        "answer_id": f"b{n:08d}", "created_at": now - timedelta(seconds=rng.uniform(0, 90 * DAY)),
        "channel": rng.choice(["slack", "teams"]), "user_hash": f"u{rng.randrange(500)}",
        "conversation": f"c{n}", "route": route, "reason": "bench", "signals": "{}",
        "models": json.dumps(models), "tokens": json.dumps(tokens),
        "latency_ms": rng.lognormvariate(7, 0.6), "all_cloud_cost_usd": 0.0004,
        "cost_usd": 0.0004 if route == "cloud" else 0.0, "language": rng.choice(["en", "ja"]),
        "sources": json.dumps([{"path": "it/vpn.md", "title": "VPN", "score": 0.7}]),
        "question": f"bench question {n} about the VPN and the expense deadline",
        "feedback": rng.choice([None] * 8 + ["up", "down"]),
    }


def fill(url: str, count: int, seed: int = 7) -> None:
    """``count`` rows over the last 90 days, inserted in batches of 5,000."""
    rng, now = random.Random(seed), datetime.now(UTC)
    engine = create_ledger_engine(url)
    try:
        for first in range(0, count, 5000):
            batch = [bench_row(rng, n, now) for n in range(first, min(count, first + 5000))]
            with write(engine) as conn:
                conn.execute(answers.insert(), batch)
    finally:
        engine.dispose()


def ledger_url(tmp: Path, count: int) -> str:
    return f"sqlite:///{tmp / f'rows-{count}' / 'ledger.sqlite3'}"


def fetch(url: str) -> float:
    started = time.perf_counter()
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request) as response:
        response.read()
    return (time.perf_counter() - started) * 1000


def time_pages(count: int, repeats: int, tmp: Path) -> dict[str, list[float]]:
    core = console_core(tmp / f"rows-{count}", log_question_text=True)
    core.indexing.index()
    started = time.perf_counter()
    fill(ledger_url(tmp, count), count)
    print(f"  filled {count} rows in {time.perf_counter() - started:.1f}s")
    figures: dict[str, list[float]] = {}
    with serving(core) as served:
        for page in PAGES:
            fetch(served.url + page)  # warm
            figures[page] = [fetch(served.url + page) for _ in range(repeats)]
    return figures


def time_costs_report(url: str, repeats: int) -> list[float]:
    """What `firstline costs --by day` does (its table and note), over the same database."""
    times = []
    with Ledger(url) as ledger:
        for _ in range(repeats):
            started = time.perf_counter()
            rows = ledger.summary(by="day")
            total = ledger.summary()[0]
            render(rows, "table", totals=total) + pricing_note(total, Pricing())
            times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--baseline-rows", type=int, default=1_000)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(f"admin console render time, ms (load average {load_average()})")
    with tempfile.TemporaryDirectory() as tmp:
        small = time_pages(args.baseline_rows, args.repeats, Path(tmp))
        big = time_pages(args.rows, args.repeats, Path(tmp))
        report = time_costs_report(ledger_url(Path(tmp), args.rows), max(3, args.repeats // 4))
    for page in PAGES:
        print(f"{page}\n  {args.baseline_rows:>7} rows: {describe(small[page])}"
              f"\n  {args.rows:>7} rows: {describe(big[page])}")
    print(f"baseline: `firstline costs --by day` over the same {args.rows} rows:\n"
          f"                 {describe(report)}")


if __name__ == "__main__":
    main()
