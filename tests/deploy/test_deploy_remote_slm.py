"""The remote SLM's edges, against a small OpenAI-compatible server on a real socket: the served
model's name, readiness, and a server that refuses logprobs (as llama_cpp.server does when
started with ``--logits_all false``)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
from aiohttp import web
from loopback import free_port

from bot.models.base import Message
from bot.models.factory import local_model_from_settings
from bot.models.remote import RemoteSLM
from bot.settings import Settings
from bot.slm_server import server_command

GGUF_ID = "/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"  # how a bare llama_cpp.server lists it


class PickyServer:
    """Answers chat completions with usage; 500 for any request asking for logprobs."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    async def models(self, _: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": GGUF_ID, "object": "model"}]})

    async def chat(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.bodies.append(body)
        if body.get("logprobs"):
            return web.json_response({"error": {"message": "logprobs is not supported for "
                                                "models created with logits_all=False"}},
                                     status=500)
        return web.json_response({
            "model": body["model"], "usage": {"prompt_tokens": 21, "completion_tokens": 3},
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                         "message": {"role": "assistant", "content": "Use the portal."}}]})


@pytest_asyncio.fixture(loop_scope="function")
async def picky() -> AsyncIterator[tuple[PickyServer, str]]:
    server = PickyServer()
    app = web.Application()
    app.add_routes([web.get("/v1/models", server.models),
                    web.post("/v1/chat/completions", server.chat)])
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield server, f"http://127.0.0.1:{port}/v1"
    await runner.cleanup()


async def test_ready_learns_the_served_model_name(picky: tuple[PickyServer, str]) -> None:
    _, url = picky
    model = local_model_from_settings(Settings(slm_url=url))
    assert isinstance(model, RemoteSLM) and model.name == "local-slm"
    assert await asyncio.to_thread(model.ready)  # /readyz calls it off the event loop
    assert model.name == "qwen2.5-coder-0.5b-instruct-q4_k_m"  # as in-process names it
    dead = RemoteSLM(f"http://127.0.0.1:{free_port()}/v1", "", timeout=5.0)
    assert not await asyncio.to_thread(dead.ready)


async def test_a_server_without_logprobs_still_answers(picky: tuple[PickyServer, str]) -> None:
    server, url = picky
    model = RemoteSLM(url, "", timeout=5.0)
    model.backoff = 0.01
    try:
        first = await model.complete([Message("user", "VPN?")], max_tokens=8)
        second = await model.complete([Message("user", "Wi-Fi?")], max_tokens=8)
    finally:
        await model.aclose()
    assert first.text == "Use the portal." and first.prompt_tokens == 21
    assert first.mean_logprob is None and second.mean_logprob is None
    asked = [bool(b.get("logprobs")) for b in server.bodies]
    assert asked[0] is True and asked[-2:] == [False, False]  # asked once, then never again


def test_slm_server_command_follows_the_slm_settings(tmp_path: Path) -> None:
    model = tmp_path / "qwen.gguf"
    settings = Settings(slm_context=2048, slm_threads=3)
    command = server_command(settings, model, "0.0.0.0", 8080)
    assert command[1:3] == ["-m", "llama_cpp.server"]
    options = dict(zip(command[3::2], command[4::2], strict=True))
    assert options == {"--model": str(model), "--model_alias": "qwen", "--host": "0.0.0.0",
                       "--port": "8080", "--n_ctx": "2048", "--verbose": "false",
                       "--n_threads": "3", "--logits_all": "true"}
    fast = server_command(Settings(), model, "127.0.0.1", 8080, logprobs=False)
    assert fast[-2:] == ["--logits_all", "false"]
    assert fast[fast.index("--n_threads") + 1] == str(os.cpu_count())  # 0: all cores
