"""A :class:`Reply` rendered for Teams: an Adaptive Card with a plain-text fallback.

The card shows the answer, its sources and where it was answered (on-prem / cloud), with 👍 / 👎
actions whose submit carries the answer id (stored on the answer's ledger row by the core).
Command output and failures are plain text: there is nothing to rate.
"""

from __future__ import annotations

from typing import Any

from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import Activity

from adapters.teams.convert import FEEDBACK_MARKER, HANDOFF_MARKER, RETRY_MARKER
from adapters.teams.entities import mark_answer, markers
from bot.answering.handoff.texts import BUTTON as HANDOFF_LABEL
from bot.types import Language, Reply, Route, Source

CARD_VERSION = "1.4"  # rendered by Teams desktop, web and mobile
# Channels known to render Adaptive Cards; anything else gets the plain text.
CARD_CHANNELS = frozenset({"msteams", "emulator", "webchat", "directline"})

ROUTE_LABELS: dict[Language, dict[Route, str]] = {
    "en": {Route.LOCAL: "on-prem", Route.CLOUD: "cloud", Route.CACHE: "cached",
           Route.APPROVED: "approved answer",
           Route.LOCAL_FALLBACK: "on-prem (cloud unavailable)"},
    "ja": {Route.LOCAL: "オンプレミス", Route.CLOUD: "クラウド", Route.CACHE: "キャッシュ",
           Route.APPROVED: "承認済みの回答",
           Route.LOCAL_FALLBACK: "オンプレミス(クラウド利用不可)"},
}
WORDS: dict[Language, dict[str, str]] = {
    "en": {"sources": "Sources", "answered": "Answered {route}", "up": "👍 Helpful",
           "down": "👎 Not helpful", "send": "Send", "reference": "(reference {id})",
           "reason": "What was wrong or missing? (optional)"},
    "ja": {"sources": "参照元", "answered": "回答元: {route}", "up": "👍 役に立った",
           "down": "👎 役に立たなかった", "send": "送信", "reference": "(参照ID: {id})",
           "reason": "何が違っていた・足りなかったですか?(任意)"},
}


def route_label(route: Route, language: Language = "en") -> str:
    return ROUTE_LABELS[language].get(route, route.value)


def _words(reply: Reply) -> dict[str, str]:
    return WORDS.get(reply.language, WORDS["en"])


def shown_sources(reply: Reply) -> tuple[Source, ...]:
    """The cited sources, else all retrieved ones; none when the KB did not cover the question."""
    if not reply.covered:
        return ()
    return reply.cited_sources or reply.sources


def is_rateable(reply: Reply) -> bool:
    return bool(reply.answer_id) and reply.route not in (Route.COMMAND, Route.FAILED)


def plain_text(reply: Reply) -> str:
    """The whole answer as text: the fallback for clients without cards."""
    words = _words(reply)
    parts = [reply.text]
    if reply.error and reply.error not in reply.text:
        parts.append(words["reference"].format(id=reply.error))
    if reply.notice:
        parts.append(reply.notice)
    sources = shown_sources(reply)
    if sources:
        parts.append(f"{words['sources']}: " + "; ".join(_source_plain(s) for s in sources))
    if is_rateable(reply) and reply.route != Route.DECLINED:
        parts.append(words["answered"].format(route=route_label(reply.route, reply.language)))
    return "\n\n".join(parts)


def answer_card(reply: Reply, with_text: bool = True, question: str = "") -> dict[str, Any]:
    """The Adaptive Card JSON for an answer (``with_text=False``: the message text has it);
    ``question`` goes into an "Ask a person" submit, when the answer offers one."""
    words = _words(reply)
    body: list[dict[str, Any]] = [_text(reply.text)] if with_text else []
    if reply.notice:
        body.append(_text(reply.notice, isSubtle=True, size="Small"))
    sources = shown_sources(reply)
    if sources:
        body.append(_text(words["sources"], weight="Bolder", spacing="Medium"))
        body.extend(_text(f"- {_source_markdown(s)}", spacing="None") for s in sources)
    if reply.route != Route.DECLINED:  # "answered: not answered" helps nobody
        answered = words["answered"].format(route=route_label(reply.route, reply.language))
        body.append(_text(answered, isSubtle=True, size="Small", spacing="Medium"))
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "body": body,
        "actions": _actions(reply, words, question),
        "fallbackText": plain_text(reply),
        "msteams": {"width": "Full"},
    }


