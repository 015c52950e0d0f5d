"""Teams questions another replica could not finish: answered proactively in their conversation.

The pending row holds the activity that asked; its conversation reference lets any replica
continue the conversation with a fresh connector token (as :class:`ProactiveNotifier` does for
reindex reports). Past the attempt limit the asker gets an apology card with "Ask again", whose
submit comes back as a message activity (:meth:`FirstlineTeamsBot.on_message_activity`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import Activity

from adapters.teams.bot import FirstlineTeamsBot
from adapters.teams.cards import retry_activity
from adapters.teams.streaming import say_last
from bot.errors import describe, not_answered
from bot.language import detect_language
from bot.ledger.pending import Pending

log = logging.getLogger(__name__)


class TeamsResumer:
    """The Teams side of :class:`bot.ledger.questions.Resumer`."""

    def __init__(self, adapter: BotAdapter, app_id: str, bot: FirstlineTeamsBot) -> None:
        self.adapter = adapter
        self.app_id = app_id
        self.bot = bot

    async def resume(self, question: Pending) -> str | None:
        activity = Activity().deserialize(question.payload["activity"])
        asked = self.bot.asked(activity, text=str(question.payload["text"]))
        if asked is None:
            return None
        asked = replace(asked, key=question.key, retry=int(question.payload.get("retry", 0)))
        answered: list[str | None] = [None]

        async def turn(context: TurnContext) -> None:
            try:
                answered[0] = await self.bot.answer(context, asked)
            except Exception as exc:
                text, _ = describe(exc, detect_language(asked.question.text))
                await say_last(context, text)

        await self._continue(activity, turn)
        return answered[0]

    async def give_up(self, question: Pending) -> None:
        activity = Activity().deserialize(question.payload["activity"])
        text = str(question.payload["text"])
        apology, label = not_answered(detect_language(text))
        number = int(question.payload.get("retry", 0)) + 1

        async def turn(context: TurnContext) -> None:
            await context.send_activity(retry_activity(apology, label, text, number))

        await self._continue(activity, turn)

    async def _continue(self, activity: Activity,
                        turn: Callable[[TurnContext], Awaitable[None]]) -> None:
        reference = TurnContext.get_conversation_reference(activity)
        await self.adapter.continue_conversation(reference, turn, self.app_id)
