"""👍 / 👎 clicks on answers, stored with the answer's ledger row; a 👎 may add a reason.

Answers carry Slack's feedback buttons (value ``up:ID`` / ``down:ID``); the older pair of plain
buttons (``firstline_vote_up`` / ``_down``, value ``ID``) on answers already posted still work.

The vote is stored on the click itself, so it counts even if the reason dialog is skipped;
a reason sent later stores the vote again with the reason (the ledger keeps the latest).
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any, Literal

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.api import api_error
from adapters.slack.blocks import (
    FEEDBACK_ACTION,
    HANDOFF_OFFERED,
    REASON_BLOCK,
    REASON_INPUT,
    REASON_VIEW,
    VOTE_ACTION,
    handoff_block,
    reason_view,
    text_blocks,
)
from adapters.slack.hook import guarded
from adapters.slack.text import looks_japanese
from bot.errors import UserFacingError
from bot.types import Responder

log = logging.getLogger(__name__)

THANKS = {"en": "Thanks for the feedback!", "ja": "フィードバックありがとうございます。"}
OFFER = {"en": "Thanks for the feedback! If you like, a person can look at your question.",
         "ja": "フィードバックありがとうございます。担当者に確認してもらうこともできます。"}
MAX_REASON = 500


class FeedbackHandlers:
    def __init__(self, responder: Responder) -> None:
        self.responder = responder

    def register(self, app: AsyncApp) -> None:
        app.action(FEEDBACK_ACTION)(self.on_vote)
        app.action(re.compile(rf"^{VOTE_ACTION}_(up|down)$"))(self.on_vote)
        app.view_submission(REASON_VIEW)(self.on_reason)

    async def on_vote(self, ack: AsyncAck, action: dict[str, Any], body: dict[str, Any],
                      client: AsyncWebClient, context: AsyncBoltContext,
                      respond: AsyncRespond) -> None:
        await ack()
        await guarded(self._vote(action, body, client, respond), body, context, respond)

    async def on_reason(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any],
                        context: AsyncBoltContext) -> None:
        await ack()
        await guarded(self._reason(body, view), body, context)

    async def _vote(self, action: dict[str, Any], body: dict[str, Any], client: AsyncWebClient,
                    respond: AsyncRespond) -> None:
        vote, answer_id = _vote_of(action)
        user = body["user"]["id"]
        language = _language(body)
        # trigger_id expires 3 s after the click: open the dialog before anything slow
        asked = vote == "down" and await _ask_reason(client, body, answer_id, language)
        try:
            await self.responder.feedback(answer_id, user, vote)
        except UserFacingError as exc:
            await respond(text=str(exc), response_type="ephemeral", replace_original=False)
            return
        if vote == "down" and str(action.get("block_id") or "").startswith(HANDOFF_OFFERED):
            await _offer_person(body, answer_id, language, respond)
        elif not asked:
            await respond(text=THANKS[language], response_type="ephemeral",
                          replace_original=False)

    async def _reason(self, body: dict[str, Any], view: dict[str, Any]) -> None:
        meta = json.loads(view.get("private_metadata") or "{}")
        values = view["state"]["values"].get(REASON_BLOCK, {}).get(REASON_INPUT, {})
        reason = " ".join((values.get("value") or "").split())[:MAX_REASON]
        if reason and meta.get("answer_id"):
            await self.responder.feedback(meta["answer_id"], body["user"]["id"], "down", reason)


async def _ask_reason(client: AsyncWebClient, body: dict[str, Any], answer_id: str,
                      language: str) -> bool:
    channel = (body.get("channel") or {}).get("id", "")
    message = body.get("message") or {}
    thread_ts = message.get("thread_ts") or message.get("ts", "")
    try:
        await client.views_open(trigger_id=body["trigger_id"],
                                view=reason_view(answer_id, channel, thread_ts, language))
        return True
    except SlackApiError as exc:  # the vote itself still counts
        log.info("could not open the 👎 reason dialog: %s", api_error(exc))
        return False


async def _offer_person(body: dict[str, Any], answer_id: str, language: str,
                        respond: AsyncRespond) -> None:
    """The 👎's follow-up (only the voter sees it): thanks, and "Ask a person", which carries
    where the answer is (an ephemeral message's click does not)."""
    message = body.get("message") or {}
    ts = str(message.get("ts") or "")
    where = f"|{ts}|{message.get('thread_ts') or ts}"
    blocks = [*text_blocks(OFFER[language]), handoff_block(answer_id, language, where)]
    await respond(text=OFFER[language], blocks=blocks, response_type="ephemeral",
                  replace_original=False)


def _vote_of(action: dict[str, Any]) -> tuple[Literal["up", "down"], str]:
    """(vote, answer id) from the feedback buttons' value, or an older button's id and value."""
    if action["action_id"] == FEEDBACK_ACTION:
        vote, _, answer_id = str(action.get("value") or "").partition(":")
        return ("up" if vote == "up" else "down"), answer_id
    return ("up" if action["action_id"].endswith("_up") else "down"), action["value"]


def _language(body: dict[str, Any]) -> Literal["en", "ja"]:
    text = (body.get("message") or {}).get("text") or ""
    return "ja" if looks_japanese(text) else "en"
