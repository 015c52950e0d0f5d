"""`firstline serve`: one aiohttp app on FIRSTLINE_PORT with Slack (HTTP mode) at /slack/events,
Teams at /api/messages, and /healthz, /readyz, /metrics; Slack Socket Mode runs beside it.

Adapters are mounted only when their credentials are set, and imported only then, so the core
never imports a chat SDK.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any

from aiohttp import web

from bot.core import Firstline
from bot.settings import Settings

log = logging.getLogger(__name__)


def health_routes(core: Firstline) -> list[web.RouteDef]:
    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_: web.Request) -> web.Response:
        checks = await asyncio.to_thread(core.readiness)
        ok = all(checks.values())
        return web.json_response({"ready": ok, **checks}, status=200 if ok else 503)

    async def metrics(_: web.Request) -> web.Response:
        from bot.metrics import exposition

        body, content_type = exposition()
        return web.Response(body=body, headers={"Content-Type": content_type})

    return [web.get("/healthz", healthz), web.get("/readyz", readyz),
            web.get("/metrics", metrics)]


def build_web_app(core: Firstline, settings: Settings) -> tuple[web.Application, str | None]:
    """The service's aiohttp app, and the Slack mode still to start ("socket") if any."""
    app = web.Application(client_max_size=2 * 1024 * 1024)
    app.add_routes(health_routes(core))
    mode = None
    if settings.slack_bot_token:
        from adapters.slack import mount_slack, slack_mode

        mode = slack_mode(settings)
        if mode == "http":
            mount_slack(app, core, settings, dedupe=_dedupe(core))
            log.info("Slack: Events API at /slack/events")
        elif mode is None:
            log.warning("Slack: SLACK_BOT_TOKEN set but neither SLACK_APP_TOKEN (Socket Mode) "
                        "nor SLACK_SIGNING_SECRET (HTTP) is; Slack stays off")
    from adapters.teams import mount_teams, teams_configured

    if teams_configured(settings):
        mount_teams(app, core, settings)
        log.info("Teams: Bot Framework endpoint at /api/messages")
    return app, mode


def _dedupe(core: Firstline) -> Any:
    async def claim(key: str) -> bool:
        return await asyncio.to_thread(core.ledger.claim_event, key)

    return claim


async def run_service(settings: Settings, stop: asyncio.Event | None = None) -> None:
    core = Firstline.from_settings(settings)
    await asyncio.to_thread(core.warm_up)
    app, mode = build_web_app(core, settings)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, settings.host, settings.port).start()
    log.info("firstline serving on %s:%d", settings.host, settings.port)
    socket_run = None
    if mode == "socket":
        from adapters.slack import start_socket_mode

        socket_run = await start_socket_mode(core, settings, dedupe=_dedupe(core))
        log.info("Slack: Socket Mode connected")
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        if socket_run is not None:
            await socket_run.close()
        await runner.cleanup()
        await core.close()


def serve(settings: Settings) -> int:
    asyncio.run(run_service(settings))
    return 0
