"""Documents: the indexed files (chunks, audiences, last indexed, flagged text), the last index
run's failed and refused files, and a Reindex button that starts the chat command's reindex
(one at a time across processes, through the ledger's lock) with its progress polled as JSON."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bot.app.admin.i18n import pick_language
from bot.app.admin.pages import PREFIX, Context, Page
from knowledge.store import FileRecord

SHOWN = 500  # files listed (a big share lists its flagged ones and the first of the rest)


def when(epoch: float | None) -> str:
    return "" if not epoch else datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M")


def listed(records: dict[str, FileRecord]) -> list[FileRecord]:
    """Flagged files first, then by path; at most :data:`SHOWN`."""
    return sorted(records.values(), key=lambda r: (not r.flags, r.path))[:SHOWN]


async def view(console: Context, request: web.Request) -> web.StreamResponse:
    records = dict(await asyncio.to_thread(console.indexing.store.files))
    last = await asyncio.to_thread(console.indexing.last_run)
    details = [d for d in (last or {}).get("details", []) if d["state"] != "note"]
    notice = {"started": "reindex_started", "busy": "reindex_busy"}.get(
        request.query.get("reindex", ""))
    return console.render(
        request, "documents.html", files=listed(records), count=len(records),
        chunks=sum(len(r.chunk_ids) for r in records.values()), last=last, details=details,
        when=when, notice=notice, progress=console.commands.progress)


async def reindex(console: Context, request: web.Request) -> web.StreamResponse:
    """POST (CSRF-checked by the console): start a reindex unless one is running anywhere."""
    form = await request.post()
    started = await console.commands.start_reindex(
        full=form.get("full") == "on", ja=pick_language(request) == "ja")
    raise web.HTTPFound(f"{PREFIX}/documents?reindex={'started' if started else 'busy'}")


async def progress(console: Context, request: web.Request) -> web.StreamResponse:
    state: dict[str, Any] = asdict(console.commands.progress)
    return web.json_response(state)


PAGE = Page("documents", "documents", view,
            routes=(("POST", "reindex", reindex), ("GET", "reindex.json", progress)))
