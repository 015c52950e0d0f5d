"""What a console page is (:class:`Page`) and what its handlers are given (:class:`Context`).

A page module defines ``PAGE = Page(...)``; :mod:`bot.app.admin.registry` lists them in nav
order. Handlers are ``async def handler(console: Context, request) -> web.StreamResponse``:
they read the ledger and the knowledge store through ``console`` and return
``console.render(request, "template.html", **values)`` (or a CSV/JSON response). Every route is
behind the console's auth middleware; POST routes are also CSRF-checked there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web

from bot.answering.approved import ApprovedBook
from bot.answering.commands import Commands
from bot.answering.gaps import GapFinder
from bot.answering.indexing import Indexing
from bot.ledger.roles import AnswerLog
from bot.settings import Settings

PREFIX = "/admin"  # where the console is mounted


class Context(Protocol):
    """The console as its pages see it."""

    settings: Settings
    ledger: AnswerLog
    indexing: Indexing
    commands: Commands
    approved: ApprovedBook  # the Approved answers page, and promoting a gap
    gaps: GapFinder  # the Knowledge gaps page

    def render(self, request: web.Request, template: str, **values: Any) -> web.Response:
        """``template`` (in bot/app/admin/templates) in the page layout, in the request's
        language; ``values`` plus ``t`` (labels), ``lang``, ``csrf`` and ``nav``."""
        ...

    def label(self, request: web.Request, key: str, **values: object) -> str:
        """A label (bot/app/admin/i18n.py) in the request's language."""
        ...


Handler = Callable[[Context, web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Page:
    """A console page at ``/admin/<slug>``, named in the nav by label ``label``.

    ``routes``: more endpoints of the page, ``(method, "sub/path", handler)`` at
    ``/admin/<slug>/sub/path`` (a CSV export, a form's POST, a JSON poll).
    """

    slug: str
    label: str
    view: Handler
    routes: tuple[tuple[str, str, Handler], ...] = ()
