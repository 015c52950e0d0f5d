"""Slack's agent view (``features.agent_view`` in the manifest): when someone opens firstline
there (``assistant_thread_started``), suggested questions in their Slack language. Questions
asked there arrive as direct messages (``message.im``) and are answered like any other."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.app.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.api import API_FAILURES, why
from bot.types import Language

log = logging.getLogger(__name__)

MAX_PROMPTS = 4  # Slack shows at most four
TITLE = {"en": "Ask me about IT, HR, expenses or facilities",
         "ja": "IT・人事・経費・総務について質問できます"}


class AgentView:
    """Suggested prompts for a new agent thread; ``prompts`` per language."""

    def __init__(self, prompts: dict[Language, tuple[str, ...]]) -> None:
        self.prompts = prompts

    def register(self, app: AsyncApp) -> None:
        app.event("assistant_thread_started")(self.on_started)
        app.event("assistant_thread_context_changed")(self.on_context_changed)

    async def on_started(self, event: dict[str, Any], client: AsyncWebClient) -> None:
        thread = event["assistant_thread"]
        language = await _language(client, thread["user_id"])
        prompts = self.prompts.get(language) or self.prompts.get("en") or ()
        if not prompts:
            return
        try:
            await client.assistant_threads_setSuggestedPrompts(
                channel_id=thread["channel_id"], thread_ts=thread["thread_ts"],
                title=TITLE[language],
                prompts=[{"title": p, "message": p} for p in prompts[:MAX_PROMPTS]])
        except API_FAILURES as exc:
            log.warning("could not suggest prompts in the agent view: %s", why(exc))

    async def on_context_changed(self) -> None:
        """Nothing to do: answers do not depend on the channel the person is looking at."""


async def _language(client: AsyncWebClient, user: str) -> Language:
    """The person's Slack language (``users.info`` locale), English if it cannot be read."""
    try:
        resp = await client.users_info(user=user, include_locale=True)
    except API_FAILURES as exc:
        log.debug("no locale for %s: %s", user, why(exc))
        return "en"
    locale = str((resp.get("user") or {}).get("locale") or "")
    return "ja" if locale.lower().startswith("ja") else "en"
