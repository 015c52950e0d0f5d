"""The Teams bot: messages in, the core's replies out. No answering logic lives here."""

from __future__ import annotations

import logging

from botbuilder.core import ActivityHandler, MessageFactory, TurnContext

from adapters.teams.cards import reply_activity
from adapters.teams.convert import Feedback, feedback_from, to_question, user_id
from adapters.teams.outbound import ProactiveNotifier, keep_typing
from bot.types import Responder

log = logging.getLogger(__name__)

THANKS = {
    "en": {"up": "Thanks for the feedback 👍",
           "down": "Thanks — noted 👎. We'll use it to improve."},
    "ja": {"up": "フィードバックありがとうございます 👍",
           "down": "ありがとうございます。改善に役立てます 👎"},
}


class FirstlineTeamsBot(ActivityHandler):
    """Answers questions, runs admin commands (the core decides who may) and records votes."""

    def __init__(self, responder: Responder, app_id: str, admin_ids: tuple[str, ...]) -> None:
        super().__init__()
        self._responder = responder
        self._app_id = app_id
        self._admin_ids = admin_ids

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        feedback = feedback_from(activity.value)
        if feedback is not None:
            await self._record(turn_context, feedback)
            return
        question = to_question(activity, self._admin_ids)
        if question is None:
            log.debug("ignored a message that does not mention the bot")
            return
        notify = ProactiveNotifier.for_turn(turn_context, self._app_id)
        async with keep_typing(turn_context):
            reply = await self._responder.handle(question, notify)
        await turn_context.send_activity(reply_activity(reply, activity.channel_id))

    async def _record(self, turn_context: TurnContext, feedback: Feedback) -> None:
        user = user_id(turn_context.activity)
        await self._responder.feedback(feedback.answer_id, user, feedback.vote, feedback.reason)
        locale = (turn_context.activity.locale or "").lower()
        thanks = THANKS["ja" if locale.startswith("ja") else "en"][feedback.vote]
        await turn_context.send_activity(MessageFactory.text(thanks))
