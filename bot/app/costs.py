"""`firstline costs`: the ledger's totals, escalation share and savings."""

from __future__ import annotations

import argparse
import sys

from bot.ledger.report import Format, parse_when, render
from bot.ledger.store import Ledger
from bot.settings import Settings


def run_costs(args: argparse.Namespace, settings: Settings) -> int:
    ledger = Ledger(settings.ledger_database_url)
    try:
        rows = ledger.summary(since=parse_when(args.since) if args.since else None,
                              until=parse_when(args.until) if args.until else None, by=args.by)
    finally:
        ledger.close()
    fmt: Format = "json" if args.json else "csv" if args.csv else "table"
    sys.stdout.write(render(rows, fmt).rstrip("\n") + "\n")
    return 0
