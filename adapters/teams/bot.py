"""The Teams bot: messages in, the core's replies out. No answering logic lives here.

A question is claimed in the ledger's inbox under ``teams:<conversation>:<activity id>`` with
the activity itself (from which the conversation reference for a proactive answer is made), and
finished once its answer is sent; a replica that dies in between leaves it to another one's
sweep (:mod:`adapters.teams.resume`).

In 1:1 chats the answer streams as the core writes it (:mod:`adapters.teams.streaming`);
elsewhere it is sent finished. Teams' own feedback buttons arrive as a ``message/submitAction``
invoke naming the message; the message id → answer id map is kept on the ledger
(:meth:`bot.ledger.questions.Questions.remember_reply`), so a vote reaches the right answer row
after a restart or through another replica.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import quote

from botbuilder.core import ActivityHandler, InvokeResponse, MessageFactory, TurnContext
from botbuilder.schema import Activity

from adapters.teams.cards import handoff_data, handoff_offer_activity, reply_activity
from adapters.teams.convert import (
    Feedback,
    HandoffClick,
    Retry,
    feedback_from,
    handoff_from,
    is_personal,
    retry_from,
    to_question,
    user_id,
)
from adapters.teams.entities import native_feedback
from adapters.teams.outbound import ProactiveNotifier, keep_typing
from adapters.teams.promote import TeamsPromotions, promote_from
from adapters.teams.streaming import TeamsStream, can_stream
from bot.ledger.memory import MemoryLedger
from bot.ledger.questions import Questions
from bot.types import (
    Final,
    HandoffAsk,
    Language,
    Notify,
    Question,
    Reply,
    Responder,
    StreamEvent,
    StreamingResponder,
)

log = logging.getLogger(__name__)

OFFER = {"en": "Thanks — noted 👎. If you like, a person can look at your question.",
         "ja": "ありがとうございます 👎。担当者に確認してもらうこともできます。"}
THANKS = {
    "en": {"up": "Thanks for the feedback 👍",
           "down": "Thanks — noted 👎. We'll use it to improve."},
    "ja": {"up": "フィードバックありがとうございます 👍",
           "down": "ありがとうございます。改善に役立てます 👎"},
}


class OfferedHandoffs:
    """The "Ask a person" each answer's 👎 offers (the question and answer text, which the ledger
    does not keep), in this process for the last :data:`KEEP` answers: a 👎 after a restart is
    stored but offers no hand-off."""

    KEEP = 10_000

    def __init__(self) -> None:
        self._offers: OrderedDict[str, HandoffClick] = OrderedDict()

    def remember(self, answer_id: str, offer: HandoffClick | None) -> None:
        if answer_id and offer is not None:
            self._offers[answer_id] = offer
            while len(self._offers) > self.KEEP:
                self._offers.popitem(last=False)

    def get(self, answer_id: str) -> HandoffClick | None:
        return self._offers.get(answer_id)


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
        self.offers = OfferedHandoffs()
        self.promotions = TeamsPromotions(responder, admin_ids)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        feedback = feedback_from(activity.value)
        if feedback is not None:
            await self._record(turn_context, feedback)
            return
        click = handoff_from(activity.value)
        if click is not None:
            await self._hand_off(turn_context, click)
            return
        promotion = promote_from(activity.value)
        if promotion is not None:
            await self.promotions(turn_context, promotion)
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
            async with self.questions.leased(asked.key):
                reply, message_id = await self._reply(turn_context, asked, notify)
        except Exception:
            await self.questions.finish(asked.key, None)
            raise
        await self.questions.remember_reply(message_id, reply.answer_id)
        if reply.handoff == "after-down":
            self.offers.remember(reply.answer_id,
                                 HandoffClick(reply.answer_id, asked.question.text, reply.text))
        await self.questions.finish(asked.key, reply.answer_id)
        return reply.answer_id

    async def _reply(self, turn_context: TurnContext, asked: Asked,
                     notify: Notify) -> tuple[Reply, str | None]:
        """The answer, streamed in 1:1 chats when the core can stream; its message's id."""
        channel = asked.activity.channel_id
        streaming = _streaming(self._responder)
        if streaming is not None and can_stream(asked.activity):
            stream = TeamsStream(turn_context)
            reply = await self._streamed(stream, streaming.stream(asked.question, notify))
            final = reply_activity(reply, channel, streamed=stream.stream_id is not None,
                                   question=asked.question.text)
            return reply, await stream.finish(final)
        async with keep_typing(turn_context):
            reply = await self._responder.handle(asked.question, notify)
        response = await turn_context.send_activity(
            reply_activity(reply, channel, question=asked.question.text))
        return reply, response.id if response is not None else None

    @staticmethod
    async def _streamed(stream: TeamsStream, events: AsyncIterator[StreamEvent]) -> Reply:
        async for event in events:
            if isinstance(event, Final):
                return event.reply
            await stream.show(event)
        raise RuntimeError("the answer stream ended without its final reply")

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        """Teams' own feedback buttons (``message/submitAction``); other invokes: 501."""
        activity = turn_context.activity
        vote = native_feedback(activity.value) if activity.name == "message/submitAction" else None
        if vote is None:
            return await super().on_invoke_activity(turn_context)
        answer_id = await self.questions.reply_answer(activity.reply_to_id)
        if answer_id is None:
            log.info("feedback on a message the ledger does not know (too old?); not stored")
        else:
            await self._responder.feedback(answer_id, user_id(activity), *vote)
            offer = self.offers.get(answer_id) if vote[0] == "down" else None
            if offer is not None:
                await self._offer_person(turn_context, offer)
        return InvokeResponse(status=200, body={})  # Teams wants an empty answer

    async def _record(self, turn_context: TurnContext, feedback: Feedback) -> None:
        user = user_id(turn_context.activity)
        await self._responder.feedback(feedback.answer_id, user, feedback.vote, feedback.reason)
        if feedback.vote == "down" and feedback.offer is not None:
            await self._offer_person(turn_context, feedback.offer)
            return
        thanks = THANKS[_language(turn_context.activity)][feedback.vote]
        await turn_context.send_activity(MessageFactory.text(thanks))

    async def _offer_person(self, turn_context: TurnContext, offer: HandoffClick) -> None:
        language = _language(turn_context.activity)
        data = handoff_data(offer.answer_id, offer.question, offer.answer)
        await turn_context.send_activity(handoff_offer_activity(OFFER[language], language, data))

    async def _hand_off(self, turn_context: TurnContext, click: HandoffClick) -> None:
        """"Ask a person": the core hands off; the asker is told what became of it."""
        activity = turn_context.activity
        sender = activity.from_property
        result = await self._responder.handoff(HandoffAsk(
            click.answer_id, click.question, click.answer, asker=user_id(activity),
            asker_name=str(getattr(sender, "name", "") or ""), channel="teams",
            thread_link=_deep_link(activity), language=_language(activity)))
        await turn_context.send_activity(MessageFactory.text(result.text))


def _language(activity: Activity) -> Language:
    return "ja" if (activity.locale or "").lower().startswith("ja") else "en"


def _deep_link(activity: Activity) -> str:
    """A link to the answer in Teams (best effort: Teams' message deep link), "" without one."""
    conversation = activity.conversation.id if activity.conversation else ""
    message = activity.reply_to_id or ""
    if not conversation or not message or is_personal(activity):
        return ""  # a bot's 1:1 chat id is not the chat id a deep link needs
    thread = conversation.split(";", 1)[0]
    return f"https://teams.microsoft.com/l/message/{quote(thread)}/{quote(message)}"


def _streaming(responder: Responder) -> StreamingResponder | None:
    """``responder`` if it can stream (the Protocol is not runtime-checkable)."""
    return cast(StreamingResponder, responder) if callable(
        getattr(responder, "stream", None)) else None
