"""Chat models injected into the real core to watch or break the model call: the core's other
parts (retrieval, router, ledger) stay real."""

from __future__ import annotations

from bot.types import Completion, Message


class SpyModel:
    """Records every call; answers with a fixed text."""

    name = "spy-model"

    def __init__(self, answer: str = "Reset it at the portal [1].") -> None:
        self.answer = answer
        self.calls: list[list[Message]] = []

    async def complete(self, messages: list[Message], *, max_tokens: int = 256) -> Completion:
        self.calls.append(messages)
        return Completion(self.answer, self.name, 120, 12, 0.01, mean_logprob=-0.1,
                          min_logprob=-1.0)


class BrokenModel:
    """A model whose call fails with an internal error message users must never see."""

    name = "broken-model"
    SECRET = "llama_decode returned -3 at /srv/firstline/models/secret-path.gguf"

    def __init__(self) -> None:
        self.calls = 0

    async def complete(self, messages: list[Message], *, max_tokens: int = 256) -> Completion:
        self.calls += 1
        raise RuntimeError(self.SECRET)
