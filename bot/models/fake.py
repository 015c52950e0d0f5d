"""An in-memory :class:`~bot.models.base.ChatModel` for fast unit tests (httpx's
``MockTransport`` is the model): scripted answers, every request recorded, no weights.

``FakeChatModel(["It is [1]."])`` answers each call with the next scripted text (the last one
repeats); a callable decides per request; an exception in the script is raised for that call.
Token counts are the words of the messages and of the answer, so costs and ledger rows are real
numbers; :meth:`FakeChatModel.complete_streaming` sends the text word by word.
:meth:`FakeChatModel.choose` answers from ``verdicts`` the same way: each a P(yes), a
``{option: probability}`` mapping or a callable of the messages (None: the model cannot say).
Integration tests use the real GGUF and real servers instead.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping, Sequence

from bot.models.base import ChatModel, Completion, Message, TextSink
from bot.models.choice import normalise

Script = str | BaseException | Callable[[list[Message]], str]
Verdict = float | Mapping[str, float] | None | Callable[[list[Message]], "Verdict"]


class FakeChatModel(ChatModel):
    """Answers from a script and records what it was asked."""

    def __init__(self, script: Sequence[Script] | Script = "I don't know.", *,
                 name: str = "fake-model", mean_logprob: float | None = -0.1,
                 min_logprob: float | None = -1.0, seconds: float = 0.01,
                 verdicts: Sequence[Verdict] | Verdict = None) -> None:
        self.name = name
        self.verdicts: list[Verdict] = (
            list(verdicts) if isinstance(verdicts, list | tuple) else [verdicts])  # type: ignore[list-item]
        self.choose_requests: list[list[Message]] = []
        self.script: list[Script] = (
            list(script) if isinstance(script, list | tuple) else [script])  # type: ignore[list-item]
        self.mean_logprob = mean_logprob
        self.min_logprob = min_logprob
        self.seconds = seconds
        self.requests: list[list[Message]] = []
        self.loaded = False
        self.closed = False
        self.streamed = 0  # calls answered through complete_streaming

    async def complete(self, messages: list[Message], *, max_tokens: int = 256) -> Completion:
        self.requests.append(list(messages))
        step = self.script[min(len(self.requests), len(self.script)) - 1]
        if isinstance(step, BaseException):
            raise step
        text = step(messages) if callable(step) else step
        prompt = sum(len(m.content.split()) for m in messages)
        return Completion(text, self.name, prompt, len(text.split()), self.seconds,
                          mean_logprob=self.mean_logprob, min_logprob=self.min_logprob)

    async def complete_streaming(self, messages: list[Message], on_text: TextSink, *,
                                 max_tokens: int = 256) -> Completion:
        """As :meth:`complete`, the text sent word by word (yielding to the loop between)."""
        completion = await self.complete(messages, max_tokens=max_tokens)
        for piece in re.findall(r"\s*\S+", completion.text):
            on_text(piece)
            await asyncio.sleep(0)
        self.streamed += 1
        return completion

    async def choose(self, messages: list[Message],
                     options: Sequence[str] = ("yes", "no")) -> dict[str, float]:
        self.choose_requests.append(list(messages))
        verdict = self.verdicts[min(len(self.choose_requests), len(self.verdicts)) - 1]
        while callable(verdict):
            verdict = verdict(messages)
        if verdict is None:
            return {}
        if isinstance(verdict, int | float):  # P(first option), the rest share what is left
            rest = (1.0 - float(verdict)) / max(1, len(options) - 1)
            return normalise({o: float(verdict) if i == 0 else rest
                              for i, o in enumerate(options)})
        return normalise({o: float(verdict.get(o, 0.0)) for o in options})

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
