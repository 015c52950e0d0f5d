"""The adapter's one error hook, and the guard that routes listener failures to it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.errors import UserFacingError, describe

log = logging.getLogger(__name__)

THREAD_KEY = "firstline_thread"  # context key: the SlackThread an apology replaces
LANGUAGE_KEY = "firstline_language"


async def on_error(error: Exception, body: dict[str, Any], context: AsyncBoltContext,
                   respond: AsyncRespond | None = None) -> None:
    """Log under a reference id (with the traceback) and show the user a short apology."""
    text, reference = describe(error, context.get(LANGUAGE_KEY) or "en")
    if isinstance(error, UserFacingError):
        log.info("user-facing error %s: %s", reference, error)
    try:
        thread = context.get(THREAD_KEY)
        if thread is not None:
            await thread.say(text)
        elif respond is not None and context.response_url:
            await respond(text=text, response_type="ephemeral", replace_original=False)
        else:
            log.warning("no conversation to show error %s in (%s)", reference, body.get("type"))
    except Exception:
        log.exception("could not show error %s to the user", reference)


async def guarded(work: Awaitable[None], body: dict[str, Any], context: AsyncBoltContext,
                  respond: AsyncRespond | None = None) -> None:
    """Run a listener's work after its own ``ack()``, handing failures to :func:`on_error`.

    Needed for commands and actions: when such a listener fails right after ``ack()``, before
    bolt has polled the ack, bolt's asyncio runner drops the ack and answers Slack 404 after
    3 s ("didn't call ack()"). Events are acked by bolt itself and may raise freely.
    """
    try:
        await work
    except Exception as exc:
        await on_error(exc, body, context, respond)
