"""An answer streamed into a Teams 1:1 chat, by Teams' protocol ("Stream bot messages").

The core's :class:`Status` becomes an informative update (the blue progress line), its text
(:class:`TextDelta`, :class:`Replace`) becomes ``typing`` chunks carrying the whole text so far,
at most one per :data:`CHUNK_EVERY_SECONDS` (Teams throttles faster streams), and the finished
answer the ``message`` that ends the stream. Each activity is sent only after the previous one
was accepted, as Teams asks.

Teams only lets a chunk extend what was streamed: a :class:`Replace` whose text does not
begin with it (a rejected draft, the cloud's answer taking over) stops the chunks, and the
final message, which replaces the streamed text, shows the answer. Teams takes informative
updates only before the first chunk, so a status once text has streamed (the router escalating
a draft: "Checking with a larger model…") is the stream's last chunk, the text so far with the
status under it; what follows comes in the final message. A status while the first text is
still held back by the pace drops that text and is an informative update. A stream Teams refuses
(or one that fails midway) is dropped quietly: the answer still arrives as a plain message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.schema import Activity, ActivityTypes

from adapters.teams.convert import is_personal
from adapters.teams.entities import StreamType, stream_entity
from bot.types import Replace, Status, StreamEvent, TextDelta

log = logging.getLogger(__name__)

OPEN_STREAM = "firstline.teams.stream"  # turn_state key: the turn's stream, until it is ended
CHUNK_EVERY_SECONDS = 1.0  # Teams asks for a steady pace, not one request per token
STATUS_LIMIT = 1000  # informative updates: 1000 characters at most


def can_stream(activity: Activity) -> bool:
    """Teams streams bot messages in 1:1 chats only (and the Emulator not at all)."""
    return activity.channel_id == "msteams" and is_personal(activity)


class TeamsStream:
    """Shows one answer's stream events, then sends its final message (:meth:`finish`)."""

    def __init__(self, context: TurnContext) -> None:
        self._context = context
        self._every = CHUNK_EVERY_SECONDS
        self.stream_id: str | None = None
        self._sequence = 0
        self._text = ""  # the answer so far
        self._sent = ""  # the text Teams has streamed
        self._last = 0.0  # when the last activity went out
        self._stopped = False  # no more chunks (refused, failed, or a draft replaced)
        self._last_chunk = False  # the text to stream is final (a status after text)
        self._lock = asyncio.Lock()  # one request at a time, each after the last was accepted
        self._flush: asyncio.Task[None] | None = None  # sends held-back text when due
        context.turn_state[OPEN_STREAM] = self  # the error hook ends it with the apology

    async def show(self, event: StreamEvent) -> None:
        if isinstance(event, Status):
            await self._status(event.text)
            return
        if self._last_chunk:  # a status closed the stream's text; the final message follows
            return
        if isinstance(event, TextDelta):
            self._text += event.text
        elif isinstance(event, Replace):
            self._text = event.text
            self._stopped = self._stopped or not event.text.startswith(self._sent)
        await self._chunk()

    async def _status(self, text: str) -> None:
        if self._stopped or self._last_chunk:
            return
        if not self._sent:
            self._text = ""  # no text streamed yet (held back by the pace): the status instead
            await self._send("informative", text[:STATUS_LIMIT])
            return
        self._text = f"{self._text}\n\n_{text}_"  # extends what was streamed, as Teams asks
        self._last_chunk = True
        await self._chunk()

    async def finish(self, activity: Activity) -> str | None:
        """Send ``activity`` as the stream's final message (or plainly without a stream); its id."""
        self._stopped = True
        self._context.turn_state.pop(OPEN_STREAM, None)
        if self._flush is not None:
            self._flush.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flush
        async with self._lock:
            return await self._final(activity)

    async def _final(self, activity: Activity) -> str | None:
        if self.stream_id is not None:
            activity.entities = [*(activity.entities or []),
                                 stream_entity("final", stream_id=self.stream_id)]
            try:
                await self._context.send_activity(activity)
                return self.stream_id  # the streamed message is the final message
            except Exception as exc:
                log.warning("Teams refused the end of a stream (%s); sending the answer plainly",
                            exc)
                activity.entities = activity.entities[:-1]
        response = await self._context.send_activity(activity)
        return response.id if response is not None else None

    @property
    def streamed(self) -> bool:
        """Whether any answer text was streamed (the final message need not repeat it)."""
        return bool(self._sent)

    async def _chunk(self) -> None:
        """Stream the text so far, now or (held back by the pace) as soon as it is due."""
        if self._behind() and not self._hold_back():
            async with self._lock:
                if self._behind() and not self._hold_back():  # still, now that it is our turn
                    text = self._text
                    if await self._post("streaming", text):
                        self._sent = text

    def _behind(self) -> bool:
        return not self._stopped and bool(self._text) and self._text != self._sent

    def _hold_back(self) -> bool:
        """Too soon after the last update: send when due (a timer, unless one is set)."""
        wait = self._every - (time.monotonic() - self._last)
        if wait > 0 and self._flush is None:
            self._flush = asyncio.create_task(self._later(wait))
        return wait > 0

    async def _later(self, wait: float) -> None:
        await asyncio.sleep(wait)
        self._flush = None  # from here on finish() waits for this send instead of cancelling it
        await self._chunk()

    async def _send(self, kind: StreamType, text: str) -> bool:
        async with self._lock:
            return await self._post(kind, text)

    async def _post(self, kind: StreamType, text: str) -> bool:
        self._sequence += 1
        entity = stream_entity(kind, self._sequence, self.stream_id)
        activity = Activity(type=ActivityTypes.typing, text=text, entities=[entity])
        try:
            response = await self._context.send_activity(activity)
        except Exception as exc:  # the answer matters, the stream does not
            log.warning("Teams refused a streamed update (%s); the answer comes in one piece",
                        exc)
            self._stopped = True
            return False
        self._last = time.monotonic()
        if self.stream_id is None:
            self.stream_id = response.id if response is not None else None
            self._stopped = self._stopped or self.stream_id is None
        return True


async def say_last(context: TurnContext, text: str) -> None:
    """Send ``text`` as the turn's last word: the final message of a stream left open (a
    failure mid-answer), else a plain message."""
    stream = context.turn_state.get(OPEN_STREAM)
    if isinstance(stream, TeamsStream):
        await stream.finish(MessageFactory.text(text))
    else:
        await context.send_activity(MessageFactory.text(text))
