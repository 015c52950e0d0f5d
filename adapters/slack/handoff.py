"""The Slack helpdesk channel as a hand-off target (``FIRSTLINE_HANDOFF_TARGET=slack``).

Each hand-off is one message in ``FIRSTLINE_HANDOFF_SLACK_CHANNEL``: who asked (a mention for
Slack askers), the question, the bot's answer (or why it is left out), the sources by title, a
link to the asker's thread, and a "Promote reply to approved answer" button that an admin
presses once the helpdesk has replied in the message's thread. The bot must be a member of
the channel (``chat:write``; a private channel needs an invitation). The reference stored on
the ledger row is ``channel:ts`` of that message, the thread the helpdesk replies in.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.api import API_FAILURES, why
from adapters.slack.blocks import SECTION_LIMIT, Block
from adapters.slack.text import escape, to_mrkdwn
from bot.answering.handoff.texts import WITHHELD
from bot.errors import HandoffError
from bot.types import HandoffRequest

PROMOTE_ACTION = "firstline_handoff_promote"  # value: the answer id
QUESTION_BLOCK = "firstline_handoff_question"  # its text is the (redacted) question, escaped
HINTS = {"not_in_channel": " (invite the bot to the channel)",
         "channel_not_found": " (check FIRSTLINE_HANDOFF_SLACK_CHANNEL; invite the bot to a "
                              "private channel)",
         "is_archived": " (the channel is archived: set FIRSTLINE_HANDOFF_SLACK_CHANNEL)"}
WORDS = {
    "en": {"title": "Question handed off by {asker}", "question": "Question",
           "answer": "The bot's answer ({route})", "sources": "Sources",
           "withheld": "{n} restricted source(s) not named", "thread": "Open the asker's thread",
           "promote": "Promote reply to approved answer", "id": "answer {id}"},
    "ja": {"title": "{asker} さんからの引き継ぎ", "question": "質問",
           "answer": "ボットの回答({route})", "sources": "参照",
           "withheld": "閲覧制限のある文書 {n} 件は非表示", "thread": "質問者のスレッドを開く",
           "promote": "返信を承認済み回答にする", "id": "回答 {id}"},
}


class SlackHandoffTarget:
    """Posts hand-offs to one Slack channel with the app's Web API client."""

    def __init__(self, client: AsyncWebClient, channel: str) -> None:
        self.client = client
        self.channel = channel
        self.name = f"slack:{channel}"

    async def post(self, request: HandoffRequest) -> str:
        try:
            posted = await self.client.chat_postMessage(
                channel=self.channel, text=fallback(request), blocks=handoff_blocks(request),
                unfurl_links=False)
        except API_FAILURES as exc:
            code = why(exc)
            raise HandoffError(f"Slack helpdesk channel {self.channel}: {code}"
                               f"{HINTS.get(code, '')}") from None
        return f"{self.channel}:{posted['ts']}"

    async def aclose(self) -> None:
        return None  # the client's session belongs to the Slack app


def fallback(request: HandoffRequest) -> str:
    return f"Question handed off: {request.question[:200]}"


def handoff_blocks(request: HandoffRequest) -> list[Block]:
    """The helpdesk's message for ``request``."""
    words = WORDS[request.language]
    answer = (WITHHELD[request.language] if request.answer_withheld
              else to_mrkdwn(request.answer) or "-")
    return [
        _section(f"*{words['title'].format(asker=_asker(request))}*"),
        _context(f"*{words['question']}*"),
        {**_section(escape(request.question)[:SECTION_LIMIT]), "block_id": QUESTION_BLOCK},
        _context(f"*{words['answer'].format(route=request.route)}*"),
        _section(answer[:SECTION_LIMIT]),
        _context(" · ".join(_facts(request, words))),
        {"type": "actions", "block_id": "firstline_handoff_promote", "elements": [{
            "type": "button", "action_id": PROMOTE_ACTION, "value": request.answer_id,
            "text": {"type": "plain_text", "text": words["promote"]}}]},
    ]


def question_of(message: dict[str, Any]) -> str:
    """The question a hand-off message carries (the text of its question block)."""
    for block in message.get("blocks") or ():
        if block.get("block_id") == QUESTION_BLOCK:
            text = str((block.get("text") or {}).get("text") or "")
            return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return ""


def _asker(request: HandoffRequest) -> str:
    if request.channel == "slack" and request.asker.startswith(("U", "W")):
        return f"<@{request.asker}>"
    return escape(request.asker_name or request.asker)


def _facts(request: HandoffRequest, words: dict[str, str]) -> list[str]:
    facts = []
    if request.sources:
        titles = ", ".join(escape(s.title or s.path) for s in request.sources)
        facts.append(f"{words['sources']}: {titles}")
    if request.withheld:
        facts.append(words["withheld"].format(n=request.withheld))
    if request.thread_link:
        link = escape(request.thread_link).replace("|", "%7C")
        facts.append(f"<{link}|{words['thread']}>")
    facts.append(words["id"].format(id=request.answer_id))
    return facts


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}
