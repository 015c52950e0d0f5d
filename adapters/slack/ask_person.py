""""Ask a person" clicks: the asker's answer handed to the helpdesk through the core.

The button sits under an answer (``Reply.handoff == "now"``) or comes with the thanks for a 👎
(``"after-down"``, :mod:`adapters.slack.feedback`). A click is acked at once; then the thread is
read (``conversations.replies``) for the question the answer answered and the answer itself,
a permalink to the answer is fetched (``chat.getPermalink``, no extra scope), and the core
hands off. On success the thread is told who will reply; otherwise the asker alone is told
why (already handed off, or it failed: the button stays and works again).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Literal

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.api import API_FAILURES, why
from adapters.slack.blocks import HANDOFF_ACTION
from adapters.slack.history import REPLIES_LIMIT, USER_SUBTYPES
from adapters.slack.hook import LANGUAGE_KEY, guarded
from adapters.slack.text import looks_japanese, question_text
from bot.types import HandoffAsk, HandoffResult, Responder

log = logging.getLogger(__name__)


class AskPersonHandlers:
    def __init__(self, responder: Responder) -> None:
        self.responder = responder

    def register(self, app: AsyncApp) -> None:
        app.action(HANDOFF_ACTION)(self.on_click)

    async def on_click(self, ack: AsyncAck, action: dict[str, Any], body: dict[str, Any],
                       client: AsyncWebClient, context: AsyncBoltContext,
                       respond: AsyncRespond) -> None:
        await ack()
        await guarded(self._hand_off(action, body, client, context, respond), body, context,
                      respond)

    async def _hand_off(self, action: dict[str, Any], body: dict[str, Any],
                        client: AsyncWebClient, context: AsyncBoltContext,
                        respond: AsyncRespond) -> None:
        answer_id, answer_ts, thread_ts = _where(action, body)
        channel, user = body["channel"]["id"], body["user"]["id"]
        thread, link, name = await asyncio.gather(
            _thread(client, channel, thread_ts), _permalink(client, channel, answer_ts),
            _name(client, user))
        question, answer = _question_and_answer(thread, answer_ts, user, context.bot_user_id)
        language: Literal["en", "ja"] = "ja" if looks_japanese(question or answer) else "en"
        context[LANGUAGE_KEY] = language
        result = await self.responder.handoff(HandoffAsk(
            answer_id, question, answer, asker=user, asker_name=name, channel="slack",
            thread_link=link, language=language))
        await _tell(client, channel, thread_ts, result, respond)


def _where(action: dict[str, Any], body: dict[str, Any]) -> tuple[str, str, str]:
    """(answer id, answer message ts, thread ts): from the value of a button outside the answer
    (``id|ts|thread``), else from the answer message the button is on."""
    answer_id, _, rest = str(action.get("value") or "").partition("|")
    if rest:
        answer_ts, _, thread_ts = rest.partition("|")
        return answer_id, answer_ts, thread_ts or answer_ts
    message = body.get("message") or {}
    answer_ts = str(message.get("ts") or (body.get("container") or {}).get("message_ts") or "")
    return answer_id, answer_ts, str(message.get("thread_ts") or answer_ts)


async def _thread(client: AsyncWebClient, channel: str, thread_ts: str) -> list[dict[str, Any]]:
    try:
        found = await client.conversations_replies(channel=channel, ts=thread_ts,
                                                   limit=REPLIES_LIMIT)
    except API_FAILURES as exc:
        log.warning("hand-off: could not read the asker's thread: %s", why(exc))
        return []
    return list(found.get("messages") or [])


def _question_and_answer(thread: list[dict[str, Any]], answer_ts: str, user: str,
                         bot_user_id: str | None) -> tuple[str, str]:
    """The answer's text and the question before it (the clicker's own, else anyone's)."""
    answer = next((m for m in thread if m.get("ts") == answer_ts), {})
    before = [m for m in thread if _by_person(m) and float(m["ts"]) < float(answer_ts or 0)]
    mine = [m for m in before if m.get("user") == user] or before
    question = question_text(mine[-1].get("text") or "", bot_user_id) if mine else ""
    return question, str(answer.get("text") or "")  # as Slack shows it


def _by_person(message: dict[str, Any]) -> bool:
    return (not message.get("bot_id") and bool(message.get("user"))
            and message.get("subtype") in USER_SUBTYPES)


async def _permalink(client: AsyncWebClient, channel: str, ts: str) -> str:
    try:
        found = await client.chat_getPermalink(channel=channel, message_ts=ts)
    except API_FAILURES as exc:
        log.info("hand-off: no permalink for the answer: %s", why(exc))
        return ""
    return str(found.get("permalink") or "")


async def _name(client: AsyncWebClient, user: str) -> str:
    """The asker's display name, best effort (``users:read``); Slack shows a mention anyway."""
    try:
        found = await client.users_info(user=user)
    except API_FAILURES as exc:
        log.debug("hand-off: no name for %s: %s", user, why(exc))
        return ""
    profile = (found.get("user") or {}).get("profile") or {}
    return str(profile.get("display_name") or profile.get("real_name") or "")


async def _tell(client: AsyncWebClient, channel: str, thread_ts: str, result: HandoffResult,
                respond: AsyncRespond) -> None:
    """Sent: a message in the thread (everyone there sees who will reply). Otherwise: the
    clicker alone."""
    if result.status == "sent":
        try:
            await client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=result.text)
            return
        except API_FAILURES as exc:
            log.warning("hand-off: could not tell the thread: %s", why(exc))
    await respond(text=result.text, response_type="ephemeral", replace_original=False)
