"""The SLM on a shared OpenAI-compatible server (``python -m bot.slm_server``)."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any

from bot.errors import CloudError
from bot.models.base import Completion, Message, TextSink
from bot.models.cloud import CloudChatModel

log = logging.getLogger(__name__)

PLACEHOLDER_NAME = "local-slm"
READY_TIMEOUT = 2.0


class RemoteSLM(CloudChatModel):
    """The SLM on a shared OpenAI-compatible server (``python -m bot.slm_server``).

    It asks for token log-probabilities, so the router gets the same confidence signals as
    in-process; without a configured model name it takes the first one the server lists (the
    GGUF's stem on ``bot.slm_server``), so the ledger names the model as in-process does.
    """

    def __init__(self, base_url: str, model: str, *, timeout: float) -> None:
        super().__init__(
            base_url, "", model or PLACEHOLDER_NAME, timeout=timeout, want_logprobs=True
        )
        self._discover = not model
        self.models_url = str(
            self.url.with_path(
                self.url.path.removesuffix("/chat/completions") + "/models"
            ).with_query(None)
        )

    async def complete(self, messages: list[Message], *, max_tokens: int = 256) -> Completion:
        """As :class:`CloudChatModel`; a server that refuses logprobs (llama_cpp.server with
        ``--logits_all false``) is asked again without, from then on — no confidence signals."""
        try:
            return await super().complete(messages, max_tokens=max_tokens)
        except CloudError:
            if not self.want_logprobs:
                raise
        return await self._without_logprobs(super().complete(messages, max_tokens=max_tokens))

    async def complete_streaming(self, messages: list[Message], on_text: TextSink, *,
                                 max_tokens: int = 256) -> Completion:
        """As :meth:`complete`, streamed; asked again without logprobs only when the refusal
        came before any text."""
        sent = False

        def note(piece: str) -> None:
            nonlocal sent
            sent = True
            on_text(piece)

        try:
            return await super().complete_streaming(messages, note, max_tokens=max_tokens)
        except CloudError:
            if sent or not self.want_logprobs:
                raise
        return await self._without_logprobs(
            super().complete_streaming(messages, on_text, max_tokens=max_tokens))

    async def _without_logprobs(self, call: Coroutine[Any, Any, Completion]) -> Completion:
        self.want_logprobs = False
        try:
            completion = await call
        except CloudError:
            self.want_logprobs = True  # the server is down, not picky: keep asking for them
            raise
        log.warning("SLM server %s refuses logprobs: answering without confidence signals",
                    self.models_url)
        return completion

    async def choose(self, messages: list[Message],
                     options: Sequence[str] = ("yes", "no")) -> dict[str, float]:
        """As :class:`CloudChatModel`; nothing (the model cannot say) from a server known to
        refuse logprobs."""
        if not self.want_logprobs:
            return {}
        return await super().choose(messages, options)

    def load(self) -> None:
        """Learn the served model's name (warm-up); a server still starting is only logged."""
        if not self.ready():
            log.warning(
                "SLM server %s is not answering yet; /readyz says so until it does", self.models_url
            )

    def ready(self) -> bool:
        """True while the server answers ``GET /v1/models`` (what /readyz reports)."""
        try:
            with urllib.request.urlopen(self.models_url, timeout=READY_TIMEOUT) as response:
                listed = json.loads(response.read())
        except (urllib.error.URLError, OSError, ValueError):
            return False
        ids = [m.get("id") for m in listed.get("data") or [] if isinstance(m, dict)]
        if self._discover and ids and isinstance(ids[0], str):
            self.name = self.model = display_name(ids[0])
            self._discover = False
        return True


def display_name(model_id: str) -> str:
    """A GGUF path as served by a bare llama_cpp.server becomes its stem, like in-process."""
    return Path(model_id).stem if model_id.endswith(".gguf") else model_id
