"""The ``webhook`` hand-off target: one JSON POST per hand-off, signed, retried, one-line errors.

Each request carries ``Content-Type: application/json``, the ``Authorization`` header from
``FIRSTLINE_HANDOFF_WEBHOOK_AUTH`` (if set), ``X-Firstline-Delivery`` (the answer id: the same
hand-off is never delivered twice under two ids, so receivers can de-duplicate retries), and,
with ``FIRSTLINE_HANDOFF_WEBHOOK_SECRET``, ``X-Firstline-Timestamp`` (Unix seconds) and
``X-Firstline-Signature: v1=<hex HMAC-SHA256 of "<timestamp>.<body>">`` (see :func:`signature`;
a receiver recomputes it over the raw body and compares in constant time). Connection errors,
timeouts, 429 and 5xx are retried with exponential backoff (``Retry-After`` honoured up to
:data:`MAX_WAIT`); anything else fails at once with a :class:`~bot.errors.HandoffError`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp

from bot.answering.handoff.payloads import Shape, body, reference_of
from bot.errors import HandoffError, UserFacingError
from bot.types import HandoffRequest

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger(__name__)

GENERIC = Shape()
BACKOFF = 0.5  # seconds before the first retry, doubled each time
MAX_WAIT = 10.0  # longest wait between attempts, whatever Retry-After says
_HINTS = {401: " (check FIRSTLINE_HANDOFF_WEBHOOK_AUTH)", 403: " (check the credentials' rights)",
          404: " (check FIRSTLINE_HANDOFF_WEBHOOK_URL)"}


def signature(secret: str, timestamp: str, payload: bytes) -> str:
    """``v1=<hex>``: HMAC-SHA256 with ``secret`` over ``<timestamp>.<payload>``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + payload, hashlib.sha256)
    return "v1=" + mac.hexdigest()


class _Retry(Exception):
    def __init__(self, why: str, wait: float | None = None) -> None:
        super().__init__(why)
        self.wait = wait


class WebhookTarget:
    """POSTs each :class:`HandoffRequest` to ``url`` in ``shape.format``."""

    name = "webhook"

    def __init__(self, url: str, shape: Shape = GENERIC, *, auth: str = "", secret: str = "",
                 timeout: float = 10.0, retries: int = 2, backoff: float = BACKOFF) -> None:
        self.url, self.shape, self.auth, self.secret = url, shape, auth, secret
        self.timeout, self.retries, self.backoff = timeout, retries, backoff
        self._session: aiohttp.ClientSession | None = None
        self.where = _shown(url)

    async def post(self, request: HandoffRequest) -> str:
        payload = json.dumps(body(request, self.shape), ensure_ascii=False).encode()
        for attempt in range(self.retries + 1):
            try:
                return await self._send(payload, request.answer_id)
            except _Retry as exc:
                if attempt == self.retries:
                    tries = f"{attempt + 1} attempts" if attempt else "1 attempt"
                    raise HandoffError(f"hand-off webhook {self.where}: {exc}, after "
                                       f"{tries}") from None
                wait = min(exc.wait if exc.wait is not None else self.backoff * 2 ** attempt,
                           MAX_WAIT)
                log.info("hand-off webhook %s: %s; retrying in %.1f s", self.where, exc, wait)
                await asyncio.sleep(wait)
        raise AssertionError("unreachable")

    async def _send(self, payload: bytes, delivery: str) -> str:
        session = self._open()
        try:
            async with session.post(self.url, data=payload,
                                    headers=self._headers(payload, delivery)) as response:
                text = await response.text()
                self._check(response.status, response.reason or "", response.headers)
                return reference_of(self.shape.format, _json(text))
        except TimeoutError:
            raise _Retry(f"no answer within {self.timeout:g} s") from None
        except aiohttp.ClientError as exc:  # refused, reset, a broken answer …
            raise _Retry(f"cannot connect ({type(exc).__name__})") from None

    def _check(self, status: int, reason: str, headers: Any) -> None:
        if status < 300:
            return
        said = f"answered {status} {reason}".rstrip()
        if status == 429 or status >= 500:
            raise _Retry(said, _retry_after(headers.get("Retry-After")))
        raise HandoffError(f"hand-off webhook {self.where} {said}{_HINTS.get(status, '')}")

    def _headers(self, payload: bytes, delivery: str) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "User-Agent": "firstline-handoff/1",
                   "X-Firstline-Delivery": delivery}
        if self.auth:
            headers["Authorization"] = self.auth
        if self.secret:
            stamp = str(int(time.time()))
            headers["X-Firstline-Timestamp"] = stamp
            headers["X-Firstline-Signature"] = signature(self.secret, stamp, payload)
        return headers

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout))
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


def _shown(url: str) -> str:
    """The URL as error messages show it: no credentials, no query (tokens hide there)."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}{parts.path}"


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def _json(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except json.JSONDecodeError:
        return None


def webhook_from_settings(settings: Settings) -> WebhookTarget | None:
    """The webhook target when ``FIRSTLINE_HANDOFF_TARGET=webhook``, else None."""
    if settings.handoff_target != "webhook":
        return None
    if not settings.handoff_webhook_url:
        raise UserFacingError("FIRSTLINE_HANDOFF_TARGET=webhook needs "
                              "FIRSTLINE_HANDOFF_WEBHOOK_URL: set it, or choose another target")
    shape = Shape(settings.handoff_webhook_format, settings.handoff_webhook_assignment_group,
                  settings.handoff_webhook_project, settings.handoff_webhook_issue_type)
    return WebhookTarget(settings.handoff_webhook_url, shape, auth=settings.handoff_webhook_auth,
                         secret=settings.handoff_webhook_secret,
                         timeout=settings.handoff_webhook_timeout,
                         retries=settings.handoff_webhook_retries)
