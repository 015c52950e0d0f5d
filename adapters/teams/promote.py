""""Promote to approved answer" on a hand-off card in the Teams helpdesk channel.

Slack's button takes the thread's latest reply; a Teams bot cannot read a channel thread's
replies without Microsoft Graph permissions, so the card carries a box "The answer to approve"
(empty) and the helpdesk person pastes the reply into it before submitting (an ``Action.Submit``:
its message activity reaches everyone's card update, where an ``Action.Execute`` response would
replace the card for the presser alone). Only the Teams admins (``FIRSTLINE_TEAMS_ADMIN_IDS``)
may; the core decides (:mod:`bot.answering.handoff.promote`): once per hand-off, a second
submit is told which approved answer it already became. On success the card is updated for
everyone to say who promoted it, without the box; every outcome is posted in the card's thread.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.schema import Activity

from adapters.teams.convert import RETRY_TEXT_LIMIT, is_admin, user_id
from adapters.teams.handoff import (
    PROMOTE_INPUT,
    PROMOTE_MARKER,
    WORDS,
    card_activity,
    card_of,
    text_block,
)
from bot.types import Language, Promotion, Responder

log = logging.getLogger(__name__)

SAID: dict[Language, dict[str, str]] = {
    "en": {"empty": "Paste the reply the asker was given into “The answer to approve”, then "
                    "press “Promote to approved answer” again.",
           "by": "Promoted to approved answer {id} by {name}"},
    "ja": {"empty": "「承認する回答」に質問者へ伝えた回答を貼り付けてから、もう一度"
                    "「承認済み回答にする」を押してください。",
           "by": "{name} さんが承認済み回答 {id} にしました"},
}


@dataclass(frozen=True)
class PromoteClick:
    """A "Promote to approved answer" submit: the pasted reply and what the card showed."""

    answer_id: str
    question: str
    answer: str
    language: Language
    shown: tuple[dict[str, Any], ...]  # the card's texts, shown again on the updated card
    links: tuple[dict[str, Any], ...]


def promote_from(value: Any) -> PromoteClick | None:
    """The promotion an ``Action.Submit`` of a hand-off card posted, if it is one."""
    if not isinstance(value, dict) or value.get("firstline") != PROMOTE_MARKER:
        return None
    answer_id, question = value.get("answer_id"), value.get("question")
    if not isinstance(answer_id, str) or not answer_id or not isinstance(question, str):
        return None
    language: Language = "ja" if value.get("language") == "ja" else "en"
    return PromoteClick(answer_id, question[:RETRY_TEXT_LIMIT], str(value.get(PROMOTE_INPUT) or ""),
                        language, _dicts(value.get("shown")), _dicts(value.get("links")))


def reference_of(activity: Activity) -> str:
    """The hand-off's thread as the ledger stored it: ``<channel>;messageid=<card's id>``."""
    conversation = activity.conversation.id if activity.conversation else ""
    channel, _, thread = (conversation or "").partition(";messageid=")
    message = activity.reply_to_id or thread
    return f"{channel};messageid={message}" if channel and message else ""


class TeamsPromotions:
    """Runs a hand-off card's promotion through the core and tells the channel."""

    def __init__(self, responder: Responder, admin_ids: tuple[str, ...]) -> None:
        self.responder, self.admin_ids = responder, admin_ids

    async def __call__(self, turn_context: TurnContext, click: PromoteClick) -> None:
        activity = turn_context.activity
        admin = is_admin(activity, self.admin_ids)
        if admin and not click.answer.strip():
            await turn_context.send_activity(MessageFactory.text(SAID[click.language]["empty"]))
            return
        result = await self.responder.promote(Promotion(
            reference=reference_of(activity), question=click.question, answer=click.answer,
            by=user_id(activity), is_admin=admin))
        name = str(getattr(activity.from_property, "name", "") or user_id(activity))
        if result.approved_id:
            await _mark_promoted(turn_context, click, result.approved_id, name)
        text = f"{name}: {result.text}" if result.approved_id else result.text
        await turn_context.send_activity(MessageFactory.text(text))


async def _mark_promoted(turn_context: TurnContext, click: PromoteClick, approved_id: str,
                         name: str) -> None:
    """Replace the card (for everyone) by one that says who promoted it, without the box."""
    said, words = SAID[click.language], WORDS[click.language]
    body = [*click.shown,
            text_block(said["by"].format(id=approved_id, name=name), weight="Bolder",
                       color="Good", spacing="Large"),
            text_block(words["approve"], isSubtle=True, size="Small"), text_block(click.answer)]
    update = card_activity(card_of(body, list(click.links), f"{click.question}: {click.answer}"))
    update.id = turn_context.activity.reply_to_id
    try:
        await turn_context.update_activity(update)
    except Exception as exc:  # the connector's errors come in several SDK types
        log.warning("promotion: could not update the hand-off card: %s",
                    (str(exc).splitlines() or [""])[0][:200])


def _dicts(value: Any) -> tuple[dict[str, Any], ...]:
    return tuple(v for v in value if isinstance(v, dict)) if isinstance(value, list) else ()
