"""Running the Slack app: mounted on ``firstline serve``'s aiohttp app, or over Socket Mode."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any, Literal

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier

from adapters.slack.api import api_error
from adapters.slack.app import API_TIMEOUT, build_slack_app
from adapters.slack.settings import SlackSettings
from bot.errors import UserFacingError
from bot.ledger.questions import Questions
from bot.types import Responder

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


def slack_mode(settings: SlackSettings) -> Literal["socket", "http"] | None:
    """How to run Slack: Socket Mode when an app token is set, else the HTTP Events API when a
    signing secret is set; None when the bot token (or both) is missing."""
    if not settings.bot_token:
        return None
    if settings.app_token:
        return "socket"
    return "http" if settings.signing_secret else None


def slack_routes(app: AsyncApp, signing_secret: str) -> list[web.RouteDef]:
    """Events, interactivity and slash commands all arrive at one URL.

    The signature is checked here before Bolt parses anything: a missing or non-numeric
    timestamp, or a bad signature, is 401; a correctly signed body that is not a Slack payload is
    400 — never a 500 with a traceback.
    """
    verifier = SignatureVerifier(signing_secret)

    async def events(request: web.Request) -> web.StreamResponse:
        body = await request.text()
        stamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        if not stamp.isdigit() or not verifier.is_valid(body, stamp, signature):
            return web.json_response({"error": "invalid request"}, status=401)
        try:
            bolt_request = await to_bolt_request(request)
            if not isinstance(bolt_request.body, dict):
                raise ValueError("not a Slack payload")
        except (ValueError, TypeError, KeyError, AttributeError):
            log.warning("Slack sent a signed request that is not a Slack payload")
            return web.json_response({"error": "malformed payload"}, status=400)
        return await to_aiohttp_response(await app.async_dispatch(bolt_request))

    return [web.post(EVENTS_PATH, events)]


def mount_slack(web_app: web.Application, responder: Responder, settings: SlackSettings, *,
                questions: Questions | None = None) -> AsyncApp:
    """Serve the HTTP Events API at ``/slack/events`` on ``web_app`` (before it starts)."""
    if not settings.signing_secret:
        raise UserFacingError("SLACK_SIGNING_SECRET is not set: without it Slack's requests "
                              "cannot be verified. Set it, or use Socket Mode (SLACK_APP_TOKEN).")
    app = build_slack_app(responder, settings, questions=questions)
    web_app.add_routes(slack_routes(app, settings.signing_secret))
    web_app.cleanup_ctx.append(_shared_session(app))
    return app


def _shared_session(app: AsyncApp) -> Callable[[web.Application], AsyncIterator[None]]:
    async def lifetime(_: web.Application) -> AsyncIterator[None]:
        async with _new_session() as session:
            app.client.session = session
            yield
    return lifetime


def _new_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=API_TIMEOUT))


class SocketModeRun:
    """A live Socket Mode connection; ``await close()`` on shutdown."""

    def __init__(self, handler: AsyncSocketModeHandler, session: aiohttp.ClientSession) -> None:
        self.handler = handler
        self.session = session

    @property
    def app(self) -> AsyncApp:
        return self.handler.app

    async def close(self) -> None:
        await self.handler.close_async()
        await self.session.close()


async def start_socket_mode(responder: Responder, settings: SlackSettings, *,
                            questions: Questions | None = None,
                            **handler_args: Any) -> SocketModeRun:
    """Connect to Slack over a websocket (no public URL needed); returns once connected."""
    if not settings.app_token:
        raise UserFacingError("SLACK_APP_TOKEN (xapp-...) is not set; Socket Mode needs it.")
    session = _new_session()
    try:
        app = build_slack_app(responder, settings, questions=questions, session=session)
        # ask for the URL here, so a bad token fails loudly instead of retrying for ever
        opened = await app.client.apps_connections_open(app_token=settings.app_token)
    except SlackApiError as exc:
        await session.close()
        raise UserFacingError("Slack refused the app-level token (SLACK_APP_TOKEN): "
                              f"{api_error(exc)}") from exc
    except BaseException:
        await session.close()
        raise
    handler = AsyncSocketModeHandler(app, app_token=settings.app_token, **handler_args)
    handler.client.wss_uri = opened["url"]
    await handler.connect_async()
    log.info("connected to Slack in Socket Mode")
    return SocketModeRun(handler, session)
