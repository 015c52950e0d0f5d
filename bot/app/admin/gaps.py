"""Knowledge gaps: the unanswered questions of a period grouped by similarity
(:mod:`bot.answering.gaps`), each with its count, trend, reasons, key terms, example questions
(only where question text is logged) and closest documents, and a form that promotes the gap
to an approved answer (:mod:`bot.app.admin.approved` does the adding)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from aiohttp import web

from bot.app.admin.approved import add_from_form
from bot.app.admin.pages import PREFIX, Context, Page
from bot.errors import UserFacingError
from bot.ledger.rows import utcnow

WINDOWS = (1, 7, 30, 90)  # days


def window(request: web.Request) -> int:
    try:
        days = int(request.query.get("days", "7"))
    except ValueError:
        return 7
    return days if days in WINDOWS else 7


async def view(console: Context, request: web.Request, error: str = "",
               status: int = 200) -> web.StreamResponse:
    days = window(request)
    since = utcnow() - timedelta(days=days)
    gaps = await asyncio.to_thread(console.gaps.find, since, None, 50)
    response = console.render(
        request, "gaps.html", gaps=gaps, days=days, windows=WINDOWS, error=error,
        logging_text=console.settings.log_question_text)
    response.set_status(status)
    return response


async def promote(console: Context, request: web.Request) -> web.StreamResponse:
    """POST (CSRF-checked by the console): the gap's form becomes an approved answer."""
    form = await request.post()
    try:
        item = await asyncio.to_thread(add_from_form, console, form,
                                       f"gap:{form.get('gap', '')}")
    except UserFacingError as exc:
        return await view(console, request, error=str(exc), status=400)
    raise web.HTTPFound(f"{PREFIX}/approved?added={item.id}")


PAGE = Page("gaps", "gaps", view, routes=(("POST", "promote", promote),))
