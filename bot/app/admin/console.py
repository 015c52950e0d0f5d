"""The console's aiohttp sub-application: the auth and CSRF middleware every path goes through,
the login form, logout, the static files, and the pages of :mod:`bot.app.admin.registry`."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Sequence
from importlib import resources
from typing import Any

import jinja2
from aiohttp import web

from bot.answering.responder import Firstline
from bot.app.admin.auth import LOGIN_COOKIE, SESSION_COOKIE, Admin, AdminAuth
from bot.app.admin.i18n import LANG_COOKIE, pick_language, translator
from bot.app.admin.pages import PREFIX, Handler, Page
from bot.app.admin.registry import PAGES
from bot.ledger.roles import AnswerLog

log = logging.getLogger(__name__)

ADMIN = web.RequestKey("admin", Admin)  # who is asking (set by the middleware)
NONCE = web.RequestKey("nonce", str)  # this response's CSP nonce
_OPEN = {f"{PREFIX}/login"}  # the only paths answered without auth
_STATIC = {"admin.css": "text/css", "admin.js": "text/javascript"}
_CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'nonce-{nonce}'; "
        "img-src 'self' data:; connect-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'")


class Console:
    """The admin console of one core (its ledger, knowledge store and reindex command)."""

    def __init__(self, core: Firstline, pages: Sequence[Page] = PAGES) -> None:
        self.settings = core.settings
        self.ledger: AnswerLog = core.ledger
        self.indexing = core.indexing
        self.commands = core.commands
        self.approved = core.approved
        self.gaps = core.gaps
        self.auth = AdminAuth(core.settings)
        self.pages = tuple(pages)
        self.env = jinja2.Environment(loader=jinja2.PackageLoader("bot.app.admin", "templates"),
                                      autoescape=True, undefined=jinja2.StrictUndefined)

    def app(self) -> web.Application:
        """The sub-application to mount at ``/admin`` (:func:`mount_admin`)."""
        app = web.Application(middlewares=[self._guard])
        app.router.add_get("/", self._home)
        app.router.add_get("/login", self._login_form)
        app.router.add_post("/login", self._login)
        app.router.add_post("/logout", self._logout)
        app.router.add_get("/static/{name}", self._static)
        for page in self.pages:
            app.router.add_get(f"/{page.slug}", self._bind(page.view))
            for method, sub, handler in page.routes:
                app.router.add_route(method, f"/{page.slug}/{sub}", self._bind(handler))
        return app

    # -- rendering ----------------------------------------------------------------------------
    def render(self, request: web.Request, template: str, **values: Any) -> web.Response:
        lang = pick_language(request)
        admin = request.get(ADMIN)
        nav = [(p.slug, p.label, request.path.startswith(f"{PREFIX}/{p.slug}"))
               for p in self.pages]
        html = self.env.get_template(template).render(
            t=translator(lang), lang=lang, other_lang="ja" if lang == "en" else "en",
            csrf=self.auth.csrf_token(admin) if admin else "", admin=admin, nav=nav,
            prefix=PREFIX, nonce=request.get(NONCE, ""), path=request.path, **values)
        response = web.Response(text=html, content_type="text/html")
        if request.query.get("lang") == lang:
            response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, path=f"{PREFIX}/",
                                httponly=True, samesite="Strict")
        return response

    def label(self, request: web.Request, key: str, **values: object) -> str:
        return translator(pick_language(request))(key, **values)

    def _bind(self, handler: Handler) -> Any:
        async def bound(request: web.Request) -> web.StreamResponse:
            return await handler(self, request)
        return bound

    # -- every request ----------------------------------------------------------------------
    @web.middleware
    async def _guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        request[NONCE] = secrets.token_urlsafe(12)
        response = await self._checked(request, handler)
        response.headers["Content-Security-Policy"] = _CSP.format(nonce=request[NONCE])
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        return response

    async def _checked(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path in _OPEN:
            return await handler(request)
        admin = self.auth.identify(request)
        if admin is None:
            return _refuse(request)
        request[ADMIN] = admin
        if request.method == "POST" and not self.auth.check_csrf(admin, await _csrf(request)):
            log.warning("admin console: POST %s without a valid CSRF token refused", request.path)
            raise web.HTTPForbidden(text="CSRF token missing or wrong; reload the page.")
        return await handler(request)

    # -- login, logout, static ---------------------------------------------------------------
    async def _home(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(f"{PREFIX}/{self.pages[0].slug}")

    async def _login_form(self, request: web.Request, failed: bool = False) -> web.Response:
        nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(18)
        css = (resources.files("bot.app.admin") / "static/admin.css").read_text("utf-8")
        response = self.render(request, "login.html", login_csrf=self.auth.login_csrf(nonce),
                               next=_next(request), failed=failed, css=css,
                               token_login=bool(self.auth.token))
        response.set_cookie(LOGIN_COOKIE, nonce, path=f"{PREFIX}/login", httponly=True,
                            samesite="Strict", secure=self.auth.secure(request))
        if failed:
            response.set_status(401)
        return response

    async def _login(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        nonce = request.cookies.get(LOGIN_COOKIE, "")
        if not nonce or not secrets.compare_digest(str(form.get("csrf", "")),
                                                   self.auth.login_csrf(nonce)):
            raise web.HTTPForbidden(text="CSRF token missing or wrong; reload the login page.")
        if not self.auth.check_token(str(form.get("token", ""))):
            log.warning("admin console: failed login from %s", request.remote)
            await asyncio.sleep(1.0)  # slows guessing down
            return await self._login_form(request, failed=True)
        response = _redirect(_next(request, form.get("next")))
        response.set_cookie(SESSION_COOKIE, self.auth.open_session(), path=f"{PREFIX}/",
                            max_age=int(self.auth.lifetime), httponly=True, samesite="Strict",
                            secure=self.auth.secure(request))
        log.info("admin console: login from %s", request.remote)
        return response

    async def _logout(self, request: web.Request) -> web.StreamResponse:
        admin = request[ADMIN]
        if admin.via == "session":
            self.auth.end_session(admin.session)
        response = _redirect(f"{PREFIX}/login")
        response.del_cookie(SESSION_COOKIE, path=f"{PREFIX}/")
        return response

    async def _static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in _STATIC:
            raise web.HTTPNotFound()
        body = (resources.files("bot.app.admin") / "static" / name).read_bytes()
        return web.Response(body=body, content_type=_STATIC[name],
                            headers={"Cache-Control": "private, max-age=300"})


def _refuse(request: web.Request) -> web.StreamResponse:
    """401 for scripts and data (CSV, JSON, POST); a browser's page view goes to the login."""
    browser = (request.method == "GET" and "Authorization" not in request.headers
               and "text/html" in request.headers.get("Accept", ""))
    if browser:
        raise web.HTTPFound(f"{PREFIX}/login?next={request.path}")
    raise web.HTTPUnauthorized(text="admin console: authentication required",
                               headers={"WWW-Authenticate": 'Bearer realm="firstline admin"'})


def _redirect(location: str) -> web.Response:
    return web.Response(status=302, headers={"Location": location})


async def _csrf(request: web.Request) -> str:
    if "X-CSRF-Token" in request.headers:
        return request.headers["X-CSRF-Token"]
    form = await request.post()
    return str(form.get("csrf", ""))


def _next(request: web.Request, given: object = None) -> str:
    """Where to go after logging in: a console path only (no open redirect)."""
    target = str(given or request.query.get("next", ""))
    inside = target.startswith(f"{PREFIX}/") and "//" not in target and "\\" not in target
    return target if inside and not target.startswith(f"{PREFIX}/login") else f"{PREFIX}/"
