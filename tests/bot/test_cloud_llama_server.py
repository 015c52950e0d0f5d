"""CloudChatModel against a real OpenAI-compatible server: llama-cpp-python's, on loopback."""

from __future__ import annotations

import logging

import aiohttp
import pytest

from bot.models.base import Message
from bot.models.cloud import CloudChatModel

pytestmark = pytest.mark.slm


async def _model(base_url: str) -> CloudChatModel:
    """A client for the first model the server lists (its id is the GGUF path or an alias)."""
    async with aiohttp.ClientSession() as session, session.get(f"{base_url}/models") as response:
        listed = await response.json()
    return CloudChatModel(base_url, "sk-local-test", listed["data"][0]["id"],
                          timeout=120.0, max_retries=1)


def _ask(text: str) -> list[Message]:
    return [Message("system", "You are a helpful IT helpdesk assistant. Answer in one sentence."),
            Message("user", text)]


async def test_complete_returns_text_with_real_usage(
        llama_server_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.models.cloud")
    async with await _model(llama_server_url) as model:
        answer = await model.complete(_ask("What does VPN stand for?"), max_tokens=48)
    assert answer.text.strip()
    assert answer.prompt_tokens > 10 and 0 < answer.completion_tokens <= 48
    assert "no token usage" not in caplog.text  # the server's own counts, not an estimate
    assert answer.finish_reason in {"stop", "length"} and answer.seconds > 0


async def test_stream_yields_pieces_and_a_completion(llama_server_url: str) -> None:
    async with await _model(llama_server_url) as model:
        stream = model.stream_completion(_ask("Name three web browsers."), max_tokens=40)
        pieces = [piece async for piece in stream]
        streamed = [p async for p in model.stream(_ask("Say hello."), max_tokens=8)]
    assert len(pieces) > 1 and "".join(pieces).strip()
    assert stream.completion is not None and stream.completion.text == "".join(pieces)
    assert stream.completion.completion_tokens > 0
    assert streamed and "".join(streamed).strip()


async def test_japanese_prompt(llama_server_url: str) -> None:
    async with await _model(llama_server_url) as model:
        answer = await model.complete(
            [Message("system", "あなたは社内ヘルプデスクです。日本語で一文で答えてください。"),
             Message("user", "日本の首都はどこですか？")], max_tokens=40)
    assert answer.text.strip() and answer.prompt_tokens > 10
    assert any("\u3040" <= ch <= "\u9fff" for ch in answer.text), answer.text  # kana or kanji