def reply_activity(reply: Reply, channel_id: str | None, streamed: bool = False,
                   question: str = "") -> Activity:
    """The message to send: a card for rateable answers on card-capable channels, else text.

    Answers carry the AI label, citations of their sources and Teams' feedback loop. A streamed
    answer's final message keeps the answer in its text (with the ``[n]`` citation markers),
    where the stream showed it, and the card below it holds sources, route and feedback.
    """
    if not is_rateable(reply):
        return MessageFactory.text(plain_text(reply))
    sources = shown_sources(reply)
    if (channel_id or "") not in CARD_CHANNELS:
        return mark_answer(MessageFactory.text(plain_text(reply)), sources)
    card = answer_card(reply, with_text=not streamed, question=question)
    activity = MessageFactory.attachment(CardFactory.adaptive_card(card))
    activity.summary = plain_text(reply)  # shown by clients that cannot render the card
    if streamed:
        activity.text = f"{reply.text}\n\n{markers(sources)}" if sources else reply.text
    return mark_answer(activity, sources)


def retry_activity(text: str, label: str, question: str, number: int) -> Activity:
    """An apology card whose button asks ``question`` again (retry ``number``)."""
    data = {"firstline": RETRY_MARKER, "text": question, "retry": number}
    card = {"type": "AdaptiveCard", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "version": CARD_VERSION, "body": [_text(text)], "fallbackText": text,
            "actions": [{"type": "Action.Submit", "title": label, "data": data}]}
    activity = MessageFactory.attachment(CardFactory.adaptive_card(card))
    activity.summary = text
    return activity


def feedback_data(answer_id: str, vote: str) -> dict[str, Any]:
    return {"firstline": FEEDBACK_MARKER, "answer_id": answer_id, "vote": vote}


def handoff_data(answer_id: str, question: str, answer: str) -> dict[str, str]:
    """What an "Ask a person" submit carries: the ledger keeps no text, the card does."""
    return {"firstline": HANDOFF_MARKER, "answer_id": answer_id, "question": question,
            "answer": answer}


def handoff_action(language: Language, data: dict[str, str]) -> dict[str, Any]:
    return {"type": "Action.Submit", "title": HANDOFF_LABEL[language], "data": data}


def handoff_offer_activity(text: str, language: Language, data: dict[str, str]) -> Activity:
    """A 👎's thanks with the "Ask a person" button."""
    card = {"type": "AdaptiveCard", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "version": CARD_VERSION, "body": [_text(text)], "fallbackText": text,
            "actions": [handoff_action(language, data)]}
    activity = MessageFactory.attachment(CardFactory.adaptive_card(card))
    activity.summary = text
    return activity


def _actions(reply: Reply, words: dict[str, str], question: str) -> list[dict[str, Any]]:
    data = handoff_data(reply.answer_id, question, reply.text)
    down = feedback_data(reply.answer_id, "down")
    if reply.handoff == "after-down":
        down["handoff"] = {"question": question, "answer": reply.text}
    actions = _feedback_actions(reply.answer_id, words, down)
    if reply.handoff == "now":
        actions.append(handoff_action(reply.language, data))
    return actions


def _feedback_actions(answer_id: str, words: dict[str, str],
                      down: dict[str, Any]) -> list[dict[str, Any]]:
    reason_card = {
        "type": "AdaptiveCard",
        "body": [{"type": "Input.Text", "id": "reason", "isMultiline": True, "maxLength": 500,
                  "placeholder": words["reason"]}],
        "actions": [{"type": "Action.Submit", "title": words["send"], "data": down}],
    }
    return [
        {"type": "Action.Submit", "title": words["up"], "data": feedback_data(answer_id, "up")},
        {"type": "Action.ShowCard", "title": words["down"], "card": reason_card},
    ]


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _source_markdown(source: Source) -> str:
    title = source.title or source.path
    if source.heading and source.heading != title:
        title = f"{title} › {source.heading}"
    return f"[{title}]({source.url})" if source.url else f"{title} ({source.path})"


def _source_plain(source: Source) -> str:
    title = source.title or source.path
    return f"{title} <{source.url}>" if source.url else f"{title} ({source.path})"
