"""A small OpenAI-compatible fake on loopback — a real aiohttp server on an ephemeral port —
that answers ``POST /v1/chat/completions`` with scripted behaviours and records every request
(for "what was sent" and "nothing was sent" assertions)."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

Behaviour = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Seen:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    at: float


class FakeOpenAI:
    """Answers ``POST /v1/chat/completions`` with scripted behaviours; the last one repeats."""

    def __init__(self, *script: Behaviour) -> None:
        self.script = list(script) or [ok()]
        self.requests: list[Seen] = []
        self.release = asyncio.Event()  # ends hanging handlers so the server can shut down
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._handle)
        self.server = TestServer(app, host="127.0.0.1", port=0)

    @property
    def url(self) -> str:
        return str(self.server.make_url("/v1"))

    def gaps(self) -> list[float]:
        """Seconds between successive requests."""
        times = [r.at for r in self.requests]
        return [b - a for a, b in zip(times, times[1:], strict=False)]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = json.loads(await request.read())
        self.requests.append(Seen(request.path, dict(request.query), dict(request.headers), body,
                                  time.monotonic()))
        behaviour = self.script[min(len(self.requests), len(self.script)) - 1]
        return await behaviour(request)

    async def __aenter__(self) -> FakeOpenAI:
        await self.server.start_server()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release.set()
        await self.server.close()


# --- behaviours -----------------------------------------------------------------------------
def ok(text: str = "Open the VPN app and press Reset.", *, usage: bool = True,
       tokens: tuple[int, int] = (21, 9), model: str = "gpt-fake-2024",
       logprobs: list[float] | None = None) -> Behaviour:
    async def answer(request: web.Request) -> web.StreamResponse:
        choice: dict[str, Any] = {"index": 0, "finish_reason": "stop",
                                  "message": {"role": "assistant", "content": text}}
        if logprobs is not None:
            choice["logprobs"] = {"content": [{"token": "x", "logprob": v} for v in logprobs]}
        data: dict[str, Any] = {"id": "chatcmpl-1", "object": "chat.completion",
                                "model": model, "choices": [choice]}
        if usage:
            data["usage"] = {"prompt_tokens": tokens[0], "completion_tokens": tokens[1],
                             "total_tokens": sum(tokens)}
        return web.json_response(data)
    return answer


def http_error(code: int, headers: dict[str, str] | None = None,
               message: str = "nope") -> Behaviour:
    async def answer(request: web.Request) -> web.StreamResponse:
        return web.json_response({"error": {"message": message}}, status=code, headers=headers)
    return answer


def sse(pieces: list[str], *, usage: bool = True, done: bool = True,
        model: str = "gpt-fake-2024", gap: float = 0.0,
        tokens: tuple[int, int] | None = None) -> Behaviour:
    """Server-sent events as OpenAI streams them: a role chunk, one chunk per piece (``gap``
    seconds apart), the finish chunk, a usage chunk, ``[DONE]``; ``done=False`` cuts the
    connection after the pieces."""
    async def answer(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        base: dict[str, Any] = {"id": "chatcmpl-2", "object": "chat.completion.chunk",
                                "model": model}
        first = {**base, "choices": [{"index": 0, "delta": {"role": "assistant"}}]}
        chunks: list[dict[str, Any]] = [first]
        chunks += [{**base, "choices": [{"index": 0, "delta": {"content": p}}]} for p in pieces]
        if done:
            chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
            if usage:
                prompt, completion = tokens or (30, len(pieces))
                chunks.append({**base, "choices": [], "usage": {
                    "prompt_tokens": prompt, "completion_tokens": completion,
                    "total_tokens": prompt + completion}})
        for chunk in chunks:
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
            await asyncio.sleep(gap)
        if not done:  # cut the stream mid-answer
            assert request.transport is not None
            request.transport.abort()
            return response
        await response.write(b": keep-alive comment\n\ndata: [DONE]\n\n")
        await response.write_eof()
        return response
    return answer


def words(text: str) -> list[str]:
    """``text`` in word pieces as a model streams it ("Open", " the", " VPN" …)."""
    return re.findall(r"\s*\S+", text)


def ok_or_sse(text: str, *, tokens: tuple[int, int], model: str) -> Behaviour:
    """``ok`` for a plain request, ``sse`` of ``text``'s words for ``"stream": true``."""
    plain = ok(text, tokens=tokens, model=model)
    streamed = sse(words(text), model=model, tokens=tokens)

    async def answer(request: web.Request) -> web.StreamResponse:
        body = json.loads(await request.read())
        return await (streamed if body.get("stream") else plain)(request)
    return answer


class RecordingCloud(FakeOpenAI):
    """Always answers ``text`` (streamed when asked to; or, with ``status``, fails with that
    HTTP status)."""

    def __init__(self, text: str = "Here is the answer [1].", *, status: int = 200,
                 usage: tuple[int, int] = (150, 40)) -> None:
        super().__init__(ok_or_sse(text, tokens=usage, model="recorded-cloud") if status == 200
                         else http_error(status, message="boom"))

    @property
    def bodies(self) -> list[dict[str, Any]]:
        """The JSON body of every request, in order."""
        return [seen.body for seen in self.requests]

    def sent_text(self) -> str:
        """Every message of every request, as one string."""
        return "\n".join(m["content"] for b in self.bodies for m in b["messages"])


async def model_id(base_url: str) -> str:
    """The id of the first model an OpenAI-compatible server lists (llama.cpp: the GGUF path)."""
    async with aiohttp.ClientSession() as session, session.get(f"{base_url}/models") as response:
        return str((await response.json())["data"][0]["id"])
