"""Questions another replica could not finish, and the "Ask again" button.

The sweep (:mod:`bot.app.sweeper`) hands this adapter a pending question's stored payload: it is
answered in its thread, replacing the dead replica's placeholder — or, once too many replicas
failed it, the placeholder becomes an apology with an "Ask again" button, whose click asks the
same question again (as the person who clicks) in place of the apology.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import RETRY_ACTION, placeholder_text, retry_blocks
from adapters.slack.handlers import SlackHandlers
from adapters.slack.hook import LANGUAGE_KEY, THREAD_KEY, guarded
from adapters.slack.text import looks_japanese
from adapters.slack.thread import SlackThread
from bot.errors import describe, not_answered
from bot.ledger.pending import Pending
from bot.types import Language

log = logging.getLogger(__name__)

VALUE_TEXT_LIMIT = 1500  # a button's value holds at most 2000 characters
_KEPT = ("channel", "ts", "thread_ts", "where")


class SlackResumer:
    """The Slack side of :class:`bot.ledger.questions.Resumer`, and the retry button."""

    def __init__(self, handlers: SlackHandlers, client: AsyncWebClient) -> None:
        self.handlers = handlers
        self.client = client

    def register(self, app: AsyncApp) -> None:
        app.action(RETRY_ACTION)(self.on_retry)

    async def resume(self, question: Pending) -> str | None:
        """Answer in the stored thread; a failure is shown there as the usual apology."""
        asked = question.payload
        thread = SlackThread.resumed(self.client, asked)
        self.handlers.threads.add(f"{thread.channel}:{thread.thread_ts}")
        try:
            return await self.handlers.answer(question.key, asked, thread)
        except Exception as exc:
            await thread.say(describe(exc, _language(asked))[0])
            return None

    async def give_up(self, question: Pending) -> None:
        asked = question.payload
        text, label = not_answered(_language(asked))
        value = json.dumps({**{k: asked[k] for k in _KEPT}, "retry": asked.get("retry", 0) + 1,
                            "text": asked["text"][:VALUE_TEXT_LIMIT]}, ensure_ascii=False)
        await SlackThread.resumed(self.client, asked).say(text, retry_blocks(text, label, value))

    async def on_retry(self, ack: AsyncAck, action: dict[str, Any], body: dict[str, Any],
                       context: AsyncBoltContext, respond: AsyncRespond) -> None:
        await ack()
        await guarded(self._retry(action, body, context), body, context, respond)

    async def _retry(self, action: dict[str, Any], body: dict[str, Any],
                     context: AsyncBoltContext) -> None:
        asked = {**json.loads(action["value"]), "user": body["user"]["id"],
                 "bot_user_id": context.bot_user_id, "bot_id": context.bot_id,
                 "placeholder_ts": body["container"]["message_ts"]}
        key = f"{asked['channel']}:{asked['ts']}:retry{asked['retry']}"  # one per apology
        if await self.handlers.questions.claim(key, asked) is None:
            log.info("retry %s is already being answered", key)
            return
        thread = SlackThread(self.client, asked["channel"], asked["thread_ts"])
        thread.placeholder_ts = asked["placeholder_ts"]
        context[THREAD_KEY], context[LANGUAGE_KEY] = thread, _language(asked)
        await thread.say(placeholder_text(asked["text"]))
        await self.handlers.answer(key, asked, thread)


def _language(asked: dict[str, Any]) -> Language:
    return "ja" if looks_japanese(asked.get("text", "")) else "en"
