"""A :class:`~bot.types.Reply` as Block Kit: pure functions, no I/O.

An answer is its text (a ``markdown`` block: Slack renders the Markdown), the sources it cites
(links, or file names for documents without a URL), a small context line with the route, and
Slack's 👍 / 👎 feedback buttons (a ``feedback_buttons`` element in a ``context_actions`` block)
carrying the vote and answer id.
"""

from __future__ import annotations

import json
from pathlib import PurePath
from typing import Any

from adapters.slack.text import escape, looks_japanese, to_mrkdwn
from bot.answering.handoff.texts import BUTTON as HANDOFF_LABEL
from bot.types import Reply, Route, Source

Block = dict[str, Any]

FEEDBACK_ACTION = "firstline_feedback"  # the feedback buttons; values "up:ID" / "down:ID"
VOTE_ACTION = "firstline_vote"  # older answers' buttons: firstline_vote_up / _down, value ID
REASON_VIEW = "firstline_vote_reason"
RETRY_ACTION = "firstline_retry"
HANDOFF_ACTION = "firstline_handoff"  # "Ask a person"; value: answer id [|answer ts|thread ts]
HANDOFF_OFFERED = "firstline_feedback_handoff_"  # feedback block id: a 👎 offers a person
REASON_BLOCK, REASON_INPUT = "reason", "reason_input"
SECTION_LIMIT = 3000  # Slack's limit for a section's text
MARKDOWN_LIMIT = 12_000  # Slack's limit for the text of the markdown blocks in one message
FALLBACK_LIMIT = 3900  # notification text; Slack truncates long text anyway

ROUTE_LABELS = {
    Route.LOCAL: ("Answered on-prem", "オンプレミスで回答"),
    Route.CLOUD: ("Answered in the cloud", "クラウドで回答"),
    Route.CACHE: ("Cached answer", "キャッシュから回答"),
    Route.APPROVED: ("Approved answer", "承認済みの回答"),
    Route.LOCAL_FALLBACK: ("Answered on-prem (cloud unavailable)",
                           "オンプレミスで回答(クラウド利用不可)"),
}
NO_FEEDBACK = {Route.COMMAND, Route.FAILED}

PLACEHOLDER = {"en": "_Looking into it…_", "ja": "_確認しています…_"}


def placeholder_text(question: str) -> str:
    """The message shown while the answer is being produced (updated in place later)."""
    return PLACEHOLDER["ja" if looks_japanese(question) else "en"]


def is_placeholder(text: str) -> bool:
    return text in PLACEHOLDER.values()


def reply_blocks(reply: Reply) -> list[Block]:
    """The whole answer message."""
    return text_blocks(reply.text) + tail_blocks(reply)


def tail_blocks(reply: Reply) -> list[Block]:
    """What follows the answer's text: its sources, the route line, the feedback buttons (the
    blocks a streamed answer ends with)."""
    blocks: list[Block] = []
    sources = shown_sources(reply)
    if sources:
        blocks.append(_sources_block(reply, sources))
    context = context_line(reply)
    if context:
        blocks.append({"type": "context", "elements": [_mrkdwn(context)]})
    if reply.handoff == "now":
        blocks.append(handoff_block(reply.answer_id, reply.language))
    if reply.route not in NO_FEEDBACK:
        blocks.append(feedback_buttons(reply.answer_id, reply.language,
                                       handoff=reply.handoff == "after-down"))
    return blocks


def fallback_text(reply: Reply) -> str:
    """The ``text`` sent alongside blocks (notifications, screen readers, thread history): mrkdwn,
    which is what Slack reads a message's ``text`` as."""
    return to_mrkdwn(reply.text)[:FALLBACK_LIMIT]


def shown_sources(reply: Reply) -> list[tuple[int, Source]]:
    """(citation number, source) pairs to list: the cited ones, else none for uncovered answers.

    Numbers are positions in ``reply.sources``, the same numbers the answer cites as [n].
    """
    if not reply.covered or reply.route in NO_FEEDBACK:
        return []
    numbered = list(enumerate(reply.sources, start=1))
    cited = [(n, s) for n, s in numbered if s.path in reply.cited]
    return cited or numbered[:3]


