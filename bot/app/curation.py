"""`firstline gaps` and `firstline approved add|list|withdraw`: the knowledge gaps report and
the approved answers, from the ledger and the knowledge store (no chat model is loaded)."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bot.answering.approved import ApprovedBook, approved_encoders
from bot.answering.gaps import GapFinder, parse_period, render_gaps
from bot.app.composition import embedders, open_store
from bot.errors import UserFacingError
from bot.ledger.approved import Approved
from bot.ledger.store import Ledger
from bot.settings import Settings


def run_gaps_command(args: argparse.Namespace, settings: Settings) -> int:
    try:
        since = parse_period(args.since)
    except ValueError as exc:
        raise UserFacingError(f"--since: {exc}") from exc
    with Ledger.from_settings(settings) as ledger:
        finder = GapFinder(ledger, open_store(settings), similarity=settings.gaps_similarity,
                           low_confidence=settings.gaps_low_confidence,
                           min_count=settings.gaps_min_count)
        gaps = finder.find(since, limit=args.limit)
    if args.json:
        print(json.dumps({"since": since.isoformat(), "gaps": [g.as_dict() for g in gaps]},
                         ensure_ascii=False, indent=2))
    else:
        print(render_gaps(gaps, since))
    return 0


def approved_book(settings: Settings, ledger: Ledger) -> ApprovedBook:
    """The approved answers on ``ledger``, embedded as the bot embeds questions."""
    main, multilingual = embedders(settings)
    return ApprovedBook(ledger, approved_encoders(main, multilingual), open_store(settings),
                        settings.approved_similarity, settings.approved_similarity_ja)


def run_approved_command(args: argparse.Namespace, settings: Settings) -> int:
    with Ledger.from_settings(settings) as ledger:
        book = approved_book(settings, ledger)
        if args.approved_command == "add":
            item = book.add(args.question, _answer_text(args.answer), args.language, args.owner,
                            review_on=_date(args.review_on), cited=args.cite,
                            audience=args.audience.split(","), origin="cli")
            print(f"approved {item.id}")
        elif args.approved_command == "withdraw":
            print(f"withdrawn {book.withdraw(args.id, args.why).id}")
        else:
            _list(book, args)
    return 0


def _list(book: ApprovedBook, args: argparse.Namespace) -> None:
    items = book.store.approved_list(None if args.all else "active")
    today = datetime.now(UTC).date()
    if args.json:
        print(json.dumps([approved_dict(a, today) for a in items], ensure_ascii=False, indent=2))
        return
    if not items:
        print("no approved answers" + ("" if args.all else " (--all shows withdrawn ones)"))
    for a in items:
        due = " DUE FOR REVIEW" if a.status == "active" and a.due(today) else ""
        state = a.status + (f" ({a.withdrawn_reason})" if a.withdrawn_reason else "")
        print(f"{a.id} [{a.language}] {state}{due} owner={a.owner} "
              f"review={a.review_on or '-'} cites={','.join(c.path for c in a.cited) or '-'}"
              f"\n  Q: {a.question}")


def approved_dict(a: Approved, today: date) -> dict[str, Any]:
    """An approved answer as JSON (without its vector)."""
    return {"id": a.id, "question": a.question, "answer": a.answer, "language": a.language,
            "owner": a.owner, "review_on": a.review_on.isoformat() if a.review_on else None,
            "due": a.status == "active" and a.due(today),
            "cited": [{"path": c.path, "sha256": c.sha256, "title": c.title} for c in a.cited],
            "audience": list(a.audience), "status": a.status,
            "withdrawn_reason": a.withdrawn_reason, "origin": a.origin,
            "created_at": a.created_at.isoformat(), "updated_at": a.updated_at.isoformat()}


def _date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UserFacingError(f"--review-on: {text!r} is not a date like 2025-06-30") from None


def _answer_text(text: str) -> str:
    if not text.startswith("@"):
        return text
    path = Path(text[1:])
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserFacingError(f"--answer {text}: cannot read the file ({exc})") from None



