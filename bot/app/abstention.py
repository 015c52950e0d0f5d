"""`firstline router abstention`: fit the calibrated abstention model and write its JSON.

From evaluation samples (``--samples FILE``, one answer per line as
``tests/bench/collect_abstention.py`` writes them: ``signals``, ``language``, ``answerable``,
``covered``, ``confident``, ``right``), or from the company's own ledger (``--ledger``): every
answer the local model gave (route ``local`` or ``local-fallback``) that reached the abstention
judgement (``verify_yes`` or ``verify_skipped`` in its signals) and that someone rated 👍 or
👎. 👍 counts as right and to be kept, 👎 as wrong and better declined. Declined answers, cloud
answers and unrated ones do not count (their rating, or their absence, says nothing about the
local draft)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bot.errors import UserFacingError
from bot.ledger.rows import LedgerRow
from bot.ledger.store import Ledger
from bot.routing.abstention import Row, fit_abstention, judged, report, select_features
from bot.settings import Settings

LOCAL_ROUTES = ("local", "local-fallback")


def sample_rows(path: Path) -> list[Row]:
    """Rows from a samples file; :class:`UserFacingError` naming the line that is wrong."""
    if not path.is_file():
        raise UserFacingError(f"no such samples file: {path}")
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            d: dict[str, Any] = json.loads(line)
            rows.append(Row(str(d["id"]), str(d.get("language") or "en"), dict(d["signals"]),
                            bool(d["covered"]), bool(d["answerable"]), bool(d["right"]),
                            bool(d.get("confident", d["covered"]))))
        except (ValueError, KeyError, TypeError) as exc:
            raise UserFacingError(f"{path} line {n} is not a sample ({exc})") from None
    return rows


def describe_samples(path: Path) -> str:
    """"fold 0 of helpdesk-en (30), …" from a samples file's ``set`` and ``fold`` fields."""
    counts: dict[tuple[Any, Any], int] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            key = (d.get("fold"), d.get("set"))
            counts[key] = counts.get(key, 0) + 1
    parts = [f"{name} ({n})" if fold is None else f"fold {fold} of {name} ({n})"
             for (fold, name), n in sorted(counts.items(), key=str)]
    return f"{path.name}: " + ", ".join(parts)


def ledger_rows(rows: Iterable[LedgerRow]) -> list[Row]:
    """The rated local answers that reached the judgement (see the module docstring)."""
    out = []
    for r in rows:
        if r.route in LOCAL_ROUTES and r.feedback in ("up", "down") and judged(r.signals):
            good = r.feedback == "up"
            out.append(Row(r.answer_id, r.language, dict(r.signals), True, good, good,
                           r.reason == "confident"))
    return out


def run_abstention_command(args: argparse.Namespace, settings: Settings) -> int:
    limit = args.max_wrongly_declined
    if not 0.0 <= limit <= 1.0:
        raise UserFacingError("--max-wrongly-declined is a share between 0 and 1, e.g. 0.10")
    if bool(args.samples) == bool(args.ledger):
        raise UserFacingError("give either --samples FILE or --ledger")
    names = select_features(args.features, args.drop)
    if args.samples:
        rows, source = sample_rows(args.samples), describe_samples(args.samples)
    else:
        with Ledger.from_settings(settings) as ledger:
            rows, source = ledger_rows(ledger.rows()), "the ledger's rated local answers"
    model = fit_abstention(rows, max_wrongly_declined=limit, source=source, names=names)
    out: Path = args.out or settings.data_dir / "abstention.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out)
    print(report(model))
    print(f"wrote {out} (load it with FIRSTLINE_ABSTENTION_CONFIG={out})")
    return 0

