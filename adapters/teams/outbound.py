"""Messages the bot sends outside a plain reply: the typing indicator and proactive notices."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from botbuilder.core import BotAdapter, MessageFactory, TurnContext
from botbuilder.schema import Activity, ActivityTypes, ConversationReference

from bot.background import in_background

log = logging.getLogger(__name__)

TYPING_EVERY_SECONDS = 3.0  # Teams hides the indicator a few seconds after each typing activity


@contextlib.asynccontextmanager
async def keep_typing(
    context: TurnContext, every: float = TYPING_EVERY_SECONDS
) -> AsyncIterator[None]:
    """Show "typing…" until the block ends (best effort: a failed indicator is not an error)."""

    async def send_typing() -> None:
        try:
            await context.send_activity(Activity(type=ActivityTypes.typing))
        except Exception as exc:  # the answer matters, the indicator does not
            log.debug("typing indicator failed: %s", exc)

    async def repeat() -> None:
        while True:
            await asyncio.sleep(every)
            await send_typing()

    await send_typing()  # at once: a quick answer must not outrun its indicator
    async with in_background(repeat()):
        yield


class ProactiveNotifier:
    """The core's ``Notify``: posts into a conversation after the turn that asked has ended.

    The original turn (and its HTTP request) is long gone when a reindex finishes, so this
    continues the stored conversation reference with a fresh connector and token.
    """

    def __init__(self, adapter: BotAdapter, app_id: str, reference: ConversationReference) -> None:
        self._adapter = adapter
        self._app_id = app_id
        self._reference = reference

    @classmethod
    def for_turn(cls, context: TurnContext, app_id: str) -> ProactiveNotifier:
        reference = TurnContext.get_conversation_reference(context.activity)
        return cls(context.adapter, app_id, reference)

    async def __call__(self, text: str) -> None:
        async def send(turn: TurnContext) -> None:
            await turn.send_activity(MessageFactory.text(text))

        try:
            await self._adapter.continue_conversation(self._reference, send, self._app_id)
        except Exception:
            # The command itself succeeded; losing its report must not fail it.
            log.exception("could not post a proactive message to a Teams conversation")
