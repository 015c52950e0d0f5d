"""Approved answers: the list (status, owner, review date and whether it is due, cited
documents, audience, why withdrawn), and forms to add, edit and withdraw one — all through
:class:`bot.answering.approved.ApprovedBook`, whose one-line errors are shown above the forms."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from aiohttp import web

from bot.app.admin.pages import PREFIX, Context, Page
from bot.errors import UserFacingError
from bot.ledger.approved import Approved

STATUSES = ("active", "withdrawn", "all")


def _paths(text: str) -> list[str]:
    return [p.strip() for p in text.replace(",", "\n").splitlines() if p.strip()]


def _review_on(text: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UserFacingError(f"review date {text!r} is not a date like 2025-06-30") from None


def _fields(form: Mapping[str, Any]) -> dict[str, Any]:
    text = {k: str(form.get(k, "")) for k in ("question", "answer", "language", "owner",
                                              "review_on", "audience")}
    cited = [str(v) for v in form.getall("cite", [])] if hasattr(form, "getall") else []
    cited += _paths(str(form.get("cited", "")))
    return {"question": text["question"], "answer": text["answer"],
            "language": text["language"], "owner": text["owner"],
            "review_on": _review_on(text["review_on"]), "cited": cited,
            "audience": _paths(text["audience"])}


def add_from_form(console: Context, form: Mapping[str, Any], origin: str) -> Approved:
    """A new approved answer from a posted form (blocking: encodes the question)."""
    f = _fields(form)
    return console.approved.add(f["question"], f["answer"], f["language"], f["owner"],
                                review_on=f["review_on"], cited=f["cited"],
                                audience=f["audience"], origin=origin)


async def view(console: Context, request: web.Request, error: str = "",
               status: int = 200) -> web.StreamResponse:
    shown = request.query.get("status", "active")
    shown = shown if shown in STATUSES else "active"
    items = await asyncio.to_thread(console.approved.store.approved_list,
                                    None if shown == "all" else shown)
    response = console.render(
        request, "approved.html", items=items, shown=shown, statuses=STATUSES, error=error,
        today=datetime.now(UTC).date(),
        done={k: request.query[k] for k in ("added", "edited", "withdrawn") if k in request.query})
    response.set_status(status)
    return response


async def add(console: Context, request: web.Request) -> web.StreamResponse:
    form = await request.post()
    return await _then(console, request,
                       lambda: add_from_form(console, form, "console").id, "added")


async def edit(console: Context, request: web.Request) -> web.StreamResponse:
    form = await request.post()

    def change() -> str:
        f = _fields(form)
        return console.approved.edit(str(form.get("id", "")), question=f["question"],
                                     answer=f["answer"], language=f["language"],
                                     owner=f["owner"], review_on=f["review_on"],
                                     cited=f["cited"], audience=f["audience"]).id
    return await _then(console, request, change, "edited")


async def withdraw(console: Context, request: web.Request) -> web.StreamResponse:
    form = await request.post()
    return await _then(console, request, lambda: console.approved.withdraw(
        str(form.get("id", "")), str(form.get("why", ""))).id, "withdrawn")


async def _then(console: Context, request: web.Request, action: Any,
                done: str) -> web.StreamResponse:
    try:
        approved_id = await asyncio.to_thread(action)
    except UserFacingError as exc:
        return await view(console, request, error=str(exc), status=400)
    raise web.HTTPFound(f"{PREFIX}/approved?{done}={approved_id}"
                        + ("&status=all" if done == "withdrawn" else ""))


PAGE = Page("approved", "approved", view, routes=(
    ("POST", "add", add), ("POST", "edit", edit), ("POST", "withdraw", withdraw)))
