"""A helpdesk webhook receiver on loopback, for the hand-off tests: a real aiohttp server that
verifies the HMAC signature (and the bearer token) the way a receiver should, and records what
it accepted. ``script`` makes the next answers fail (status codes, or slow answers)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

SECRET = "whsec-test-4b1d"
TOKEN = "Bearer helpdesk-token"
TOLERANCE = 300  # seconds a signed timestamp may be old, as Slack's own rule


@dataclass
class Received:
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class WebhookStandIn:
    secret: str = SECRET
    token: str = TOKEN
    received: list[Received] = field(default_factory=list)  # accepted, signature verified
    refused: list[str] = field(default_factory=list)  # why requests were refused
    script: list[int | float] = field(default_factory=list)  # next answers: status, or a delay
    answer: dict[str, Any] = field(default_factory=lambda: {"reference": "HD-1001"})
    url: str = ""
    _runner: web.AppRunner | None = None

    async def start(self) -> WebhookStandIn:
        app = web.Application()
        app.router.add_post("/hooks/helpdesk", self._hook)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}/hooks/helpdesk"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _hook(self, request: web.Request) -> web.Response:
        raw = await request.read()
        if self.script:
            step = self.script.pop(0)
            if isinstance(step, float):
                await asyncio.sleep(step)
            else:
                self.refused.append(f"scripted {step}")
                return web.json_response({"error": "scripted"}, status=step)
        problem = self._problem(request, raw)
        if problem:
            self.refused.append(problem)
            return web.json_response({"error": problem}, status=401)
        self.received.append(Received(json.loads(raw), dict(request.headers)))
        return web.json_response(self.answer, status=201)

    def _problem(self, request: web.Request, raw: bytes) -> str:
        if request.headers.get("Authorization") != self.token:
            return "bad authorization"
        stamp = request.headers.get("X-Firstline-Timestamp", "")
        if not stamp.isdigit() or abs(time.time() - int(stamp)) > TOLERANCE:
            return "stale or missing timestamp"
        mac = hmac.new(self.secret.encode(), stamp.encode() + b"." + raw, hashlib.sha256)
        if not hmac.compare_digest("v1=" + mac.hexdigest(),
                                   request.headers.get("X-Firstline-Signature", "")):
            return "bad signature"
        return ""
