"""The Teams bot: messages in, the core's replies out. No answering logic lives here.

A question is claimed in the ledger's inbox under ``teams:<conversation>:<activity id>`` with
the activity itself (from which the conversation reference for a proactive answer is made), and
finished once its answer is sent; a replica that dies in between leaves it to another one's
sweep (:mod:`adapters.teams.resume`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from botbuilder.core import ActivityHandler, MessageFactory, TurnContext
from botbuilder.schema import Activity

from adapters.teams.cards import reply_activity
from adapters.teams.convert import (
    Feedback,
    Retry,
    feedback_from,
    retry_from,
    to_question,
    user_id,
)
from adapters.teams.outbound import ProactiveNotifier, keep_typing
from bot.ledger.memory import MemoryLedger
from bot.ledger.questions import Questions
from bot.types import Question, Responder

log = logging.getLogger(__name__)

THANKS = {
    "en": {"up": "Thanks for the feedback 👍",
           "down": "Thanks — noted 👎. We'll use it to improve."},
    "ja": {"up": "フィードバックありがとうございます 👍",
           "down": "ありがとうございます。改善に役立てます 👎"},
}


@dataclass(frozen=True)
class Asked:
    """A claimed question: its inbox key, the activity that asked it, and its text."""

    key: str
    activity: Activity
    question: Question
    retry: int = 0  # which "Ask again" this is

    @property
    def payload(self) -> dict[str, Any]:
        return {"activity": self.activity.serialize(), "text": self.question.text,
                "retry": self.retry}


class FirstlineTeamsBot(ActivityHandler):
    """Answers questions, runs admin commands (the core decides who may) and records votes."""

    def __init__(self, responder: Responder, app_id: str, admin_ids: tuple[str, ...],
                 questions: Questions | None = None) -> None:
        super().__init__()
        self._responder = responder
        self._app_id = app_id
        self._admin_ids = admin_ids
        self.questions = questions or Questions(MemoryLedger(), "teams")

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        feedback = feedback_from(activity.value)
        if feedback is not None:
            await self._record(turn_context, feedback)
            return
        asked = self.asked(activity, retry_from(activity.value))
        if asked is None:
            log.debug("ignored a message that does not mention the bot")
            return
        if await self.questions.claim(asked.key, asked.payload) is None:
            log.info("already handled %s; not answering again", asked.key)
            return
        await self.answer(turn_context, asked)

    def asked(self, activity: Activity, retry: Retry | None = None,
              text: str | None = None) -> Asked | None:
        """The question ``activity`` asks (or its "Ask again" submit, or ``text``), keyed."""
        question = to_question(activity, self._admin_ids, retry.text if retry else text)
        if question is None:
            return None
        conversation = activity.conversation.id if activity.conversation else ""
        key = f"teams:{conversation}:{activity.id}"
        if retry is None:
            return Asked(key, activity, question)
        # one answer per apology card, however often it is clicked
        key = f"teams:{conversation}:{activity.reply_to_id or activity.id}:retry{retry.number}"
        return Asked(key, activity, question, retry.number)

    async def answer(self, turn_context: TurnContext, asked: Asked) -> str:
        """Answer the claimed question in ``turn_context`` and finish it (also on failure)."""
        reference = TurnContext.get_conversation_reference(asked.activity)
        notify = ProactiveNotifier(turn_context.adapter, self._app_id, reference)
        try:
            async with self.questions.leased(asked.key), keep_typing(turn_context):
                reply = await self._responder.handle(asked.question, notify)
            await turn_context.send_activity(reply_activity(reply, asked.activity.channel_id))
        except Exception:
            await self.questions.finish(asked.key, None)
            raise
        await self.questions.finish(asked.key, reply.answer_id)
        return reply.answer_id

    async def _record(self, turn_context: TurnContext, feedback: Feedback) -> None:
        user = user_id(turn_context.activity)
        await self._responder.feedback(feedback.answer_id, user, feedback.vote, feedback.reason)
        locale = (turn_context.activity.locale or "").lower()
        thanks = THANKS["ja" if locale.startswith("ja") else "en"][feedback.vote]
        await turn_context.send_activity(MessageFactory.text(thanks))
