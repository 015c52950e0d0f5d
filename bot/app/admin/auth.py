"""Who may use the admin console: a bearer token (scripts), a login session (browsers), or the
user named by the company's SSO reverse proxy — and the CSRF tokens of its forms.

Sessions are signed cookies (``id.expiry.HMAC``, HttpOnly, SameSite=Strict, Secure over https)
whose id must also be live in this process: logging out forgets it, so a copied cookie stops
working at once. Sessions live in the process that created them (behind several replicas use
sticky sessions, the SSO header, or a bearer token). A CSRF token is the HMAC of the session
(or SSO user) under the same key, so nothing is stored for it; bearer requests need none (a
browser never adds that header by itself).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from aiohttp import web

from bot.settings import Settings

SESSION_COOKIE = "firstline_admin"
LOGIN_COOKIE = "firstline_admin_login"  # the login form's CSRF nonce, before any session


@dataclass(frozen=True)
class Admin:
    """The person (or script) using the console, and how they proved it."""

    name: str
    via: Literal["bearer", "session", "sso"]
    session: str = ""  # the session id, or the SSO user


def session_key(settings: Settings) -> bytes:
    """FIRSTLINE_ADMIN_SESSION_KEY, else derived from the token, else random for this process
    (SSO only: nothing outlives the process then)."""
    if settings.admin_session_key:
        return settings.admin_session_key.encode()
    if settings.admin_token:
        return hmac.new(settings.admin_token.encode(), b"firstline-admin-session",
                        hashlib.sha256).digest()
    return secrets.token_bytes(32)


class AdminAuth:
    """Bearer token, login sessions, SSO header and CSRF tokens for one console."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self.token = settings.admin_token
        self.key = session_key(settings)
        self.lifetime = settings.admin_session_hours * 3600
        self.sso_header = settings.admin_sso_header
        self.groups_header = settings.admin_sso_groups_header
        self.allowed = frozenset(settings.admin_users)
        self.trust_proxy = settings.admin_trust_proxy
        self.clock = clock
        self._sessions: dict[str, float] = {}  # live session id -> expiry (epoch seconds)

    # -- who is asking ----------------------------------------------------------------------
    def identify(self, request: web.Request) -> Admin | None:
        """The admin behind ``request``, or None (bearer, then SSO, then the session cookie)."""
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            return Admin("token", "bearer") if self.check_token(given.strip()) else None
        sso = self.sso_user(request)
        if sso is not None:
            return Admin(sso, "sso", sso)
        session = self.verify(request.cookies.get(SESSION_COOKIE, ""))
        return None if session is None else Admin("admin", "session", session)

    def check_token(self, given: str) -> bool:
        """``given`` is the admin token (constant time; always False without one)."""
        return bool(self.token) and hmac.compare_digest(given.encode(), self.token.encode())

    def sso_user(self, request: web.Request) -> str | None:
        """The proxy's user when they, or one of their groups, may use the console."""
        user = request.headers.get(self.sso_header, "").strip() if self.sso_header else ""
        if not user:
            return None
        raw = request.headers.get(self.groups_header, "") if self.groups_header else ""
        groups = {f"group:{g.strip()}" for g in raw.split(",") if g.strip()}
        return user if user in self.allowed or groups & self.allowed else None

    # -- sessions -----------------------------------------------------------------------------
    def open_session(self) -> str:
        """A new session; returns its signed cookie value."""
        now = self.clock()
        self._sessions = {s: end for s, end in self._sessions.items() if end > now}
        session, expiry = secrets.token_urlsafe(18), int(now + self.lifetime)
        self._sessions[session] = expiry
        return f"{session}.{expiry}.{self._sign(f'session:{session}.{expiry}')}"

    def verify(self, cookie: str) -> str | None:
        """The session id of a cookie that is signed, unexpired and not logged out."""
        session, _, rest = cookie.partition(".")
        expiry, _, signature = rest.partition(".")
        expected = self._sign(f"session:{session}.{expiry}")
        if not signature or not hmac.compare_digest(signature, expected):
            return None
        live = self._sessions.get(session)
        return session if live is not None and live > self.clock() else None

    def end_session(self, session: str) -> None:
        self._sessions.pop(session, None)

    def secure(self, request: web.Request) -> bool:
        """The browser reached us over https (directly, or through a trusted proxy)."""
        forwarded = request.headers.get("X-Forwarded-Proto", "").lower() == "https"
        return request.secure or (self.trust_proxy and forwarded)

    # -- CSRF -----------------------------------------------------------------------------------
    def csrf_token(self, admin: Admin) -> str:
        return self._sign(f"csrf:{admin.via}:{admin.session}")

    def check_csrf(self, admin: Admin, given: str) -> bool:
        """A form's token matches its session (bearer requests carry no ambient credential)."""
        return admin.via == "bearer" or hmac.compare_digest(given, self.csrf_token(admin))

    def login_csrf(self, nonce: str) -> str:
        """The login form's token, bound to its nonce cookie."""
        return self._sign(f"login:{nonce}")

    def _sign(self, text: str) -> str:
        return hmac.new(self.key, text.encode(), hashlib.sha256).hexdigest()
