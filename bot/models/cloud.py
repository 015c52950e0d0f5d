"""A :class:`bot.models.base.ChatModel` for any OpenAI-compatible Chat Completions API.

OpenAI, Azure OpenAI (v1 base URL), vLLM, llama.cpp's server and gateways all speak
``POST {base}/chat/completions``. Calls go through one ``aiohttp.ClientSession`` (pass the
process's session, or one is created lazily) with explicit timeouts.

Failures are retried with exponential backoff and jitter on 429/500/502/503/504, connection
errors and timeouts, honouring ``Retry-After``; after ``1 + max_retries`` attempts, or at once for
any other failure (other 4xx, malformed JSON, no choices), :class:`bot.errors.CloudError` is
raised. Its message never contains the API key.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp
from yarl import URL

from bot.errors import CloudError, UserFacingError
from bot.models.base import ChatModel, Completion, Message, TextSink
from bot.models.choice import from_logprobs

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
CHOICE_TOP_LOGPROBS = 20  # the most OpenAI's API returns
_T = TypeVar("_T")
_SECRETISH = re.compile(r"(?i)(bearer\s+)\S+|sk-[A-Za-z0-9_\-]{6,}")


class _Retryable(Exception):
    """One failed attempt that may succeed when repeated."""

    def __init__(self, detail: str, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after


class CloudChatModel(ChatModel):
    """Chat completions from an OpenAI-compatible endpoint (``base_url`` ends in ``/v1``)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        model: str,
        *,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 30.0,
        max_retries: int = 2,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        want_logprobs: bool = False,
        stream_usage: bool = True,
    ) -> None:
        self.name = model
        self.model = model
        self.url = _endpoint(base_url)
        self.max_retries = max(0, max_retries)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.want_logprobs = want_logprobs
        self.stream_usage = stream_usage  # off for servers that reject ``stream_options``
        self._api_key = api_key
        self._session = session
        self._owns_session = session is None
        self._timeout = aiohttp.ClientTimeout(total=timeout, connect=timeout)
        # A stream may run longer than one request; bound the silence between chunks instead.
        self._stream_timeout = aiohttp.ClientTimeout(
            total=None, connect=timeout, sock_read=timeout)

    @classmethod
    def from_settings(
        cls, settings: Settings, session: aiohttp.ClientSession | None = None
    ) -> CloudChatModel:
        """The configured cloud model; raises :class:`UserFacingError` when none is set."""
        if not settings.cloud_url:
            raise UserFacingError("No cloud model is configured (FIRSTLINE_CLOUD_URL is empty).")
        return cls(settings.cloud_url, settings.cloud_api_key, settings.cloud_model,
                   session=session, timeout=settings.cloud_timeout,
                   max_retries=settings.cloud_max_retries)

    async def aclose(self) -> None:
        """Close the session if this object created it (a session passed in stays open)."""
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> CloudChatModel:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- public API ---------------------------------------------------------------------
    async def complete(self, messages: list[Message], *, max_tokens: int = 256) -> Completion:
        """One completion (temperature 0), with token usage; raises :class:`CloudError`."""
        started = time.perf_counter()
        body = self._body(messages, max_tokens, stream=False)
        data = await self._retrying(lambda: self._post_json(body))
        choice = _first_choice(data, self._scrub)
        message = choice.get("message")
        if not isinstance(message, dict):
            raise CloudError(f"cloud model {self.model}: choice without a message")
        content = message.get("content")
        return self._finish(
            text=content if isinstance(content, str) else "", model=data.get("model"),
            usage=data.get("usage"), finish_reason=choice.get("finish_reason"),
            logprobs=_logprob_values(choice.get("logprobs")), messages=messages,
            started=started)

    async def choose(self, messages: list[Message],
                     options: Sequence[str] = ("yes", "no")) -> dict[str, float]:
        """One token with its ``top_logprobs``; the options' shares of them (empty when none of
        the listed tokens is an option). Raises :class:`CloudError` as :meth:`complete`."""
        body = self._body(messages, 1, stream=False) | {
            "logprobs": True, "top_logprobs": CHOICE_TOP_LOGPROBS}
        data = await self._retrying(lambda: self._post_json(body))
        return from_logprobs(_top_logprobs(_first_choice(data, self._scrub)), options)

    async def complete_streaming(self, messages: list[Message], on_text: TextSink, *,
                                 max_tokens: int = 256) -> Completion:
        """As :meth:`complete`, over server-sent events: ``on_text`` gets each piece as it
        arrives; raises :class:`CloudError` as :meth:`complete` (retried only before the first
        piece)."""
        async with self.stream_completion(messages, max_tokens=max_tokens) as pieces:
            async for piece in pieces:
                on_text(piece)
        if pieces.completion is None:  # the iteration ends only by finishing or raising
            raise CloudError(f"cloud model {self.model}: stream ended without a completion")
        return pieces.completion

    def stream_completion(self, messages: list[Message], *, max_tokens: int = 256) -> CloudStream:
        """A stream of text pieces; its ``completion`` is set once it is exhausted."""
        return CloudStream(self, messages, max_tokens)

    async def stream(self, messages: list[Message], *, max_tokens: int = 256) -> AsyncIterator[str]:
        """Text pieces as they arrive (use :meth:`stream_completion` to get usage too)."""
        async with self.stream_completion(messages, max_tokens=max_tokens) as pieces:
            async for piece in pieces:
                yield piece

    # --- requests and retries -----------------------------------------------------------
    def _body(self, messages: list[Message], max_tokens: int, *, stream: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "max_tokens": max_tokens,
            "temperature": 0,
        }
        if self.want_logprobs:
            body |= {"logprobs": True, "top_logprobs": 1}
        if stream:
            body["stream"] = True
            if self.stream_usage:
                body["stream_options"] = {"include_usage": True}
        return body

    def _headers(self, *, stream: bool) -> dict[str, str]:
        headers = {"Accept": "text/event-stream" if stream else "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or (self._owns_session and self._session.closed):
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def _retrying(self, attempt: Callable[[], Awaitable[_T]]) -> _T:
        for number in range(self.max_retries + 1):
            try:
                return await attempt()
            except _Retryable as exc:
                if number == self.max_retries:
                    raise CloudError(
                        f"cloud model {self.model} at {self.url.host}: {exc.detail} "
                        f"(gave up after {number + 1} attempts)") from exc
                wait = self._wait(number, exc.retry_after)
                log.warning("cloud request failed (%s); retry %d/%d in %.2fs",
                            exc.detail, number + 1, self.max_retries, wait)
                await asyncio.sleep(wait)
        raise AssertionError("unreachable")

    def _wait(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_backoff)
        ceiling = min(self.max_backoff, self.backoff * 2.0**attempt)
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    async def _request(self, body: dict[str, Any], *, stream: bool) -> aiohttp.ClientResponse:
        """POST once; a response is returned only with a 2xx status."""
        timeout = self._stream_timeout if stream else self._timeout
        try:
            # No redirects: following one could carry the key to another host.
            response = await self._get_session().post(
                self.url, json=body, headers=self._headers(stream=stream), timeout=timeout,
                allow_redirects=False)
            try:
                await self._check_status(response)
            except BaseException:
                response.close()
                raise
            return response
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _Retryable(self._scrub(_describe(exc))) from exc

    async def _check_status(self, response: aiohttp.ClientResponse) -> None:
        if 200 <= response.status < 300:
            return
        snippet = _error_snippet(await response.text(errors="replace"))
        detail = self._scrub(f"HTTP {response.status}{snippet}")
        if response.status in RETRY_STATUSES:
            raise _Retryable(detail, _retry_after(response.headers))
        raise CloudError(f"cloud model {self.model} at {self.url.host}: {detail}")

    async def _post_json(self, body: dict[str, Any]) -> dict[str, Any]:
        response = await self._request(body, stream=False)
        try:
            raw = await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _Retryable(self._scrub(_describe(exc))) from exc
        finally:
            response.release()
        return self._parse(raw)

    def _parse(self, raw: bytes | str) -> dict[str, Any]:
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise CloudError(f"cloud model {self.model}: response is not valid JSON") from None
        if not isinstance(data, dict):
            raise CloudError(f"cloud model {self.model}: response is not a JSON object")
        return data

    def _scrub(self, text: str) -> str:
        if self._api_key:
            text = text.replace(self._api_key, "***")
        return _SECRETISH.sub(lambda m: f"{m.group(1) or ''}***", text)

    def _finish(self, *, text: str, model: Any, usage: Any, finish_reason: Any,
                logprobs: list[float], messages: list[Message], started: float) -> Completion:
        prompt_tokens, completion_tokens = self._usage(usage, messages, text)
        return Completion(
            text=text,
            model=model if isinstance(model, str) and model else self.model,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            seconds=time.perf_counter() - started,
            mean_logprob=sum(logprobs) / len(logprobs) if logprobs else None,
            min_logprob=min(logprobs) if logprobs else None,
            finish_reason=finish_reason if isinstance(finish_reason, str) else "stop",
        )

    def _usage(self, usage: Any, messages: list[Message], text: str) -> tuple[int, int]:
        if isinstance(usage, dict):
            prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
            if isinstance(prompt, int) and isinstance(completion, int):
                return prompt, completion
        prompt = sum(estimate_tokens(m.content) + 4 for m in messages)
        completion = estimate_tokens(text)
        log.info("cloud model %s sent no token usage; estimated %d prompt + %d completion tokens",
                 self.model, prompt, completion)
        return prompt, completion


@dataclass
class _StreamState:
    """What the chunks of one stream add up to."""

    pieces: list[str] = field(default_factory=list)
    model: str = ""
    finish_reason: str | None = None
    usage: Any = None
    logprobs: list[float] = field(default_factory=list)
    saw_choice: bool = False
    done: bool = False

    def feed(self, chunk: dict[str, Any]) -> str:
        if "error" in chunk:
            raise CloudError(f"cloud stream reported an error{_error_snippet(chunk)}")
        self.model = chunk.get("model") or self.model
        self.usage = chunk.get("usage") or self.usage
        choices = chunk.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            return ""
        choice, self.saw_choice = choices[0], True
        self.finish_reason = choice.get("finish_reason") or self.finish_reason
        self.logprobs.extend(_logprob_values(choice.get("logprobs")))
        delta = choice.get("delta")
        piece = delta.get("content") if isinstance(delta, dict) else None
        if not isinstance(piece, str):
            return ""
        self.pieces.append(piece)
        return piece


class CloudStream:
    """Async-iterable text pieces of one streamed completion.

    Retries happen only before the first piece (a repeat would duplicate text); a failure after
    that raises :class:`CloudError`. ``completion`` (text, usage, seconds) is set once the
    iteration has ended normally. Use ``async with`` (or :meth:`aclose`) when you may stop early.
    """

    def __init__(self, model: CloudChatModel, messages: list[Message], max_tokens: int) -> None:
        self.completion: Completion | None = None
        self._model = model
        self._messages = messages
        self._body = model._body(messages, max_tokens, stream=True)
        self._pieces = self._run()

    def __aiter__(self) -> CloudStream:
        return self

    async def __anext__(self) -> str:
        return await self._pieces.__anext__()

    async def aclose(self) -> None:
        await self._pieces.aclose()

    async def __aenter__(self) -> CloudStream:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()

    async def _run(self) -> AsyncGenerator[str, None]:
        started = time.perf_counter()
        model = self._model
        response = await model._retrying(lambda: model._request(self._body, stream=True))
        state = _StreamState()
        try:
            async for data in _sse_data(response.content):
                if data.strip() == "[DONE]":
                    state.done = True
                    break
                piece = state.feed(model._parse(data))
                if piece:
                    yield piece
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise CloudError(model._scrub(
                f"cloud model {model.model}: stream broke after {len(state.pieces)} pieces "
                f"({_describe(exc)})")) from exc
        finally:
            if state.done:
                response.release()
            else:
                response.close()
        self._end(state, started)

    def _end(self, state: _StreamState, started: float) -> None:
        if not state.saw_choice or not (state.done or state.finish_reason):
            raise CloudError(f"cloud model {self._model.model}: stream ended early")
        self.completion = self._model._finish(
            text="".join(state.pieces), model=state.model, usage=state.usage,
            finish_reason=state.finish_reason, logprobs=state.logprobs,
            messages=self._messages, started=started)


# --- helpers ------------------------------------------------------------------------------
def estimate_tokens(text: str) -> int:
    """Rough token count: ~4 ASCII characters per token, one per other character (kana, kanji)."""
    if not text:
        return 0
    ascii_chars = sum(1 for ch in text if ch.isascii())
    return max(1, round(ascii_chars / 4 + (len(text) - ascii_chars)))


def _endpoint(base_url: str) -> URL:
    """``{base}/chat/completions``, keeping a query such as Azure's ``api-version``."""
    base = URL(base_url)
    return base.with_path(base.path.rstrip("/") + "/chat/completions").with_query(base.query)


async def _sse_data(content: aiohttp.StreamReader) -> AsyncIterator[str]:
    """The ``data`` of each server-sent event (multi-line data joined with newlines)."""
    lines: list[str] = []
    async for raw in content:
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if not line:
            if lines:
                yield "\n".join(lines)
            lines = []
        elif line.startswith("data:"):
            lines.append(line[5:].removeprefix(" "))
    if lines:
        yield "\n".join(lines)


def _first_choice(data: dict[str, Any], scrub: Callable[[str], str]) -> dict[str, Any]:
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise CloudError(scrub(f"cloud response has no choices{_error_snippet(data)}"))
    return choices[0]


def _logprob_values(logprobs: Any) -> list[float]:
    """Token log-probabilities from chat (``content``) or legacy (``token_logprobs``) shape."""
    if not isinstance(logprobs, dict):
        return []
    content = logprobs.get("content")
    if isinstance(content, list):
        values = [t.get("logprob") for t in content if isinstance(t, dict)]
    else:
        values = logprobs.get("token_logprobs") or []
    return [float(v) for v in values if isinstance(v, int | float)]


def _top_logprobs(choice: dict[str, Any]) -> list[tuple[str, float]]:
    """The first token's alternatives (chat ``content[0].top_logprobs``, or the legacy
    ``top_logprobs[0]`` mapping), with the sampled token itself."""
    logprobs = choice.get("logprobs")
    if not isinstance(logprobs, dict):
        return []
    content = logprobs.get("content")
    pairs: list[tuple[str, float]] = []
    if isinstance(content, list) and content and isinstance(content[0], dict):
        first = content[0]
        listed = [first, *(first.get("top_logprobs") or [])]
        pairs = [(t["token"], float(t["logprob"])) for t in listed if isinstance(t, dict)
                 and isinstance(t.get("token"), str) and isinstance(t.get("logprob"), int | float)]
    legacy = logprobs.get("top_logprobs")
    if not pairs and isinstance(legacy, list) and legacy and isinstance(legacy[0], dict):
        pairs = [(str(k), float(v)) for k, v in legacy[0].items() if isinstance(v, int | float)]
    return list(dict(pairs).items())  # the sampled token is listed twice: once is enough


def _retry_after(headers: Any) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date)."""
    try:
        if headers.get("retry-after-ms"):
            return float(headers["retry-after-ms"]) / 1000
    except ValueError:
        pass
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - datetime.now(UTC)).total_seconds()


def _error_snippet(body: Any) -> str:
    """`` (message)`` from an error body, shortened; empty when there is none."""
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            text = " ".join(body.split())[:200]
            return f" ({text})" if text else ""
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else error
    return f" ({str(message)[:200]})" if message else ""


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
