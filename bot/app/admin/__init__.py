"""The admin console at ``/admin/`` of `firstline serve`: server-rendered pages (Jinja2
templates, SVG charts drawn in Python, a few lines of vanilla JS, nothing fetched at run time)
over the ledger and the knowledge store.

It is off unless ``FIRSTLINE_ADMIN_TOKEN`` or ``FIRSTLINE_ADMIN_SSO_HEADER`` is set
(:func:`admin_enabled`); :func:`admin_problems` is the start-up check of its settings. Every
path under ``/admin/`` (pages, static files, CSV, JSON) needs auth (:mod:`.auth`): a bearer
token, a login session, or the SSO proxy's header; every POST needs the CSRF token.

Modules: :mod:`.console` (the sub-app: middleware, login, logout, static, rendering),
:mod:`.auth`, :mod:`.i18n` (EN/JA labels), :mod:`.charts` (SVG), :mod:`.pages` (what a page
is), :mod:`.registry` (the nav), and one module per page (:mod:`.overview` …).

How to add a page (e.g. ``gaps``):

1. ``bot/app/admin/gaps.py``::

       async def view(console: Context, request: web.Request) -> web.StreamResponse:
           rows = await asyncio.to_thread(console.ledger.some_read, ...)  # never block the loop
           return console.render(request, "gaps.html", rows=rows)

       async def promote(console: Context, request: web.Request) -> web.StreamResponse:
           form = await request.post()       # the middleware has already checked its CSRF
           ...
           raise web.HTTPFound("/admin/gaps")

       PAGE = Page("gaps", "gaps", view, routes=(("POST", "promote", promote),))

   ``console`` (:class:`.pages.Context`) gives ``settings``, ``ledger`` (the AnswerLog role),
   ``indexing``, ``commands``, ``render`` and ``label``. Need more of the core? Add an
   attribute to ``Context`` and set it in ``Console.__init__``.
2. ``templates/gaps.html``: ``{% extends "base.html" %}`` and fill ``{% block main %}``; it gets
   ``t`` (``{{ t("gaps") }}``), ``lang``, ``csrf`` and ``prefix``. Every form posts
   ``<input type="hidden" name="csrf" value="{{ csrf }}">`` (JS: an ``X-CSRF-Token`` header).
   Charts: ``charts.stacked_bars`` / ``charts.line`` return SVG to put in as ``{{ chart }}``.
3. Labels: add each key to ``i18n.LABELS`` with its English and Japanese text (the nav label
   too: the ``label`` of ``Page``).
4. ``registry.PAGES``: put ``gaps.PAGE`` where the nav should show it (the two pending entries
   are marked there).
5. Tests: ``tests/admin/conftest.py`` has the fixtures ``console`` (a real core on a real
   SQLite ledger, indexed, served on loopback: ``.url``, ``.ledger``, ``.core``) and ``browser``
   (headless chromium through Selenium); ``tests/admin/console_harness.py`` has ``login(browser,
   url)``, ``ledger_row(n, when, **values)``, ``console_core`` and ``serving``. Add the new
   paths to ``GETS``/``POSTS`` in ``tests/admin/test_auth.py`` (every path refuses without
   auth).
"""

from __future__ import annotations

from aiohttp import web

from bot.answering.responder import Firstline
from bot.app.admin.console import Console
from bot.app.admin.pages import PREFIX
from bot.settings import Settings

__all__ = ["Console", "admin_enabled", "admin_problems", "mount_admin"]


def admin_enabled(settings: Settings) -> bool:
    """The console is on: a token or an SSO header is configured."""
    return bool(settings.admin_token or settings.admin_sso_header)


def admin_problems(settings: Settings) -> list[str]:
    """The console's settings that cannot work together, one line each (start-up check)."""
    problems = []
    if settings.admin_sso_header and not settings.admin_users:
        problems.append("FIRSTLINE_ADMIN_SSO_HEADER: set, but FIRSTLINE_ADMIN_USERS is empty; "
                        "name the users (or group:NAME) who may use the admin console")
    if settings.admin_users and not settings.admin_sso_header:
        problems.append("FIRSTLINE_ADMIN_USERS: set, but FIRSTLINE_ADMIN_SSO_HEADER is empty; "
                        "name the header your SSO proxy puts the user in")
    if settings.admin_sso_groups_header and not settings.admin_sso_header:
        problems.append("FIRSTLINE_ADMIN_SSO_GROUPS_HEADER: set, but FIRSTLINE_ADMIN_SSO_HEADER "
                        "is empty; set both or neither")
    return problems


def mount_admin(app: web.Application, core: Firstline) -> Console:
    """Serve the console of ``core`` at ``/admin/`` on ``app``."""
    console = Console(core)
    app.add_subapp(PREFIX, console.app())
    return console
