"""An answer shown in its Slack thread as the core writes it (:class:`bot.types.StreamEvent`).

A ``Status`` becomes the thread's loading status (``assistant.threads.setStatus``) until text
arrives. A status after text (the router escalating a streamed local draft: "Checking with a
larger model…") is an italic line under the text: appended to the stream, or in the
``chat.update`` of a message no longer streaming. (Slack clears the loading status once the app
has replied in the thread, and a stream is a reply, so ``setStatus`` would not show then.)
Streamed text cannot be taken back, so whatever comes next — the cloud's ``Replace``, more
text, or the ``Final`` of a local answer kept when the escalation failed — stops the stream and
overwrites the message without the line.

The first text starts a streamed message (``chat.startStream``), later text is sent in batches
(``chat.appendStream``, every ``Pace.interval`` seconds or once ``Pace.chars`` wait), and the
``Final`` stops the stream with the answer's sources, route line and feedback buttons
(``chat.stopStream``). Streamed text is Markdown, which Slack renders itself.

A ``Replace`` stops the stream and overwrites the message (``chat.update``), so a rejected draft
never stays on screen; later text, and text after Slack ended the stream early
(``message_not_in_streaming_state``), is shown by ``chat.update`` too, and the ``Final`` by the
usual :meth:`SlackThread.show_reply`. Where Slack does not stream at all (method unknown or not
allowed, scope missing) the thread gets the usual placeholder replaced by the answer, and
:class:`StreamSwitch` stops trying for the rest of the process.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from slack_sdk.errors import SlackApiError

from adapters.slack.api import API_FAILURES, api_error, why
from adapters.slack.blocks import tail_blocks
from adapters.slack.thread import SlackThread
from bot.types import Final, Replace, Reply, Status, StreamEvent, TextDelta

log = logging.getLogger(__name__)

UNAVAILABLE = frozenset({"not_allowed", "unknown_method", "missing_scope",
                         "not_allowed_token_type", "feature_not_enabled"})
"""Slack's answers to ``chat.startStream`` meaning "not here": stop trying."""
ENDED = frozenset({"message_not_in_streaming_state", "message_not_found"})
"""Slack's answers meaning the stream is over (stopped, or expired)."""

Started = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class Pace:
    """How often Slack is called while text arrives (appends are Tier 4, updates Tier 3)."""

    interval: float = 0.2  # seconds between appends...
    chars: int = 200  # ...unless this much text is waiting
    update_interval: float = 1.0  # seconds between chat.update calls after a Replace


@dataclass
class StreamSwitch:
    """Whether answers are streamed: the setting, until Slack says it does not stream here."""

    enabled: bool = True
    pace: Pace = field(default_factory=Pace)

    def off(self, reason: str) -> None:
        if self.enabled:
            log.warning("Slack does not stream answers here (%s); showing each answer when it "
                        "is finished from now on", reason)
        self.enabled = False


