"""The on-prem small language model: any GGUF through llama-cpp-python.

Loaded once per process; every call runs in a worker thread behind a lock (one llama.cpp context
is not re-entrant), so the event loop stays free for acks and other chats. Async callers wait
for their turn on the event loop, not in a thread, verification passes first
(:mod:`bot.models.turns`). Decoding is greedy, and
a logits processor records each step's top-token log-probability and entropy — the model's own
confidence, for the router — without ``logits_all=True`` (which would keep a vocabulary-sized row
per token: gigabytes with Qwen's 151k vocabulary). Prompts go through the GGUF's own chat
template unless a named format overrides it (:mod:`bot.models.chat_template`); the choice is logged
at load and kept in :attr:`LocalSLM.chat_template`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bot.errors import ModelUnavailableError
from bot.models.base import ChatModel, Completion, Message, TextSink
from bot.models.chat_template import ChatTemplate, choose
from bot.models.choice import normalise, variants
from bot.models.turns import FINISHING, Turns

log = logging.getLogger(__name__)


@dataclass
class _Confidence:
    """Collects per-step statistics of the next-token distribution."""

    top_logprobs: list[float] = field(default_factory=list)
    entropies: list[float] = field(default_factory=list)

    def __call__(self, input_ids: Any, scores: np.ndarray) -> np.ndarray:
        logits = scores.astype(np.float64, copy=False)
        peak = float(logits.max())
        shifted = logits - peak
        exp = np.exp(shifted)
        total = float(exp.sum())
        logprobs = shifted - np.log(total)
        self.top_logprobs.append(float(logprobs.max()))
        probs = exp / total
        self.entropies.append(float(-(probs * logprobs).sum()))
        return scores


@dataclass
class _FirstStep:
    """Keeps the log-softmax of the first decoding step's logits (the whole vocabulary)."""

    logprobs: np.ndarray | None = None

    def __call__(self, input_ids: Any, scores: np.ndarray) -> np.ndarray:
        if self.logprobs is None:
            logits = scores.astype(np.float64)
            shifted = logits - logits.max()
            self.logprobs = shifted - np.log(np.exp(shifted).sum())
        return scores


@dataclass(frozen=True)
class ChoiceCost:
    """What the last :meth:`LocalSLM.choose` evaluated: prompt tokens, how many of them were
    already in the KV cache, and its wall time."""

    prompt_tokens: int
    reused_tokens: int
    seconds: float