def source_label(source: Source) -> str:
    name = PurePath(source.path).name or source.path
    title = source.title.strip()
    if source.url:  # escaped like Slack's own message text; a "|" would end the URL
        return f"<{escape(source.url).replace('|', '%7C')}|{escape(title or name)}>"
    shown = f"`{escape(name)}`"
    return f"{shown} — {escape(title)}" if title and title != name else shown


def context_line(reply: Reply) -> str:
    parts: list[str] = []
    labels = ROUTE_LABELS.get(reply.route)
    if labels:
        parts.append(labels[1] if reply.language == "ja" else labels[0])
    if reply.notice:
        parts.append(escape(reply.notice))
    if reply.error and reply.error not in reply.text:
        parts.append(f"reference `{reply.error}`")
    return " · ".join(parts)


def feedback_buttons(answer_id: str, language: str = "en", handoff: bool = False) -> Block:
    """Slack's feedback buttons for ``answer_id`` (screen readers get the words); ``handoff``:
    a 👎 offers "Ask a person" (the block id says so)."""
    ja = language == "ja"
    up, down = ("役に立った", "役に立たなかった") if ja else ("Helpful", "Not helpful")
    block_id = f"{HANDOFF_OFFERED if handoff else 'firstline_feedback_'}{answer_id}"
    return {"type": "context_actions", "block_id": block_id,
            "elements": [{
                "type": "feedback_buttons", "action_id": FEEDBACK_ACTION,
                "positive_button": {"text": _plain("👍"), "accessibility_label": up,
                                    "value": f"up:{answer_id}"},
                "negative_button": {"text": _plain("👎"), "accessibility_label": down,
                                    "value": f"down:{answer_id}"}}]}


def handoff_block(answer_id: str, language: str = "en", where: str = "") -> Block:
    """The "Ask a person" button; ``where`` (``|answer ts|thread ts``) for a button outside the
    answer message (an ephemeral follow-up, whose click does not carry the message)."""
    label = HANDOFF_LABEL["ja" if language == "ja" else "en"]
    return {"type": "actions", "block_id": f"firstline_handoff_{answer_id}",
            "elements": [_button(label, HANDOFF_ACTION, answer_id + where)]}


def retry_blocks(text: str, label: str, value: str) -> list[Block]:
    """An apology with a button that asks the question again (``value``: what to ask)."""
    return [*text_blocks(text), {"type": "actions", "block_id": "firstline_retry", "elements": [
        {**_button(label, RETRY_ACTION, value), "style": "primary"}]}]


def text_blocks(text: str) -> list[Block]:
    """Markdown text (an answer, a notice) as a ``markdown`` block: Slack renders the Markdown
    itself, as in a streamed answer (messages only, not modals or App Home; at most
    :data:`MARKDOWN_LIMIT` characters, longer text is cut with an ellipsis)."""
    text = text.strip()
    if len(text) > MARKDOWN_LIMIT:
        text = text[: MARKDOWN_LIMIT - 1] + "…"
    return [{"type": "markdown", "text": text}] if text else []


def reason_view(answer_id: str, channel: str, thread_ts: str, language: str = "en") -> Block:
    """The modal a 👎 opens, asking (optionally) what was wrong."""
    ja = language == "ja"
    meta = json.dumps({"answer_id": answer_id, "channel": channel, "thread_ts": thread_ts})
    return {
        "type": "modal", "callback_id": REASON_VIEW, "private_metadata": meta,
        "title": _plain("フィードバック" if ja else "Feedback"),
        "submit": _plain("送信" if ja else "Send"),
        "close": _plain("スキップ" if ja else "Skip"),
        "blocks": [{
            "type": "input", "block_id": REASON_BLOCK, "optional": True,
            "label": _plain("何が問題でしたか?" if ja else "What was wrong with the answer?"),
            "element": {"type": "plain_text_input", "action_id": REASON_INPUT,
                        "multiline": True, "max_length": 500},
        }],
    }


def _sources_block(reply: Reply, sources: list[tuple[int, Source]]) -> Block:
    heading = "*参照:*" if reply.language == "ja" else "*Sources:*"
    lines = [f"[{n}] {source_label(s)}" for n, s in sources]
    return {"type": "context", "elements": [_mrkdwn(heading + "  " + "   ".join(lines))]}


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def _button(text: str, action_id: str, value: str) -> Block:
    return {"type": "button", "text": _plain(text), "action_id": action_id, "value": value}
