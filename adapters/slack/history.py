"""A thread's earlier messages as the core's ``Turn``s (context for follow-up questions)."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.api import API_FAILURES, why
from adapters.slack.blocks import is_placeholder
from adapters.slack.text import question_text
from bot.types import Turn

log = logging.getLogger(__name__)

MAX_TURNS = 10
REPLIES_LIMIT = 200  # one page; help threads are far shorter
USER_SUBTYPES = (None, "thread_broadcast", "file_share")  # messages a person wrote


async def thread_history(client: AsyncWebClient, channel: str, thread_ts: str, current_ts: str,
                         bot_user_id: str | None, bot_id: str | None) -> tuple[Turn, ...]:
    """Turns before ``current_ts`` in the thread (none for a message that starts a thread)."""
    if thread_ts == current_ts:
        return ()
    try:
        resp = await client.conversations_replies(
            channel=channel, ts=thread_ts, limit=REPLIES_LIMIT)
    except API_FAILURES as exc:  # answer without context rather than not at all
        log.warning("could not read thread history: %s", why(exc))
        return ()
    earlier = [m for m in resp.get("messages") or () if float(m["ts"]) < float(current_ts)]
    turns = [t for m in earlier if (t := _turn(m, bot_user_id, bot_id)) is not None]
    return tuple(turns[-MAX_TURNS:])


def _turn(message: dict[str, Any], bot_user_id: str | None, bot_id: str | None) -> Turn | None:
    raw = message.get("text") or ""
    ours = (message.get("user") == bot_user_id and bot_user_id is not None) or (
        bot_id is not None and message.get("bot_id") == bot_id)
    if ours:
        return None if is_placeholder(raw) else Turn("assistant", question_text(raw, None))
    if message.get("bot_id") or message.get("subtype") not in USER_SUBTYPES:
        return None  # other bots, joins, edits
    text = question_text(raw, bot_user_id)
    return Turn("user", text) if text else None