class LocalSLM(ChatModel):
    """A :class:`bot.models.base.ChatModel` backed by llama.cpp in this process."""

    def __init__(
        self,
        model_path: Path | Callable[[], Path],
        *,
        name: str | None = None,
        n_ctx: int = 4096,
        n_threads: int = 0,
        seed: int = 0,
        chat_format: str = "",
    ) -> None:
        # A callable path is resolved on first load, so commands that never answer (`index`)
        # do not assemble or map the model.
        self._path_source = model_path
        self._path: Path | None = None if callable(model_path) else Path(model_path)
        self.name = name or (self._path.stem if self._path else "local-slm")
        self.n_ctx = n_ctx
        self.n_threads = n_threads or max(1, os.cpu_count() or 1)
        self.seed = seed
        self.chat_format = chat_format
        self.chat_template: ChatTemplate | None = None  # set when the model is loaded
        self._llm: Any = None
        self._lock = threading.Lock()
        self.turns = Turns()  # async callers wait here, on the event loop (bot.models.turns)
        self._option_ids: dict[tuple[str, ...], dict[str, list[int]]] = {}
        self.last_choice: ChoiceCost | None = None

    @property
    def model_path(self) -> Path:
        if self._path is None:
            source = self._path_source
            self._path = Path(source() if callable(source) else source)
        return self._path

    def load(self) -> None:
        """Load the model (once); safe to call from any thread."""
        self._model()

    def ready(self) -> bool:
        return self._llm is not None

    async def aclose(self) -> None:
        """Free the llama.cpp context (a later question loads it again)."""
        with self._lock:
            llm, self._llm = self._llm, None
        if llm is not None:
            llm.close()

    def _model(self) -> Any:
        if self._llm is None:
            with self._lock:
                if self._llm is None:
                    self._llm = self._open()
        return self._llm

    def _open(self) -> Any:
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise ModelUnavailableError("llama-cpp-python is not installed") from exc
        started = time.perf_counter()
        try:
            llm = Llama(
                model_path=str(self.model_path),
                n_ctx=self.n_ctx,
                n_threads=self.n_threads,
                n_batch=512,
                seed=self.seed,
                chat_format=self.chat_format or None,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise ModelUnavailableError(f"cannot load GGUF {self.model_path}: {exc}") from exc
        try:
            self.chat_template = choose(llm.metadata, self.chat_format, self.model_path)
        except ModelUnavailableError:
            llm.close()
            raise
        llm.chat_format = self.chat_template.format
        log.info("loaded %s in %.1fs; chat template: %s", self.model_path.name,
                 time.perf_counter() - started, self.chat_template.describe())
        return llm

    def formatted_prompt(self, messages: list[Message]) -> str:
        """The prompt text llama.cpp evaluates for ``messages`` (the chat template applied),
        read back from the evaluated tokens: what the model really sees."""
        llm = self._model()
        with self._lock:
            result = llm.create_chat_completion(
                messages=[{"role": m.role, "content": m.content} for m in messages],
                max_tokens=1, temperature=0.0, top_k=1,
            )
            tokens = llm.input_ids[: result["usage"]["prompt_tokens"]].tolist()
            return str(llm.detokenize(tokens, special=True).decode("utf-8", "replace"))

    def count_tokens(self, text: str) -> int:
        return len(self._model().tokenize(text.encode(), add_bos=False, special=True))

    def complete_sync(
        self, messages: list[Message], *, max_tokens: int = 256, stop: list[str] | None = None,
        on_piece: TextSink | None = None,
    ) -> Completion:
        """One greedy completion; ``on_piece`` gets each text piece as llama.cpp decodes it
        (in this thread)."""
        llm = self._model()
        confidence = _Confidence()
        with self._lock:
            started = time.perf_counter()
            before = llm.input_ids[: llm.n_tokens].tolist()
            first_token_at = None
            pieces: list[str] = []
            finish = "stop"
            usage: dict[str, int] = {}
            stream = llm.create_chat_completion(
                messages=[{"role": m.role, "content": m.content} for m in messages],
                max_tokens=max_tokens,
                temperature=0.0,
                top_k=1,
                stream=True,
                logits_processor=[confidence],
                stop=stop,
            )
            for chunk in stream:
                choice = chunk["choices"][0]
                piece = choice.get("delta", {}).get("content") or ""
                if piece and first_token_at is None:
                    first_token_at = time.perf_counter()
                if piece and on_piece is not None:
                    on_piece(piece)
                pieces.append(piece)
                finish = choice.get("finish_reason") or finish
                usage = chunk.get("usage") or usage
            ended = time.perf_counter()
            prompt_tokens = int(
                usage.get("prompt_tokens") or llm.n_tokens - len(confidence.top_logprobs)
            )
            cached = _common_prefix(before, llm.input_ids[:prompt_tokens].tolist())
        text = "".join(pieces).strip()
        completion_tokens = len(confidence.top_logprobs)
        first = first_token_at or ended
        logprobs = confidence.top_logprobs
        return Completion(
            text=text,
            model=self.name,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            seconds=ended - started,
            prompt_seconds=first - started,
            generation_seconds=ended - first,
            mean_logprob=float(np.mean(logprobs)) if logprobs else None,
            min_logprob=float(np.min(logprobs)) if logprobs else None,
            finish_reason=finish,
            cached_tokens=cached,
        )

    async def complete(self, messages: list[Message], *, max_tokens: int = 256) -> Completion:
        async with self.turns.turn():
            return await asyncio.to_thread(self.complete_sync, messages, max_tokens=max_tokens)

    async def complete_streaming(self, messages: list[Message], on_text: TextSink, *,
                                 max_tokens: int = 256) -> Completion:
        """Tokens as llama.cpp decodes them: the worker thread hands each piece to the event
        loop, where ``on_text`` runs; every piece is delivered before this returns (the loop
        runs callbacks in the order they were scheduled)."""
        loop = asyncio.get_running_loop()

        def hand_over(piece: str) -> None:
            loop.call_soon_threadsafe(on_text, piece)

        async with self.turns.turn():
            return await asyncio.to_thread(self.complete_sync, messages,
                                           max_tokens=max_tokens, on_piece=hand_over)

    def warm(self, messages: list[Message]) -> int:
        """Evaluate ``messages``' prompt (and one token) into the KV cache: llama.cpp reuses
        the longest prefix a later prompt shares with it, so the first question after a start
        does not pay for the fixed system prompt and worked examples."""
        llm = self._model()
        with self._lock:
            result = llm.create_chat_completion(
                messages=[{"role": m.role, "content": m.content} for m in messages],
                max_tokens=1, temperature=0.0, top_k=1)
        return int(result["usage"]["prompt_tokens"])

    # -- choosing a word -------------------------------------------------------------------
    def choose_sync(self, messages: list[Message],
                    options: Sequence[str] = ("yes", "no")) -> dict[str, float]:
        """One decoding step over ``messages``; the options' shares of its distribution. The
        prompt's longest prefix already in the KV cache (llama.cpp keeps the last prompt and
        answer) is not evaluated again."""
        llm = self._model()
        first = _FirstStep()
        with self._lock:
            started = time.perf_counter()
            before = llm.input_ids[: llm.n_tokens].tolist()
            result = llm.create_chat_completion(
                messages=[{"role": m.role, "content": m.content} for m in messages],
                max_tokens=1, temperature=0.0, top_k=1, logits_processor=[first])
            prompt_tokens = int(result["usage"]["prompt_tokens"])
            reused = _common_prefix(before, llm.input_ids[:prompt_tokens].tolist())
            ids = self._ids_of(llm, tuple(options))
            self.last_choice = ChoiceCost(prompt_tokens, reused, time.perf_counter() - started)
        if first.logprobs is None:
            return {}
        logprobs = first.logprobs
        return normalise({o: float(sum(np.exp(logprobs[i]) for i in ids[o])) for o in options})

    async def choose(self, messages: list[Message],
                     options: Sequence[str] = ("yes", "no")) -> dict[str, float]:
        async with self.turns.turn(FINISHING):  # the answer is on screen: finish it first
            return await asyncio.to_thread(self.choose_sync, messages, options)

    def _ids_of(self, llm: Any, options: tuple[str, ...]) -> dict[str, list[int]]:
        """The first token of each spelling of each option; a token two options share (or a
        one-character piece of a longer word, like は of はい) tells nothing and is left out."""
        if options not in self._option_ids:
            found: dict[str, set[int]] = {o: set() for o in options}
            for option in options:
                for spelling in variants(option):
                    tokens = llm.tokenize(spelling.encode(), add_bos=False, special=False)
                    if not tokens:
                        continue
                    piece = llm.detokenize(tokens[:1]).decode("utf-8", "ignore").strip()
                    if len(tokens) == 1 or len(piece) >= 2:
                        found[option].add(int(tokens[0]))
            shared = {t for o in options for t in found[o]
                      if sum(t in found[other] for other in options) > 1}
            self._option_ids[options] = {o: sorted(found[o] - shared) for o in options}
        return self._option_ids[options]


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n
