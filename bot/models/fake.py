"""An in-memory :class:`~bot.models.base.ChatModel` for fast unit tests (httpx's
``MockTransport`` is the model): scripted answers, every request recorded, no weights.

``FakeChatModel(["It is [1]."])`` answers each call with the next scripted text (the last one
repeats); a callable decides per request; an exception in the script is raised for that call.
Token counts are the words of the messages and of the answer, so costs and ledger rows are real
numbers. Integration tests use the real GGUF and real servers instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.models.base import ChatModel, Completion, Message

Script = str | BaseException | Callable[[list[Message]], str]


class FakeChatModel(ChatModel):
    """Answers from a script and records what it was asked."""

    def __init__(self, script: Sequence[Script] | Script = "I don't know.", *,
                 name: str = "fake-model", mean_logprob: float | None = -0.1,
                 min_logprob: float | None = -1.0, seconds: float = 0.01) -> None:
        self.name = name
        self.script: list[Script] = (
            list(script) if isinstance(script, list | tuple) else [script])  # type: ignore[list-item]
        self.mean_logprob = mean_logprob
        self.min_logprob = min_logprob
        self.seconds = seconds
        self.requests: list[list[Message]] = []
        self.loaded = False
        self.closed = False

    async def complete(self, messages: list[Message], *, max_tokens: int = 256) -> Completion:
        self.requests.append(list(messages))
        step = self.script[min(len(self.requests), len(self.script)) - 1]
        if isinstance(step, BaseException):
            raise step
        text = step(messages) if callable(step) else step
        prompt = sum(len(m.content.split()) for m in messages)
        return Completion(text, self.name, prompt, len(text.split()), self.seconds,
                          mean_logprob=self.mean_logprob, min_logprob=self.min_logprob)

    def load(self) -> None:
        self.loaded = True

    def ready(self) -> bool:
        return self.loaded

    async def aclose(self) -> None:
        self.closed = True

    @property
    def last_prompt(self) -> str:
        """Everything the last request said, joined (for "was X sent?" checks)."""
        return "\n".join(m.content for m in self.requests[-1]) if self.requests else ""
