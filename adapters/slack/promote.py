""""Promote reply to approved answer" on a hand-off message in the helpdesk channel.

An admin (``FIRSTLINE_SLACK_ADMIN_USERS`` / ``_GROUPS``) presses it once the helpdesk has
replied in the message's thread: the latest reply written by a person becomes an approved
answer to the hand-off's question (the core decides; :mod:`bot.answering.handoff.promote`).
The outcome is posted in the thread; a refusal (not an admin, no reply yet) goes to the presser
alone.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.admins import AdminCheck
from adapters.slack.api import API_FAILURES, why
from adapters.slack.handoff import PROMOTE_ACTION, question_of
from adapters.slack.history import REPLIES_LIMIT, USER_SUBTYPES
from adapters.slack.hook import guarded
from adapters.slack.text import question_text
from bot.types import Promotion, Responder

log = logging.getLogger(__name__)


class PromoteHandlers:
    def __init__(self, responder: Responder, admins: AdminCheck) -> None:
        self.responder = responder
        self.admins = admins

    def register(self, app: AsyncApp) -> None:
        app.action(PROMOTE_ACTION)(self.on_promote)

    async def on_promote(self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient,
                         context: AsyncBoltContext, respond: AsyncRespond) -> None:
        await ack()
        await guarded(self._promote(body, client, respond), body, context, respond)

    async def _promote(self, body: dict[str, Any], client: AsyncWebClient,
                       respond: AsyncRespond) -> None:
        channel, user = body["channel"]["id"], body["user"]["id"]
        post = body.get("message") or {}
        reply = await _latest_reply(client, channel, str(post.get("ts") or ""))
        result = await self.responder.promote(Promotion(
            reference=f"{channel}:{post.get('ts')}", question=question_of(post), answer=reply,
            by=user, is_admin=await self.admins(client, user)))
        if result.approved_id:
            try:
                await client.chat_postMessage(channel=channel, thread_ts=post["ts"],
                                              text=f"<@{user}>: {result.text}")
                return
            except API_FAILURES as exc:
                log.warning("promotion: could not post in the thread: %s", why(exc))
        await respond(text=result.text, response_type="ephemeral", replace_original=False)


async def _latest_reply(client: AsyncWebClient, channel: str, post_ts: str) -> str:
    """The newest message a person wrote in the hand-off's thread ("" when none)."""
    if not post_ts:
        return ""
    try:
        found = await client.conversations_replies(channel=channel, ts=post_ts,
                                                   limit=REPLIES_LIMIT)
    except API_FAILURES as exc:
        log.warning("promotion: could not read the helpdesk thread: %s", why(exc))
        return ""
    replies = [m for m in found.get("messages") or ()
               if m.get("ts") != post_ts and not m.get("bot_id") and m.get("user")
               and m.get("subtype") in USER_SUBTYPES]
    latest = max(replies, key=lambda m: float(m["ts"]), default=None)
    return question_text(str(latest.get("text") or ""), None) if latest else ""