class StreamedAnswer:
    """One answer, from the core's events to a finished Slack message."""

    def __init__(self, thread: SlackThread, switch: StreamSwitch, question: str, *,
                 recipient: tuple[str, str] | None, started: Started) -> None:
        self.thread = thread
        self.switch = switch
        self.question = question  # for the fallback placeholder's language
        self.recipient = recipient or (None, None)  # (user, team): required outside DMs
        self.started = started  # told the answer message's ts (where a takeover answers)
        self.mode = "waiting"  # then: streaming | updating | fallback | stopped
        self.ts = ""  # the streamed message
        self.shown = ""  # the answer's text so far, as the user will see it
        self.pending = ""  # text not yet sent to the stream
        self.status_shown = False  # the stream ends in a status line, which must not stay
        self.sent_at = 0.0

    async def show(self, events: AsyncIterator[StreamEvent], timeout: float) -> Reply:
        """Follow ``events`` to the end; on a failure the stream is stopped, then raised."""
        try:
            async with asyncio.timeout(timeout):
                return await self._follow(events)
        except Exception:
            await self._leave_stream()
            raise

    async def _follow(self, events: AsyncIterator[StreamEvent]) -> Reply:
        async for event in events:
            if isinstance(event, Final):
                await self._finish(event.reply)
                return event.reply
            await self._apply(event)
        raise RuntimeError("the answer's events ended without its reply")

    async def _apply(self, event: Status | TextDelta | Replace) -> None:
        if isinstance(event, Status):
            await self._status(event.text)
        elif isinstance(event, TextDelta):
            self.shown += event.text
            self.pending += event.text
            await self._show_text()
        else:
            await self._replace(event.text)

    async def _status(self, text: str) -> None:
        if self.mode == "waiting":
            await self._loading(text)
        elif self.mode == "streaming" and not self.status_shown:
            await self._append(status_line(text))
        elif self.mode in ("streaming", "updating"):  # a line already streamed cannot go
            await self._leave_stream()
            await self._update(status_line(text))
        # fallback: the placeholder says it is being looked into

    async def _loading(self, text: str) -> None:
        try:
            await self.thread.client.assistant_threads_setStatus(
                channel_id=self.thread.channel, thread_ts=self.thread.thread_ts, status=text)
        except API_FAILURES as exc:
            log.debug("could not show the status: %s", why(exc))

    async def _show_text(self) -> None:
        if self.mode == "waiting":
            await self._start()
        elif self.mode == "streaming" and self.status_shown:  # the status line goes at once
            await self._leave_stream()
            await self._update()
        elif self.mode == "streaming" and self._due(self.switch.pace.interval):
            await self._append()
        elif self.mode == "updating" and self._due(self.switch.pace.update_interval):
            await self._update()

    async def _replace(self, text: str) -> None:
        """The shown text is discarded: a stream is stopped and its message overwritten."""
        self.shown = self.pending = text
        if self.mode == "streaming":
            await self._leave_stream()
        if self.mode == "waiting":
            await self._start()
        elif self.mode == "updating":
            await self._update()

    # -- Slack calls ------------------------------------------------------------------------
    async def _start(self) -> None:
        if not self.pending:
            return
        thread = self.thread
        try:
            resp = await thread.client.chat_startStream(
                channel=thread.channel, thread_ts=thread.thread_ts, markdown_text=self.pending,
                recipient_user_id=self.recipient[0], recipient_team_id=self.recipient[1])
        except API_FAILURES as exc:
            await self._fall_back(exc)
            return
        self.mode = "streaming"
        self.ts = thread.placeholder_ts = resp["ts"]
        self._sent()
        await self.started(resp["ts"])

    async def _fall_back(self, exc: Exception) -> None:
        reason = why(exc)
        if reason in UNAVAILABLE:
            self.switch.off(reason)
        else:
            log.warning("could not start streaming the answer (%s); showing it when finished",
                        reason)
        self.mode = "fallback"
        await self.thread.show_placeholder(self.question)
        if self.thread.placeholder_ts is not None:  # where a takeover answers
            await self.started(self.thread.placeholder_ts)

    async def _append(self, status: str = "") -> None:
        thread = self.thread
        try:
            await thread.client.chat_appendStream(
                channel=thread.channel, ts=self.ts, markdown_text=self.pending + status)
        except API_FAILURES as exc:
            log.info("Slack ended the answer's stream early (%s); updating it instead", why(exc))
            await self._leave_stream()
            await self._update(status)
            return
        self.status_shown = bool(status)
        self._sent()

    async def _update(self, status: str = "") -> None:
        """The text so far (and ``status``, a line under it) by ``chat.update``."""
        try:
            await self.thread.show_text(self.shown + status)
        except API_FAILURES as exc:  # the Final's update shows it all anyway
            log.info("could not update the answer so far: %s", why(exc))
        self._sent()

    async def _finish(self, reply: Reply) -> None:
        if self.mode == "streaming" and await self._stop(reply):
            await self.thread.done()
            return
        await self.thread.show_reply(reply)  # waiting, updating, fallback, or stop refused

    async def _stop(self, reply: Reply) -> bool:
        """Stop the stream with the rest of the text and the answer's last blocks; False if
        the message must be overwritten instead."""
        if self.shown != reply.text:  # the core's promise broken: show the reply as it is
            log.warning("streamed text differs from the answer %s; replacing it", reply.answer_id)
            await self._leave_stream()
            return False
        if self.status_shown:  # a status line was streamed: overwrite, leaving the reply alone
            await self._leave_stream()
            return False
        thread, blocks = self.thread, tail_blocks(reply)
        try:
            await thread.client.chat_stopStream(
                channel=thread.channel, ts=self.ts,
                markdown_text=self.pending or None, blocks=blocks or None)
        except SlackApiError as exc:  # expired, or the blocks refused
            log.info("could not stop the stream with the answer (%s)", api_error(exc))
            await self._leave_stream()
            return False
        self.mode = "stopped"
        return True

    async def _leave_stream(self) -> None:
        """Stop a running stream without adding to it; what it showed is overwritten next."""
        if self.mode != "streaming":
            return
        self.mode, self.status_shown = "updating", False
        try:
            await self.thread.client.chat_stopStream(channel=self.thread.channel,
                                                     ts=self.ts)
        except API_FAILURES as exc:
            log.debug("stopping the stream: %s", why(exc))

    def _due(self, interval: float) -> bool:
        waited = time.monotonic() - self.sent_at
        return waited >= interval or len(self.pending) >= self.switch.pace.chars

    def _sent(self) -> None:
        self.pending, self.sent_at = "", time.monotonic()


def status_line(text: str) -> str:
    """A status shown under the answer's text (Markdown italics on a line of its own)."""
    return f"\n\n_{text.strip()}_"
