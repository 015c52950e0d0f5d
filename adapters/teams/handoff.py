"""A Teams channel as the hand-off target (``FIRSTLINE_HANDOFF_TARGET=teams``).

Each hand-off is a proactive message (an Adaptive Card) in the channel named by
``FIRSTLINE_HANDOFF_TEAMS_CONVERSATION`` (the channel's conversation id, ``19:…@thread.tacv2``),
sent through the Bot Connector at ``FIRSTLINE_HANDOFF_TEAMS_SERVICE_URL`` with the bot's own
token, as :class:`~adapters.teams.outbound.ProactiveNotifier` does; the bot must be installed in
the team. The reference stored on the ledger row is the new post's thread,
``<conversation>;messageid=<id>``.

The card also carries the one-action promotion (:mod:`adapters.teams.promote`): a box "The answer
to approve" and a "Promote to approved answer" submit. A bot cannot read a channel thread's
replies without Microsoft Graph permissions (``ChannelMessage.Read.*``), so the helpdesk person
pastes the reply they gave into the box instead of the bot fetching it, as Slack's does.
"""

from __future__ import annotations

from typing import Any

from botbuilder.core import BotAdapter, CardFactory, MessageFactory, TurnContext
from botbuilder.schema import ChannelAccount, ConversationAccount, ConversationReference

from adapters.teams.cards import CARD_VERSION
from bot.answering.handoff.texts import WITHHELD
from bot.errors import HandoffError
from bot.types import HandoffRequest

PROMOTE_MARKER = "promote"  # the "firstline" value of the promotion's submit data
PROMOTE_INPUT = "firstline_promote_answer"  # the input's id: its text arrives under this key
WORDS = {
    "en": {"title": "Question handed off by {asker}", "question": "Question",
           "answer": "The bot's answer ({route})", "sources": "Sources",
           "withheld": "{n} restricted source(s) not named", "thread": "Open the asker's chat",
           "id": "answer {id}", "approve": "The answer to approve",
           "paste": "Paste the reply the asker was given (firstline admins only)",
           "promote": "Promote to approved answer"},
    "ja": {"title": "{asker} さんからの引き継ぎ", "question": "質問",
           "answer": "ボットの回答({route})", "sources": "参照",
           "withheld": "閲覧制限のある文書 {n} 件は非表示", "thread": "質問者のチャットを開く",
           "id": "回答 {id}", "approve": "承認する回答",
           "paste": "質問者に伝えた回答を貼り付けてください(firstline 管理者のみ)",
           "promote": "承認済み回答にする"},
}


class TeamsHandoffTarget:
    """Posts hand-offs as cards to one Teams channel."""

    def __init__(self, adapter: BotAdapter, app_id: str, conversation: str, service_url: str,
                 tenant_id: str = "") -> None:
        self.adapter, self.app_id, self.conversation = adapter, app_id, conversation
        self.name = f"teams:{conversation}"
        self.reference = ConversationReference(
            channel_id="msteams", service_url=service_url,
            bot=ChannelAccount(id=f"28:{app_id}"),
            conversation=ConversationAccount(id=conversation, is_group=True,
                                             conversation_type="channel",
                                             tenant_id=tenant_id or None))

    async def post(self, request: HandoffRequest) -> str:
        posted: list[str] = []

        async def send(turn: TurnContext) -> None:
            response = await turn.send_activity(handoff_activity(request))
            posted.append(response.id if response is not None and response.id else "")

        try:
            await self.adapter.continue_conversation(self.reference, send, self.app_id)
        except Exception as exc:  # the connector's errors come in several SDK types
            first = (str(exc).splitlines() or [""])[0][:200]
            raise HandoffError(f"Teams helpdesk channel {self.conversation}: "
                               f"{type(exc).__name__} {first}".rstrip()) from None
        return f"{self.conversation};messageid={posted[0]}" if posted and posted[0] else ""

    async def aclose(self) -> None:
        return None  # the adapter's connections belong to the Teams endpoint


def handoff_activity(request: HandoffRequest) -> Any:
    """The helpdesk's card for ``request``."""
    words = WORDS[request.language]
    asker = request.asker_name or request.asker
    body = handoff_body(request, words, asker)
    links = ([{"type": "Action.OpenUrl", "title": words["thread"], "url": request.thread_link}]
             if request.thread_link else [])
    data = {"firstline": PROMOTE_MARKER, "answer_id": request.answer_id,
            "question": request.question, "language": request.language, "shown": body,
            "links": links}  # what the card shows again once promoted (Teams sends no card)
    box = {"type": "Input.Text", "id": PROMOTE_INPUT, "label": words["approve"],
           "placeholder": words["paste"], "isMultiline": True, "spacing": "Large"}
    card = card_of([*body, box], [*links, {"type": "Action.Submit", "title": words["promote"],
                                           "data": data}], f"{asker}: {request.question}")
    return card_activity(card)


def handoff_body(request: HandoffRequest, words: dict[str, str],
                 asker: str) -> list[dict[str, Any]]:
    """The card's texts: who asked, the question, the bot's answer, the facts."""
    answer = WITHHELD[request.language] if request.answer_withheld else request.answer or "-"
    subtle = {"isSubtle": True, "size": "Small"}
    body = [text_block(words["title"].format(asker=asker), weight="Bolder", size="Medium"),
            text_block(words["question"], **subtle), text_block(request.question),
            text_block(words["answer"].format(route=request.route), **subtle),
            text_block(answer)]
    facts = []
    if request.sources:
        facts.append(f"{words['sources']}: " + ", ".join(s.title or s.path
                                                           for s in request.sources))
    if request.withheld:
        facts.append(words["withheld"].format(n=request.withheld))
    facts.append(words["id"].format(id=request.answer_id))
    body.append(text_block(" · ".join(facts), **subtle))
    return body


def card_of(body: list[dict[str, Any]], actions: list[dict[str, Any]],
            fallback: str) -> dict[str, Any]:
    card: dict[str, Any] = {
        "type": "AdaptiveCard", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION, "body": body, "fallbackText": fallback}
    if actions:
        card["actions"] = actions
    return card


def card_activity(card: dict[str, Any]) -> Any:
    activity = MessageFactory.attachment(CardFactory.adaptive_card(card))
    activity.summary = card["fallbackText"]
    return activity


def text_block(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}
