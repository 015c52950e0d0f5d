"""The events of one streamed answer (:meth:`bot.answering.responder.Firstline.stream`).

Steps do not know about streaming: a step that generates text passes the record's
:attr:`~bot.answering.record.AnswerRecord.on_text` to the model (None when nobody streams), and a
step that starts something slow says so with :meth:`~bot.answering.record.AnswerRecord.status`.
:class:`AnswerEvents` turns that into :mod:`bot.types` stream events, keeps the text the user sees
so far, and at the end settles it on the reply's text: the rest of it appended when the reply
continues what was shown (the verbatim excerpt under a streamed lead), otherwise a
:class:`~bot.types.Replace` (a rejected draft, a decline, the cloud's answer), then
:class:`~bot.types.Final`.
"""

from __future__ import annotations

import asyncio

from bot.types import Final, Language, Replace, Reply, Status, StreamEvent, TextDelta

SEARCHING: dict[Language, str] = {
    "en": "Searching the documents…", "ja": "資料を検索しています…"}
CHECKING: dict[Language, str] = {
    "en": "Checking with a larger model…", "ja": "より大きなモデルで確認しています…"}
ASKING: dict[Language, str] = {
    "en": "Asking a larger model…", "ja": "より大きなモデルに問い合わせています…"}


class AnswerEvents:
    """A queue of stream events and the answer text they have shown so far."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[StreamEvent | None] = asyncio.Queue()
        self.shown = ""
        self._replace_next = False

    def status(self, texts: dict[Language, str], language: Language) -> None:
        self.queue.put_nowait(Status(texts[language]))

    def begin(self) -> None:
        """A new text starts (another model's answer): its first piece replaces what is shown."""
        self._replace_next = bool(self.shown)

    def text(self, piece: str) -> None:
        """One generated piece (called on the event loop)."""
        if self._replace_next:
            piece = piece.lstrip()
            if not piece:
                return
            self._replace_next = False
            self.shown = piece
            self.queue.put_nowait(Replace(piece))
            return
        if not self.shown:
            piece = piece.lstrip()
        if piece:
            self.shown += piece
            self.queue.put_nowait(TextDelta(piece))

    def settle(self, reply: Reply) -> None:
        """Bring the shown text to ``reply.text``, then the :class:`Final` and the end."""
        text = reply.text
        if text != self.shown:
            if text.startswith(self.shown) and not self._replace_next:
                self.queue.put_nowait(TextDelta(text[len(self.shown):]))
            else:
                self.queue.put_nowait(Replace(text))
            self.shown = text
        self.queue.put_nowait(Final(reply))
        self.end()

    def end(self) -> None:
        self.queue.put_nowait(None)


def visible_text(events: list[StreamEvent]) -> str:
    """The answer text an adapter shows after ``events`` (deltas appended, replacements
    applied; statuses are not answer text)."""
    shown = ""
    for event in events:
        if isinstance(event, TextDelta):
            shown += event.text
        elif isinstance(event, Replace):
            shown = event.text
    return shown
