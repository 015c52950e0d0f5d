"""The chat-model seam and what crosses it.

:class:`ChatModel` is to firstline what ``BaseTransport`` is to httpx: one call that does the
work (:meth:`ChatModel.complete`) plus the lifecycle around it (:meth:`~ChatModel.load`,
:meth:`~ChatModel.ready`, :meth:`~ChatModel.aclose`), with no-op defaults so a small model class
only writes what it has. The composition root (:mod:`bot.app.composition`) drives the lifecycle;
nothing looks for methods with ``getattr``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol


@dataclass(frozen=True)
class Message:
    """One chat message for a :class:`ChatModel`."""

    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class Completion:
    """A model's answer, always with token usage."""

    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    prompt_seconds: float = 0.0  # prompt processing (when the backend reports it)
    generation_seconds: float = 0.0
    mean_logprob: float | None = None
    min_logprob: float | None = None
    finish_reason: str = "stop"
    cached_tokens: int = 0  # prompt tokens found already processed (llama.cpp's KV cache)


@dataclass(frozen=True)
class Draft:
    """A model's grounded answer, before routing decides whether to keep it."""

    text: str
    covered: bool
    cited_paths: tuple[str, ...]
    completion: Completion
    raw: str
    attributed: bool = False  # citations inferred from overlap, not written by the model
    grounding: dict[str, float] = field(default_factory=dict)  # bot.answering.grounding
    # the messages the model answered (the verification pass repeats them, so that llama.cpp
    # reuses their KV cache); empty: rebuilt from the evidence
    prompt: tuple[Message, ...] = ()


TextSink = Callable[[str], None]
"""Receives generated text piece by piece (:meth:`ChatModel.complete_streaming`)."""


class ChatModel(Protocol):
    """Anything that completes a chat: the local SLM, a shared SLM server, a cloud endpoint.

    Subclass it to inherit the lifecycle defaults (a model with nothing to load is ready at once
    and has nothing to close).
    """

    name: str

    async def complete(self, messages: list[Message], *, max_tokens: int = 256) -> Completion:
        """Answer ``messages``; raises :class:`bot.errors.CloudError` (remote) or
        :class:`bot.errors.ModelUnavailableError` (local) when it cannot."""
        ...

    async def complete_streaming(self, messages: list[Message], on_text: TextSink, *,
                                 max_tokens: int = 256) -> Completion:
        """As :meth:`complete`, calling ``on_text`` (on the event loop) with each piece of the
        text as it is generated; the pieces joined are the text before stripping. The default
        (a model that cannot stream) sends the whole text as one piece."""
        completion = await self.complete(messages, max_tokens=max_tokens)
        if completion.text:
            on_text(completion.text)
        return completion

    async def choose(self, messages: list[Message],
                     options: Sequence[str] = ("yes", "no")) -> dict[str, float]:
        """The model's probability of each of ``options`` as its next word after ``messages``,
        normalised over the options, read from one decoding step's token log-probabilities
        (spelling variants such as " Yes" or "はい" count for their option,
        :mod:`bot.models.choice`). Empty when the model cannot say (no log-probabilities)."""
        return {}

    def load(self) -> None:
        """Get ready to answer now rather than on the first question (may block)."""
        return None

    def warm(self, messages: list[Message]) -> int:
        """Process the prompt of ``messages`` now, so that a later prompt that begins the
        same way does not pay for that beginning (llama.cpp keeps the evaluated tokens in its
        KV cache); the prompt tokens processed, 0 when the model keeps no such state. May
        block."""
        return 0

    def ready(self) -> bool:
        """Whether the model can answer (``/readyz``): loaded, or its server answering."""
        return True

    async def aclose(self) -> None:
        """Release what the model holds (HTTP sessions, the llama.cpp context)."""
        return None
