"""A small OpenAI-compatible fake on loopback that records every request (for "nothing was
sent" and "what was sent" assertions). A real aiohttp server on an ephemeral port."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer


class RecordingCloud:
    """Answers ``POST /v1/chat/completions`` with ``text`` (or ``status`` errors), recording
    each JSON body in :attr:`bodies`."""

    def __init__(self, text: str = "Here is the answer [1].", *, status: int = 200,
                 usage: tuple[int, int] = (150, 40)) -> None:
        self.text, self.status, self.usage = text, status, usage
        self.bodies: list[dict[str, Any]] = []
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._handle)
        self.server = TestServer(app, host="127.0.0.1", port=0)

    @property
    def url(self) -> str:
        return str(self.server.make_url("/v1"))

    def sent_text(self) -> str:
        """Every message of every request, as one string."""
        return "\n".join(m["content"] for b in self.bodies for m in b["messages"])

    async def _handle(self, request: web.Request) -> web.Response:
        self.bodies.append(json.loads(await request.read()))
        if self.status != 200:
            return web.json_response({"error": {"message": "boom"}}, status=self.status)
        return web.json_response({
            "id": "chatcmpl-1", "object": "chat.completion", "model": "recorded-cloud",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": self.text}}],
            "usage": {"prompt_tokens": self.usage[0], "completion_tokens": self.usage[1]},
        })

    async def __aenter__(self) -> RecordingCloud:
        await self.server.start_server()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.server.close()


async def model_id(base_url: str) -> str:
    """The id of the first model an OpenAI-compatible server lists (llama.cpp: the GGUF path)."""
    async with aiohttp.ClientSession() as session, session.get(f"{base_url}/models") as response:
        return str((await response.json())["data"][0]["id"])
