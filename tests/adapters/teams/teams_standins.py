"""Local stand-ins for the Bot Framework's cloud side, as real HTTPS servers on loopback.

* ``login.botframework.com``: the OpenID configuration and JWKS that validate incoming tokens
  (one RSA test key, endorsed for ``msteams``), plus :meth:`BotFrameworkStandIns.channel_token`
  to sign requests the way the Bot Connector does;
* ``login.microsoftonline.com``: the authority the bot gets its own reply token from (tenant
  discovery + ``/oauth2/v2.0/token``, client credentials checked);
* the Bot Connector at the activity's ``serviceUrl``: records every activity posted and answers
  401 unless it carries ``Bearer <the token the authority issued>``; then applies Teams'
  streaming and AI-entity rules (:mod:`teams_streams`), answering 400/403 as Teams does.

They run on their own event loop in a thread: botbuilder fetches keys and MSAL fetches tokens
with blocking ``requests`` calls made from the bot's event loop, so servers on that same loop
would deadlock. They speak HTTPS (a test CA trusted via ``REQUESTS_CA_BUNDLE``) because MSAL
refuses a plain-http authority.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import secrets
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from teams_streams import Refused, StreamRules

BOTFRAMEWORK_ISSUER = "https://api.botframework.com"
BOTFRAMEWORK_SCOPE = "https://api.botframework.com/.default"
KEY_ID = "firstline-test-key"


# --- TLS ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class TestTLS:
    """A throwaway CA and a server certificate for 127.0.0.1 / localhost."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def make_tls(folder: Path) -> TestTLS:
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "firstline test CA")])
    ca = (_cert_builder(ca_name, ca_name, ca_key.public_key())
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                         critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                         critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    san = x509.SubjectAlternativeName(
        [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")])
    cert = (_cert_builder(name, ca_name, key.public_key())
            .add_extension(san, critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    tls = TestTLS(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    tls.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    tls.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    tls.key_file.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return tls


def _cert_builder(
    subject: x509.Name, issuer: x509.Name, public_key: Any
) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
            .public_key(public_key).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1)))


# --- records -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Posted:
    """One activity the bot sent to the Bot Connector stand-in."""

    method: str
    conversation_id: str
    reply_to_id: str | None
    activity: dict[str, Any]
    authorized: bool
    status: int = 200
    error: str = ""  # Teams' error code when it refused (or dropped) the activity
    answer: dict[str, Any] = field(default_factory=dict)  # the connector's JSON reply
    at: float = field(default_factory=time.perf_counter)  # when it arrived (benchmarks)

    @property
    def type(self) -> str:
        return str(self.activity.get("type", ""))

    @property
    def text(self) -> str:
        return str(self.activity.get("text") or "")

    @property
    def card(self) -> dict[str, Any] | None:
        for attachment in self.activity.get("attachments") or []:
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                return dict(attachment["content"])
        return None


@dataclass
class _Records:
    posted: list[Posted] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


# --- the servers -----------------------------------------------------------------------------
class BotFrameworkStandIns:
    """The three cloud endpoints, started with :meth:`start` and stopped with :meth:`stop`."""

    def __init__(self, tls: TestTLS, app_id: str, app_password: str) -> None:
        self.tls = tls
        self.app_id = app_id
        self.app_password = app_password
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.endorsements = ["msteams"]
        self.issued_token = secrets.token_urlsafe(24)
        self.require_token = True
        self.streams = StreamRules()  # Teams' streaming rules, checked on every activity
        self.absent_from: set[str] = set()  # conversations the bot is not in (403, as Teams)
        # A unique path per instance: botbuilder caches OpenID metadata per URL in a class-level
        # dict (JwtTokenExtractor.metadataCache) for a day, so a reused port must not alias.
        self._prefix = f"/{uuid.uuid4().hex}"
        self._records = _Records()
        self._ports: dict[str, int] = {}
        self._loop = asyncio.new_event_loop()
        self._runners: list[web.AppRunner] = []
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    # lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._start_all(), self._loop)
        future.result(timeout=30)

    def stop(self) -> None:
        future = asyncio.run_coroutine_threadsafe(self._stop_all(), self._loop)
        future.result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    async def _start_all(self) -> None:
        apps = {"openid": self._openid_app(), "login": self._login_app(),
                "connector": self._connector_app()}
        for name, app in apps.items():
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=self.tls.server_context())
            await site.start()
            self._runners.append(runner)
            self._ports[name] = runner.addresses[0][1]

    async def _stop_all(self) -> None:
        for runner in self._runners:
            await runner.cleanup()

    # addresses ---------------------------------------------------------------------------------
    def _base(self, name: str) -> str:
        return f"https://127.0.0.1:{self._ports[name]}"

    @property
    def openid_metadata_url(self) -> str:
        return f"{self._base('openid')}{self._prefix}/v1/.well-known/openidconfiguration"

    @property
    def login_url(self) -> str:
        return self._base("login")

    @property
    def service_url(self) -> str:
        return f"{self._base('connector')}/teams/"

    # tokens ------------------------------------------------------------------------------------
    def channel_token(self, *, key: Any = None, kid: str | None = KEY_ID,
                      algorithm: str = "RS256", **claims: Any) -> str:
        """A token as the Bot Connector signs it; keyword claims override (None removes)."""
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": BOTFRAMEWORK_ISSUER, "aud": self.app_id, "serviceurl": self.service_url,
            "nbf": now - 5, "iat": now - 5, "exp": now + 3600,
        }
        payload.update(claims)
        payload = {k: v for k, v in payload.items() if v is not None}
        headers = {"kid": kid} if kid else {}
        return jwt.encode(payload, key or self.key, algorithm=algorithm, headers=headers)

    def _jwk(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": KEY_ID, "use": "sig", "endorsements": self.endorsements})
        return dict(jwk)

    # records -----------------------------------------------------------------------------------
    def posted(self, conversation_id: str | None = None) -> list[Posted]:
        with self._records.lock:
            items = list(self._records.posted)
        return [p for p in items if conversation_id in (None, p.conversation_id)]

    def refused(self, conversation_id: str | None = None) -> list[Posted]:
        """The activities Teams would have refused or dropped (an error code set)."""
        return [p for p in self.posted(conversation_id) if p.error]

    @property
    def token_requests(self) -> list[dict[str, str]]:
        with self._records.lock:
            return list(self._records.token_requests)

    async def wait_for(self, conversation_id: str, predicate: Callable[[Posted], bool],
                       timeout: float = 20.0) -> Posted:
        """The first activity posted to a conversation that matches (polled from the test loop)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for item in self.posted(conversation_id):
                if predicate(item):
                    return item
            await asyncio.sleep(0.02)
        seen = [(p.type, p.text[:80]) for p in self.posted(conversation_id)]
        raise AssertionError(f"nothing matching was posted to {conversation_id}; saw {seen}")

    # login.botframework.com ------------------------------------------------------------------
    def _openid_app(self) -> web.Application:
        async def configuration(_: web.Request) -> web.Response:
            return web.json_response({
                "issuer": BOTFRAMEWORK_ISSUER,
                "authorization_endpoint": "https://invalid.example/v1/botframework/authorize",
                "jwks_uri": f"{self._base('openid')}{self._prefix}/v1/.well-known/keys",
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            })

        async def keys(_: web.Request) -> web.Response:
            return web.json_response({"keys": [self._jwk()]})

        app = web.Application()
        app.router.add_get(f"{self._prefix}/v1/.well-known/openidconfiguration", configuration)
        app.router.add_get(f"{self._prefix}/v1/.well-known/keys", keys)
        return app

    # login.microsoftonline.com -------------------------------------------------------------
    def _login_app(self) -> web.Application:
        async def discovery(request: web.Request) -> web.Response:
            tenant = request.match_info["tenant"]
            base = f"{self._base('login')}/{tenant}"
            return web.json_response({
                "issuer": f"{base}/v2.0",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
            })

        async def token(request: web.Request) -> web.Response:
            form = dict(await request.post())
            fields = {k: str(v) for k, v in form.items()}
            fields["tenant"] = request.match_info["tenant"]
            with self._records.lock:
                self._records.token_requests.append(fields)
            good = (fields.get("grant_type") == "client_credentials"
                    and fields.get("client_id") == self.app_id
                    and fields.get("client_secret") == self.app_password
                    and fields.get("scope") == BOTFRAMEWORK_SCOPE)
            if not good:
                return web.json_response({"error": "invalid_client"}, status=401)
            return web.json_response({"token_type": "Bearer", "expires_in": 3599,
                                      "access_token": self.issued_token})

        app = web.Application()
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", discovery)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", token)
        return app

    # the Bot Connector ---------------------------------------------------------------------
    def _connector_app(self) -> web.Application:
        async def activities(request: web.Request) -> web.Response:
            authorized = request.headers.get("Authorization") == f"Bearer {self.issued_token}"
            body = await request.json()
            conversation = request.match_info["conversation"]
            status, answer, error = 401, {"error": {"code": "Unauthorized"}}, "Unauthorized"
            if authorized or not self.require_token:
                status, answer, error = self._accept(conversation, body)
            item = Posted(request.method, conversation, request.match_info.get("activity"),
                          body, authorized, status, error, answer)
            with self._records.lock:
                self._records.posted.append(item)
            return web.json_response(answer, status=status)

        app = web.Application()
        base = "/teams/v3/conversations/{conversation}/activities"
        app.router.add_post(base, activities)
        app.router.add_post(base + "/{activity}", activities)
        app.router.add_put(base + "/{activity}", activities)
        return app

    def _accept(self, conversation: str,
                activity: dict[str, Any]) -> tuple[int, dict[str, Any], str]:
        if conversation.split(";")[0] in self.absent_from:
            code = "BotNotInConversationRoster"
            return 403, {"error": {"code": code, "message": "The bot is not part of the "
                                   "conversation roster."}}, code
        try:
            status, answer = self.streams.check(conversation, activity)
        except Refused as refused:
            return refused.status, refused.body, refused.code
        return status, answer, ""
