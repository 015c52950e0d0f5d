"""A chat model wrapper that redacts every message before it leaves the machine."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from bot.models.base import ChatModel, Completion, Message, TextSink
from bot.models.redaction import DEFAULT_COMPANY, redact


class Redacting(ChatModel):
    """Masks e-mail addresses, phone numbers, card numbers … in what is sent to ``model``.

    ``masked`` counts what was masked, by kind, over this wrapper's life (one wrapper per
    answer, so the ledger can say how much was masked for it). Lifecycle goes to ``model``.
    """

    def __init__(self, model: ChatModel,
                 company: Sequence[re.Pattern[str]] = DEFAULT_COMPANY) -> None:
        self.model = model
        self.company = tuple(company)
        self.name = model.name
        self.masked: Counter[str] = Counter()

    async def complete(self, messages: list[Message], *, max_tokens: int = 256) -> Completion:
        return await self.model.complete(self._clean(messages), max_tokens=max_tokens)

    async def complete_streaming(self, messages: list[Message], on_text: TextSink, *,
                                 max_tokens: int = 256) -> Completion:
        return await self.model.complete_streaming(self._clean(messages), on_text,
                                                   max_tokens=max_tokens)

    def _clean(self, messages: list[Message]) -> list[Message]:
        clean = []
        for message in messages:
            text, counts = redact(message.content, self.company)
            self.masked.update(counts)
            clean.append(Message(message.role, text))
        return clean

    def load(self) -> None:
        self.model.load()

    def ready(self) -> bool:
        return self.model.ready()

    async def aclose(self) -> None:
        await self.model.aclose()
