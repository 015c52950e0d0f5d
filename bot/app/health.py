"""`/healthz`, `/readyz` and `/metrics` for `firstline serve`."""

from __future__ import annotations

import asyncio

from aiohttp import web

from bot.answering.responder import Firstline
from bot.ops.metrics import exposition


def health_routes(core: Firstline) -> list[web.RouteDef]:
    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_: web.Request) -> web.Response:
        checks = await asyncio.to_thread(core.readiness)
        ok = all(checks.values())
        return web.json_response({"ready": ok, **checks}, status=200 if ok else 503)

    async def metrics(_: web.Request) -> web.Response:
        body, content_type = exposition()
        return web.Response(body=body, headers={"Content-Type": content_type})

    return [web.get("/healthz", healthz), web.get("/readyz", readyz),
            web.get("/metrics", metrics)]
