"""``ChatModel.complete_streaming`` on each backend but llama.cpp (tests/bot/test_stream_slm.py):
the cloud and the SLM server over server-sent events from a loopback fake, redaction before the
stream, the default for a model that cannot stream, the fake's word pieces."""

from __future__ import annotations

import pytest
from chat_spies import SpyModel
from recording_cloud import FakeOpenAI, http_error, sse

from bot.errors import CloudError
from bot.models.base import Message
from bot.models.cloud import CloudChatModel
from bot.models.fake import FakeChatModel
from bot.models.redacting import Redacting
from bot.models.remote import RemoteSLM

QUESTION = [Message("user", "How do I reset my VPN? Mail me at taro@example.com")]


async def test_the_cloud_sends_each_sse_piece_and_returns_the_usage() -> None:
    pieces: list[str] = []
    async with FakeOpenAI(sse(["Open", " the", " portal"], tokens=(40, 3))) as fake, \
            CloudChatModel(fake.url, "sk-x", "gpt-test", timeout=5.0) as model:
        completion = await model.complete_streaming(QUESTION, pieces.append, max_tokens=9)
    assert pieces == ["Open", " the", " portal"] and completion.text == "Open the portal"
    assert (completion.prompt_tokens, completion.completion_tokens) == (40, 3)
    body = fake.requests[0].body
    assert body["stream"] is True and body["max_tokens"] == 9


async def test_a_stream_cut_midway_raises_after_its_pieces() -> None:
    pieces: list[str] = []
    async with FakeOpenAI(sse(["Open", " the"], done=False)) as fake, \
            CloudChatModel(fake.url, "", "gpt-test", timeout=5.0) as model:
        with pytest.raises(CloudError, match="stream broke|ended early"):
            await model.complete_streaming(QUESTION, pieces.append)
    assert pieces == ["Open", " the"]


async def test_the_slm_server_is_asked_again_without_logprobs_before_any_text() -> None:
    pieces: list[str] = []
    async with FakeOpenAI(http_error(400, message="logprobs not supported"),
                          sse(["Reset", " it"])) as fake:
        model = RemoteSLM(fake.url, "slm", timeout=5.0)
        model.max_retries = 0
        completion = await model.complete_streaming(QUESTION, pieces.append)
        await model.aclose()
    assert pieces == ["Reset", " it"] and completion.text == "Reset it"
    assert fake.requests[0].body["logprobs"] is True and "logprobs" not in fake.requests[1].body
    assert model.want_logprobs is False


async def test_redaction_happens_before_the_stream() -> None:
    inner = FakeChatModel("Done.")
    redacting = Redacting(inner)
    pieces: list[str] = []
    await redacting.complete_streaming(QUESTION, pieces.append)
    assert "taro@example.com" not in inner.last_prompt and redacting.masked
    assert pieces == ["Done."] and inner.streamed == 1


async def test_a_model_that_cannot_stream_sends_its_text_in_one_piece() -> None:
    pieces: list[str] = []
    completion = await SpyModel("Reset it at the portal [1].").complete_streaming(
        QUESTION, pieces.append)
    assert pieces == [completion.text] == ["Reset it at the portal [1]."]


async def test_the_fake_streams_word_by_word() -> None:
    pieces: list[str] = []
    completion = await FakeChatModel("Open the VPN portal [1].").complete_streaming(
        QUESTION, pieces.append)
    assert pieces == ["Open", " the", " VPN", " portal", " [1]."]
    assert "".join(pieces) == completion.text
