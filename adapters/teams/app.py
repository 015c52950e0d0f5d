"""``POST /api/messages``: the Bot Framework's HTTP entry point, mounted on the shared web app.

Every request is authenticated before anything else happens; a request without a valid token
gets 401 and never reaches the bot or the core. Messages are then acknowledged at once (202)
and answered in the background: the Bot Connector gives a bot 15 seconds to answer the HTTP
request, and an on-prem answer can take longer. Replies travel through the connector at the
activity's ``serviceUrl`` in any case, so nothing is lost by answering the request early.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from aiohttp import web
from botbuilder.core import Bot, TurnContext, serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ActivityTypes
from botframework.connector.auth import AuthenticateRequestResult, BotFrameworkAuthentication
from msrest.exceptions import DeserializationError

from adapters.teams.auth import Unauthorized, authenticate, build_authentication, teams_configured
from adapters.teams.bot import FirstlineTeamsBot
from adapters.teams.resume import TeamsResumer
from adapters.teams.settings import TeamsSettings
from adapters.teams.streaming import say_last
from bot.errors import UserFacingError, describe
from bot.ledger.questions import Questions
from bot.types import Responder

log = logging.getLogger(__name__)

ROUTE = "/api/messages"
DRAIN_SECONDS = 10.0


async def on_turn_error(context: TurnContext, error: Exception) -> None:
    """The adapter's one error hook: the core's formatter decides what the user sees."""
    locale = (context.activity.locale or "").lower() if context.activity else ""
    text, reference = describe(error, "ja" if locale.startswith("ja") else "en")
    if isinstance(error, UserFacingError):
        log.info("user-facing error shown in Teams (reference %s)", reference)
    await say_last(context, text)  # a stream left open ends with the apology


class MessagesEndpoint:
    """Authenticates, then hands the activity to the adapter (in the background for messages)."""

    def __init__(self, adapter: CloudAdapter, auth: BotFrameworkAuthentication, bot: Bot) -> None:
        self._adapter = adapter
        self._auth = auth
        self._bot = bot
        self._pending: set[asyncio.Task[Any]] = set()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        activity = await _read_activity(request)
        try:
            result = await authenticate(self._auth, activity, request.headers.get("Authorization"))
        except Unauthorized:
            raise web.HTTPUnauthorized() from None
        if activity.type == ActivityTypes.message:
            self._start(self._turn(result, activity))
            return web.Response(status=202)
        response = await self._adapter.process_activity(result, activity, self._bot.on_turn)
        if response is not None:
            body = response.body
            if not isinstance(body, dict | list) and body is not None:
                body = serializer_helper(body)
            return web.json_response(body, status=response.status)
        return web.Response(status=200)

    async def _turn(self, result: AuthenticateRequestResult, activity: Activity) -> None:
        try:
            await self._adapter.process_activity(result, activity, self._bot.on_turn)
        except Exception:
            # on_turn_error itself failed (e.g. the connector is unreachable): nobody to tell.
            log.exception("a Teams turn failed and its error could not be reported")

    def _start(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def idle(self, timeout: float = DRAIN_SECONDS) -> bool:
        """Wait until no turn is running; False if some still are after ``timeout``."""
        if self._pending:
            await asyncio.wait(set(self._pending), timeout=timeout)
        return not self._pending

    async def drain(self, _app: web.Application | None = None) -> None:
        """On shutdown: let running turns finish, then cancel the rest."""
        if not await self.idle():
            for task in set(self._pending):
                task.cancel()


TEAMS_ENDPOINT = web.AppKey("teams_endpoint", MessagesEndpoint)


def mount_teams(web_app: web.Application, responder: Responder, settings: TeamsSettings, *,
                host: str, questions: Questions | None = None) -> CloudAdapter:
    """Add ``POST /api/messages`` for Microsoft Teams (and the Bot Framework Emulator).

    ``host`` is the address the service binds (FIRSTLINE_HOST): without an app id, only a
    loopback one is accepted (see :func:`~adapters.teams.auth.teams_configured`).
    ``questions``: the ledger's inbox for "teams" (default: one in memory, this process only).
    Returns the Bot Framework adapter (for proactive messages: the hand-off target).
    """
    if not teams_configured(settings, host):
        raise UserFacingError(
            "MicrosoftAppId is empty: set it (and MicrosoftAppPassword), or bind "
            "FIRSTLINE_HOST=127.0.0.1 to try the bot with the Bot Framework Emulator.")
    if not settings.app_id:
        log.warning("Teams authentication is OFF (no MicrosoftAppId): local Emulator use only")
    auth = build_authentication(settings)
    adapter = CloudAdapter(auth)
    adapter.on_turn_error = on_turn_error
    bot = FirstlineTeamsBot(responder, settings.app_id, settings.admin_ids, questions)
    bot.questions.resumer = TeamsResumer(adapter, settings.app_id, bot)
    endpoint = MessagesEndpoint(adapter, auth, bot)
    web_app[TEAMS_ENDPOINT] = endpoint
    web_app.router.add_post(ROUTE, endpoint.handle)
    web_app.on_shutdown.append(endpoint.drain)
    return adapter


async def _read_activity(request: web.Request) -> Activity:
    if "application/json" not in request.headers.get("Content-Type", ""):
        raise web.HTTPUnsupportedMediaType()
    try:
        body = await request.json()
    except json.JSONDecodeError:
        raise web.HTTPBadRequest() from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest()
    try:
        activity = Activity().deserialize(body)
    except DeserializationError:
        raise web.HTTPBadRequest() from None
    if not activity.type:
        raise web.HTTPBadRequest()
    return activity
