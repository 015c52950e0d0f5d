"""`firstline costs`: the ledger's totals, escalation share and savings, and how the dollars
are reckoned (the on-prem rate and what it assumes)."""

from __future__ import annotations

import argparse
import sys

from bot.ledger.pricing import Pricing
from bot.ledger.report import Format, parse_when, pricing_note, render
from bot.ledger.store import Ledger
from bot.settings import Settings


def run_costs(args: argparse.Namespace, settings: Settings) -> int:
    ledger = Ledger(settings.ledger_database_url)
    try:
        since = parse_when(args.since) if args.since else None
        until = parse_when(args.until) if args.until else None
        rows = ledger.summary(since=since, until=until, by=args.by)
        total = ledger.summary(since=since, until=until)[0]  # the true p50; no overlaps
    finally:
        ledger.close()
    fmt: Format = "json" if args.json else "csv" if args.csv else "table"
    sys.stdout.write(render(rows, fmt, totals=total).rstrip("\n") + "\n")
    if fmt == "table":  # the figures explained, under the table (JSON and CSV stay data)
        sys.stdout.write("\n" + pricing_note(total, Pricing.from_settings(settings)) + "\n")
    return 0
