"""The Slack app: one bolt ``AsyncApp`` wired to the core's :class:`~bot.types.Responder`.

The same app serves the HTTP Events API (:func:`adapters.slack.server.mount_slack`) and Socket
Mode (:func:`adapters.slack.server.start_socket_mode`).
"""

from __future__ import annotations

import logging

import aiohttp
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.admins import AdminCheck
from adapters.slack.agent import AgentView
from adapters.slack.ask_person import AskPersonHandlers
from adapters.slack.feedback import FeedbackHandlers
from adapters.slack.groups import GroupMembers, Identity
from adapters.slack.handlers import SlackHandlers
from adapters.slack.hook import on_error
from adapters.slack.promote import PromoteHandlers
from adapters.slack.resume import SlackResumer
from adapters.slack.settings import SlackSettings
from adapters.slack.streaming import StreamSwitch
from bot.errors import UserFacingError
from bot.ledger.memory import MemoryLedger
from bot.ledger.questions import Questions
from bot.types import Responder

log = logging.getLogger(__name__)

API_TIMEOUT = 30  # seconds per Web API call


def build_slack_app(responder: Responder, settings: SlackSettings, *,
                    questions: Questions | None = None,
                    session: aiohttp.ClientSession | None = None) -> AsyncApp:
    """The bolt app for ``settings``. ``questions`` (the ledger's inbox for "slack") defaults to
    one in memory: claims in this process only, nothing survives it."""
    if not settings.bot_token:
        raise UserFacingError("SLACK_BOT_TOKEN is not set; the Slack adapter needs the bot token.")
    client = AsyncWebClient(token=settings.bot_token, base_url=api_base(settings),
                            session=session, timeout=API_TIMEOUT)
    app = AsyncApp(name="firstline", client=client, process_before_response=False,
                   signing_secret=settings.signing_secret)
    members = GroupMembers()  # one cache of user-group members for admins and audiences
    admins = AdminCheck(settings.admin_users, settings.admin_groups, members=members)
    try:
        identity = Identity(settings.audience_groups, look_up_email=settings.look_up_email,
                            members=members)
    except ValueError as exc:
        raise UserFacingError(str(exc)) from exc
    questions = questions or Questions(MemoryLedger(), "slack")
    handlers = SlackHandlers(responder, admins, questions, identity=identity,
                             streaming=StreamSwitch(settings.stream))
    handlers.register(app)
    questions.resumer = resumer = SlackResumer(handlers, client)
    resumer.register(app)
    FeedbackHandlers(responder).register(app)
    AskPersonHandlers(responder).register(app)
    PromoteHandlers(responder, admins).register(app)
    AgentView({"en": settings.suggested_prompts,
               "ja": settings.suggested_prompts_ja}).register(app)
    app.error(on_error)
    return app


def api_base(settings: SlackSettings) -> str:
    return settings.api_url.rstrip("/") + "/"
