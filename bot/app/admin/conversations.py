"""Conversations: the ledger's answers, newest first, a page at a time, filtered by route and
vote. Question text shows only where the row has it (FIRSTLINE_LOG_QUESTION_TEXT was on when it
was written); otherwise route, reason, sources and language say what happened."""

from __future__ import annotations

import asyncio

from aiohttp import web

from bot.app.admin.pages import Context, Page
from bot.types import Route

PAGE_SIZE = 50
ROUTES = tuple(dict.fromkeys([*(r.value for r in Route), "approved"]))
VOTES = ("up", "down", "none")


def _choice(request: web.Request, name: str, allowed: tuple[str, ...]) -> str | None:
    given = request.query.get(name, "")
    return given if given in allowed else None


async def view(console: Context, request: web.Request) -> web.StreamResponse:
    route, vote = _choice(request, "route", ROUTES), _choice(request, "feedback", VOTES)
    given = request.query.get("page", "0")
    page = int(given) if given.isdigit() else 0
    rows = await asyncio.to_thread(console.ledger.latest, PAGE_SIZE + 1, page * PAGE_SIZE,
                                   route=route, feedback=vote)
    filters = {k: v for k, v in (("route", route), ("feedback", vote)) if v}
    return console.render(request, "conversations.html", rows=rows[:PAGE_SIZE], page=page,
                          more=len(rows) > PAGE_SIZE, routes=ROUTES, votes=VOTES, route=route,
                          vote=vote, filters=filters,
                          logging_text=console.settings.log_question_text)


PAGE = Page("conversations", "conversations", view)
