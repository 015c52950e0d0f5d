"""Teams activity → the core's :class:`Question` (and card submits → feedback)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from botbuilder.schema import Activity

from bot.types import Question

FEEDBACK_MARKER = "feedback"
RETRY_MARKER = "retry"
HANDOFF_MARKER = "handoff"
RETRY_TEXT_LIMIT = 2000
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Feedback:
    """A 👍/👎 submitted from an answer card."""

    answer_id: str
    vote: Literal["up", "down"]
    reason: str = ""
    offer: HandoffClick | None = None  # a 👎 that offers "Ask a person" afterwards


@dataclass(frozen=True)
class HandoffClick:
    """"Ask a person" submitted from a card: the answer, and the question and answer texts
    the card carried (the ledger keeps no text)."""

    answer_id: str
    question: str
    answer: str


def is_personal(activity: Activity) -> bool:
    """1:1 chat (the Emulator sends no conversation type and counts as personal)."""
    kind = getattr(activity.conversation, "conversation_type", None)
    return kind in (None, "", "personal")


def mentions_bot(activity: Activity) -> bool:
    bot_id = getattr(activity.recipient, "id", None)
    return any(who == bot_id for who, _, _ in _mentions(activity))


def question_text(activity: Activity) -> str:
    """The message text without the bot's @mention (others become plain names), tidied."""
    bot_id = getattr(activity.recipient, "id", None)
    text = activity.text or ""
    for who, markup, name in _mentions(activity):
        text = text.replace(markup, " " if who == bot_id else name)
    return _SPACES.sub(" ", text.replace("&nbsp;", " ")).strip()


def user_id(activity: Activity) -> str:
    """The AAD object id when Teams gives one (it does for tenant users), else the channel id."""
    sender = activity.from_property
    if sender is None:
        return "anonymous"
    return str(sender.aad_object_id or sender.id or "anonymous")


def is_admin(activity: Activity, admin_ids: tuple[str, ...]) -> bool:
    """Admins are listed by AAD object id; GUIDs compare case-insensitively."""
    sender = activity.from_property
    object_id = (getattr(sender, "aad_object_id", None) or "").lower()
    return bool(object_id) and object_id in {a.lower() for a in admin_ids}


def to_question(activity: Activity, admin_ids: tuple[str, ...],
                text: str | None = None) -> Question | None:
    """The question a message asks the bot, or None when it is not addressed to the bot.

    Teams delivers group chat and channel messages only when the bot is @mentioned; with
    resource-specific consent it may see others, which are not for us. ``text`` (an "Ask
    again" submit's question) replaces the message's own and needs no mention.
    """
    if text is None and not is_personal(activity) and not mentions_bot(activity):
        return None
    return Question(
        text=question_text(activity) if text is None else text,
        user=user_id(activity),
        conversation=str(activity.conversation.id if activity.conversation else ""),
        channel="teams",
        is_admin=is_admin(activity, admin_ids),
        where="dm" if is_personal(activity) else "channel",
    )


def feedback_from(value: Any) -> Feedback | None:
    """The feedback an Action.Submit of our answer card posted (its ``data`` merged with inputs)."""
    if not isinstance(value, dict) or value.get("firstline") != FEEDBACK_MARKER:
        return None
    vote = value.get("vote")
    answer_id = value.get("answer_id")
    if vote not in ("up", "down") or not isinstance(answer_id, str) or not answer_id:
        return None
    reason = value.get("reason")
    offer = handoff_from({**(value.get("handoff") or {}), "firstline": HANDOFF_MARKER,
                          "answer_id": answer_id}) if value.get("handoff") else None
    return Feedback(answer_id, vote, reason.strip() if isinstance(reason, str) else "", offer)


def handoff_from(value: Any) -> HandoffClick | None:
    """The "Ask a person" an Action.Submit of our card posted, if it is one."""
    if not isinstance(value, dict) or value.get("firstline") != HANDOFF_MARKER:
        return None
    answer_id, question, answer = (value.get(k) for k in ("answer_id", "question", "answer"))
    if not isinstance(answer_id, str) or not answer_id:
        return None
    return HandoffClick(answer_id, str(question or "")[:RETRY_TEXT_LIMIT], str(answer or ""))


@dataclass(frozen=True)
class Retry:
    """An "Ask again" submitted from the card of a question the bot gave up on."""

    text: str
    number: int


def retry_from(value: Any) -> Retry | None:
    if not isinstance(value, dict) or value.get("firstline") != RETRY_MARKER:
        return None
    text, number = value.get("text"), value.get("retry")
    if not isinstance(text, str) or not text.strip() or not isinstance(number, int):
        return None
    return Retry(text.strip()[:RETRY_TEXT_LIMIT], number)


def _mentions(activity: Activity) -> list[tuple[str, str, str]]:
    """(mentioned id, its markup in the text, the plain name) for each mention entity."""
    found: list[tuple[str, str, str]] = []
    for entity in activity.entities or []:
        if (getattr(entity, "type", "") or "").lower() != "mention":
            continue
        props: dict[str, Any] = getattr(entity, "additional_properties", None) or {}
        mentioned = props.get("mentioned") or {}
        name = str(mentioned.get("name") or "")
        markup = str(props.get("text") or f"<at>{name}</at>")
        found.append((str(mentioned.get("id") or ""), markup, name))
    return found
