"""Costs: answers, spend, all-cloud cost, saving and prompt / output tokens per day, route or
model over 7, 30 or 90 days (from the ledger's tallies, summed in SQL), and the per day × route
× models rows as CSV."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass

from aiohttp import web

from bot.app.admin.overview import WINDOWS, chosen_window, window_start
from bot.app.admin.pages import Context, Page
from bot.ledger.tally import Tally

GROUPINGS = ("day", "route", "model")
CSV_COLUMNS = ("day", "route", "models", "answers", "cost_usd", "all_cloud_cost_usd",
               "saving_usd", "prompt_tokens", "completion_tokens")


@dataclass
class Line:
    key: str
    answers: int = 0
    cost_usd: float = 0.0
    all_cloud_cost_usd: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def saving_usd(self) -> float:
        return self.all_cloud_cost_usd - self.cost_usd

    def add(self, tally: Tally, model: str | None = None) -> None:
        """Count ``tally`` in; with ``model``, only that model's tokens."""
        self.answers += tally.answers
        self.cost_usd += tally.cost_usd
        self.all_cloud_cost_usd += tally.all_cloud_cost_usd
        for used in tally.tokens:
            if model is None or used.model == model:
                self.prompt_tokens += used.prompt
                self.completion_tokens += used.completion


def keys(tally: Tally, by: str) -> list[str]:
    """The keys a tally counts toward (an answer that used two models counts for both, one
    that used a model twice once for it)."""
    if by == "model":
        return list(dict.fromkeys(tally.models)) or ["(none)"]
    return [tally.day if by == "day" else tally.route]


def lines(tallies: Iterable[Tally], by: str) -> tuple[list[Line], Line]:
    """One line per key (days in order, others most answers first), and the total."""
    found: dict[str, Line] = {}
    total = Line("total")
    for tally in tallies:
        total.add(tally)
        for key in keys(tally, by):
            found.setdefault(key, Line(key)).add(tally, key if by == "model" else None)
    order = sorted(found.values(), key=(lambda ln: ln.key) if by == "day"
                   else (lambda ln: (-ln.answers, ln.key)))
    return order, total


async def view(console: Context, request: web.Request) -> web.StreamResponse:
    days = chosen_window(request)
    by = request.query.get("by", "day")
    by = by if by in GROUPINGS else "day"
    tallies = await asyncio.to_thread(console.ledger.tallies, window_start(days))
    rows, total = lines(tallies, by)
    return console.render(request, "costs.html", rows=rows, total=total, days=days, by=by,
                          windows=WINDOWS, groupings=GROUPINGS)


async def export(console: Context, request: web.Request) -> web.StreamResponse:
    """``costs.csv``: one row per day, route and models used in the window."""
    days = chosen_window(request)
    tallies = await asyncio.to_thread(console.ledger.tallies, window_start(days))
    merged: dict[tuple[str, str, str], Line] = {}
    for tally in tallies:
        key = (tally.day, tally.route, "+".join(tally.models))
        merged.setdefault(key, Line("")).add(tally)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for (day, route, models), line in sorted(merged.items()):
        writer.writerow([day, route, models, line.answers, f"{line.cost_usd:.6f}",
                         f"{line.all_cloud_cost_usd:.6f}", f"{line.saving_usd:.6f}",
                         line.prompt_tokens, line.completion_tokens])
    return web.Response(text=out.getvalue(), content_type="text/csv", headers={
        "Content-Disposition": f'attachment; filename="firstline-costs-{days}d.csv"'})


PAGE = Page("costs", "costs", view, routes=(("GET", "costs.csv", export),))
