"""Chat models injected into the real core to watch or break the model call: the core's other
parts (retrieval, router, ledger) stay real."""

from __future__ import annotations

from typing import Any

from bot.answering.responder import Firstline
from bot.models.base import ChatModel, Completion, Message


def with_parts(core: Firstline, **parts: Any) -> Firstline:
    """A new core over ``core``'s store, embeddings, ledger and router, with ``parts`` (local,
    cloud, settings …) replaced — parts are bound at construction, never swapped after."""
    given: dict[str, Any] = {"settings": core.settings, "local": core.local, "cloud": core.cloud,
                             "store": core.store, "embeddings": core.embeddings,
                             "ledger": core.ledger, "router": core.router, **parts}
    settings = given.pop("settings")
    return Firstline(settings, **given)


class SpyModel(ChatModel):
    """Records every call; answers with a fixed text."""

    name = "spy-model"

    def __init__(self, answer: str = "Reset it at the portal [1].") -> None:
        self.answer = answer
        self.calls: list[list[Message]] = []

    async def complete(self, messages: list[Message], *, max_tokens: int = 256) -> Completion:
        self.calls.append(messages)
        return Completion(self.answer, self.name, 120, 12, 0.01, mean_logprob=-0.1,
                          min_logprob=-1.0)


class BrokenModel(ChatModel):
    """A model whose call fails with an internal error message users must never see."""

    name = "broken-model"
    SECRET = "llama_decode returned -3 at /srv/firstline/models/secret-path.gguf"

    def __init__(self) -> None:
        self.calls = 0

    async def complete(self, messages: list[Message], *, max_tokens: int = 256) -> Completion:
        self.calls += 1
        raise RuntimeError(self.SECRET)
