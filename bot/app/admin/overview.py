"""Overview: answers per day by route, deflection, escalation, spend against all-cloud, latency
and votes over the last 7, 30 or 90 days — from the ledger's per-day tallies (SQL)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from aiohttp import web

from bot.app.admin.charts import stacked_bars
from bot.app.admin.pages import Context, Page
from bot.ledger.tally import Tally

WINDOWS = (7, 30, 90)
ANSWERED = ("local", "cloud", "cache", "approved")  # routes that answer from the documents
ESCALATED = ("cloud",)
NOT_QUESTIONS = ("command",)  # admin commands are not counted as questions


def window_start(days: int, today: date | None = None) -> datetime:
    """UTC midnight ``days - 1`` days ago: the window includes today."""
    today = today or datetime.now(UTC).date()
    return datetime.combine(today - timedelta(days=days - 1), time(), tzinfo=UTC)


def chosen_window(request: web.Request) -> int:
    given = request.query.get("days", "")
    return int(given) if given.isdigit() and int(given) in WINDOWS else WINDOWS[0]


@dataclass
class Figures:
    """What the overview shows, from the tallies of one window."""

    days: list[str]
    questions: int = 0
    deflected: int = 0
    escalated: int = 0
    cost_usd: float = 0.0
    all_cloud_cost_usd: float = 0.0
    thumbs_up: int = 0
    thumbs_down: int = 0
    per_route: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def of(cls, tallies: Sequence[Tally], start: date, days: int) -> Figures:
        figures = cls([(start + timedelta(days=i)).isoformat() for i in range(days)])
        index = {day: i for i, day in enumerate(figures.days)}
        for tally in tallies:
            figures.add(tally, index.get(tally.day))
        return figures

    def add(self, tally: Tally, day: int | None) -> None:
        if day is not None:
            self.per_route.setdefault(tally.route, [0] * len(self.days))[day] += tally.answers
        self.cost_usd += tally.cost_usd
        self.all_cloud_cost_usd += tally.all_cloud_cost_usd
        self.thumbs_up += tally.answers * (tally.feedback == "up")
        self.thumbs_down += tally.answers * (tally.feedback == "down")
        if tally.route in NOT_QUESTIONS:
            return
        self.questions += tally.answers
        self.escalated += tally.answers * (tally.route in ESCALATED)
        kept = tally.route in ANSWERED and not tally.handed_off and tally.feedback != "down"
        self.deflected += tally.answers * kept

    def share(self, part: int) -> float:
        return part / self.questions if self.questions else 0.0


async def view(console: Context, request: web.Request) -> web.StreamResponse:
    days = chosen_window(request)
    start = window_start(days)
    tallies = await asyncio.to_thread(console.ledger.tallies, start, tokens=False)
    p50, p95 = await asyncio.to_thread(console.ledger.latency_quantiles, (0.5, 0.95), start)
    figures = Figures.of(tallies, start.date(), days)
    routes = dict(sorted(figures.per_route.items()))
    chart = stacked_bars(figures.days, routes, console.label(request, "answers_per_day"))
    return console.render(request, "overview.html", f=figures, days=days, windows=WINDOWS,
                          p50=p50, p95=p95, chart=chart, routes=list(routes))


PAGE = Page("overview", "overview", view)
