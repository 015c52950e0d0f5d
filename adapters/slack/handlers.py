"""Questions and commands: app mentions, direct messages, thread follow-ups, ``/firstline``.

Bolt acks every event before these run (``process_before_response=False``); the answer comes
later, in the thread — streamed as the core writes it (:mod:`adapters.slack.streaming`) where
the core streams and Slack allows it, else in place of a placeholder. Anything raised here
goes to the app's one error hook, which finds the thread through ``context[THREAD_KEY]``.

A question is claimed in the ledger's inbox (:class:`~bot.ledger.questions.Questions`) under
``channel:ts`` with what is needed to answer it without Slack's event (the *asked* payload), and
finished once its answer is shown; if this replica dies in between, another one's sweep answers
it through :mod:`adapters.slack.resume`, and a redelivery of the event after the claim's lease
expired is answered instead of dropped.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import Any

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.admins import AdminCheck
from adapters.slack.blocks import fallback_text, reply_blocks
from adapters.slack.groups import Identity
from adapters.slack.history import USER_SUBTYPES, thread_history
from adapters.slack.hook import LANGUAGE_KEY, THREAD_KEY, guarded
from adapters.slack.memory import SeenRecently
from adapters.slack.streaming import StreamedAnswer, StreamSwitch
from adapters.slack.text import escape, looks_japanese, mentions, question_text
from adapters.slack.thread import AnchoredNotify, SlackThread
from bot.ledger.questions import Questions
from bot.types import Notify, Question, Reply, Responder, StreamingResponder

log = logging.getLogger(__name__)

COMMAND = "/firstline"
ANSWER_TIMEOUT = 600.0  # seconds; generous because questions queue for one local model


class SlackHandlers:
    """Turns Slack events and commands into :class:`Question`s for the responder."""

    def __init__(self, responder: Responder, admins: AdminCheck, questions: Questions,
                 answer_timeout: float = ANSWER_TIMEOUT, identity: Identity | None = None,
                 streaming: StreamSwitch | None = None) -> None:
        self.responder = responder
        self.streaming = streaming or StreamSwitch()
        self.admins = admins
        self.identity = identity or Identity()
        self.questions = questions
        self.answer_timeout = answer_timeout
        self.threads = SeenRecently(ttl=7 * 24 * 3600.0)  # threads we answered in

    def register(self, app: AsyncApp) -> None:
        app.event("app_mention")(self.on_mention)
        app.event("message")(self.on_message)
        app.command(COMMAND)(self.on_command)

    async def on_mention(self, event: dict[str, Any], body: dict[str, Any],
                         context: AsyncBoltContext, client: AsyncWebClient,
                         request: AsyncBoltRequest) -> None:
        if _by_person(event) and not event["channel"].startswith("D"):  # DMs: on_message
            await self._answer(event, body, context, client, request)

    async def on_message(self, event: dict[str, Any], body: dict[str, Any],
                         context: AsyncBoltContext, client: AsyncWebClient,
                         request: AsyncBoltRequest) -> None:
        if not _by_person(event):
            return
        if event.get("channel_type") == "im" or self._follow_up(event, context):
            await self._answer(event, body, context, client, request)

    async def on_command(self, ack: AsyncAck, command: dict[str, Any], body: dict[str, Any],
                         client: AsyncWebClient, context: AsyncBoltContext,
                         respond: AsyncRespond) -> None:
        await ack()
        await guarded(self._command(command, client, context, respond), body, context, respond)

    async def _command(self, command: dict[str, Any], client: AsyncWebClient,
                       context: AsyncBoltContext, respond: AsyncRespond) -> None:
        text = " ".join((command.get("text") or "").split()) or "help"
        user, channel = command["user_id"], command["channel_id"]
        context[LANGUAGE_KEY] = "ja" if looks_japanese(text) else "en"
        heading = f"`{COMMAND} {escape(text)}` — requested by <@{user}>"
        # the reply is ephemeral (the asker alone sees it), as private as a direct message
        is_admin, groups, email = await asyncio.gather(
            self.admins(client, user), self.identity.groups_of(client, user),
            self.identity.email_of(client, user))
        question = Question(text=text, user=user, conversation=f"{channel}:{COMMAND}",
                            channel="slack", is_admin=is_admin, where="dm", groups=groups,
                            email=email)
        reply = await self._ask(question, AnchoredNotify(client, channel, user, heading))
        # an ephemeral reply cannot be read back, so it cannot be handed off: no button
        reply = replace(reply, handoff="")
        await respond(text=fallback_text(reply), blocks=reply_blocks(reply),
                      response_type="ephemeral", replace_original=False)

    # -- answering ------------------------------------------------------------------------
    async def _answer(self, event: dict[str, Any], body: dict[str, Any],
                      context: AsyncBoltContext, client: AsyncWebClient,
                      request: AsyncBoltRequest) -> None:
        asked = _asked(event, context)
        key = f"{asked['channel']}:{asked['ts']}"
        claimed = await self._claim(key, asked, body, request)
        if claimed is None:
            return
        asked = claimed  # a takeover's stored payload: the dead replica's placeholder too
        thread = _thread(client, asked)
        context[THREAD_KEY] = thread
        context[LANGUAGE_KEY] = "ja" if looks_japanese(asked["text"]) else "en"
        self.threads.add(f"{thread.channel}:{thread.thread_ts}")
        await self.answer(key, asked, thread)

    async def answer(self, key: str, asked: dict[str, Any], thread: SlackThread) -> str:
        """Answer the claimed question ``key`` in ``thread`` and finish it; returns the answer
        id. A failure finishes it too (the caller shows the apology) and is raised."""
        try:
            async with self.questions.leased(key):
                streamer = self._streamer(thread)
                question = await self._working(key, asked, thread, streamer is None)
                if streamer is None:
                    reply = await self._ask(question, thread.notify)
                    await thread.show_reply(reply)
                else:
                    reply = await self._stream(key, asked, question, thread, streamer)
        except Exception:  # not on cancellation: a stopping replica leaves it to the others
            await self.questions.finish(key, None)
            raise
        await self.questions.finish(key, reply.answer_id)
        return reply.answer_id

    def _streamer(self, thread: SlackThread) -> StreamingResponder | None:
        """The core to stream from, where answers are streamed: not into a placeholder that
        another replica (or an apology) left, which the answer replaces instead."""
        if not self.streaming.enabled or thread.placeholder_ts is not None:
            return None
        return self.responder if hasattr(self.responder, "stream") else None  # type: ignore[return-value]

    async def _stream(self, key: str, asked: dict[str, Any], question: Question,
                      thread: SlackThread, streamer: StreamingResponder) -> Reply:
        async def started(ts: str) -> None:  # a takeover answers in the streamed message
            await self.questions.update(key, {**asked, "placeholder_ts": ts})

        answer = StreamedAnswer(thread, self.streaming, asked["text"],
                                recipient=_recipient(asked), started=started)
        return await answer.show(streamer.stream(question, thread.notify), self.answer_timeout)

    async def _working(self, key: str, asked: dict[str, Any], thread: SlackThread,
                       placeholder: bool = True) -> Question:
        """The signs of work (unless a placeholder is shown already), and the question."""
        if thread.placeholder_ts is not None:
            return await self._question(asked, thread)
        _, question = await asyncio.gather(thread.show_working(asked["text"], placeholder),
                                           self._question(asked, thread))
        if thread.placeholder_ts is not None:  # where a takeover puts the answer
            await self.questions.update(key, {**asked, "placeholder_ts": thread.placeholder_ts})
        return question

    async def _question(self, asked: dict[str, Any], thread: SlackThread) -> Question:
        user, client = asked["user"], thread.client
        history, is_admin, groups, email = await asyncio.gather(
            thread_history(client, thread.channel, thread.thread_ts, asked["ts"],
                           asked.get("bot_user_id"), asked.get("bot_id")),
            self.admins(client, user), self.identity.groups_of(client, user),
            self.identity.email_of(client, user))
        return Question(text=asked["text"], user=user, channel="slack", is_admin=is_admin,
                        conversation=f"{thread.channel}:{thread.thread_ts}", history=history,
                        where=asked["where"], groups=groups, email=email)

    async def _ask(self, question: Question, notify: Notify) -> Reply:
        return await asyncio.wait_for(self.responder.handle(question, notify),
                                      self.answer_timeout)

    # -- which events ---------------------------------------------------------------------
    def _follow_up(self, event: dict[str, Any], context: AsyncBoltContext) -> bool:
        """A reply in a thread we answered in, not mentioning us (mentions come as app_mention)."""
        thread_ts = event.get("thread_ts")
        if not thread_ts or thread_ts == event["ts"]:
            return False
        if mentions(event.get("text") or "", context.bot_user_id):
            return False
        return f"{event['channel']}:{thread_ts}" in self.threads

    async def _claim(self, key: str, asked: dict[str, Any], body: dict[str, Any],
                     request: AsyncBoltRequest) -> dict[str, Any] | None:
        """The question once per message, however often and under whichever event Slack
        delivers it — and again for a redelivery once the claim's holder stopped renewing its
        lease (then as that holder stored it). None: not ours to answer."""
        claimed = await self.questions.claim(key, asked)
        if claimed is None:
            log.info("already handled %s (event %s, retry #%s); not answering again", key,
                     body.get("event_id"), _header(request, "x-slack-retry-num") or 0)
        return claimed


def _thread(client: AsyncWebClient, asked: dict[str, Any]) -> SlackThread:
    """A new question's thread, or a taken-over one's (with the placeholder it left)."""
    if "placeholder_ts" in asked:
        return SlackThread.resumed(client, asked)
    return SlackThread(client, asked["channel"], asked["thread_ts"], asked["ts"])


def _asked(event: dict[str, Any], context: AsyncBoltContext) -> dict[str, Any]:
    """What answering needs, without the event: the pending row's payload."""
    channel, ts = event["channel"], event["ts"]
    return {"channel": channel, "ts": ts, "thread_ts": event.get("thread_ts") or ts,
            "user": event["user"], "text": question_text(event.get("text") or "",
                                                         context.bot_user_id),
            "where": "dm" if event.get("channel_type") == "im" else "channel",
            "bot_user_id": context.bot_user_id, "bot_id": context.bot_id,
            "team": context.team_id or ""}


def _recipient(asked: dict[str, Any]) -> tuple[str, str] | None:
    """Who a streamed answer is for (user, team): Slack needs it outside direct messages."""
    if asked["where"] == "dm" or not asked.get("team"):
        return None
    return asked["user"], asked["team"]


def _by_person(event: dict[str, Any]) -> bool:
    """Not a bot (ourselves included), not an edit or join, and has an author."""
    return (not event.get("bot_id") and event.get("subtype") in USER_SUBTYPES
            and bool(event.get("user")) and bool(event.get("ts")))


def _header(request: AsyncBoltRequest, name: str) -> str | None:
    values = request.headers.get(name)
    return values[0] if values else None
