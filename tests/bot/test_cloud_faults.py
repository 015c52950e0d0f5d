"""CloudChatModel against a small fake OpenAI server on loopback, one fault at a time.

The fake (recording_cloud.FakeOpenAI) is a real aiohttp server on an ephemeral port. Each test
scripts the answers to
successive requests and asserts on what the client posted (headers, JSON body, timing).
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from recording_cloud import Behaviour, FakeOpenAI, http_error, ok, sse

from bot.errors import CloudError, UserFacingError
from bot.models.base import Message
from bot.models.cloud import CloudChatModel
from bot.settings import Settings

KEY = "sk-test-SECRET0123456789"
QUESTION = [Message("system", "Answer briefly."), Message("user", "How do I reset my VPN?")]


# --- behaviours beyond recording_cloud's ok() and http_error() -------------------------------
def raw(body: str) -> Behaviour:
    async def answer(request: web.Request) -> web.StreamResponse:
        return web.Response(text=body, content_type="application/json")
    return answer


def hang(fake: list[FakeOpenAI]) -> Behaviour:
    async def answer(request: web.Request) -> web.StreamResponse:
        await fake[0].release.wait()
        return web.json_response({})
    return answer


def drop() -> Behaviour:
    async def answer(request: web.Request) -> web.StreamResponse:
        assert request.transport is not None
        request.transport.abort()  # the client sees the connection vanish, no response at all
        await asyncio.sleep(0.05)
        return web.Response()
    return answer


def client(fake: FakeOpenAI, **options: Any) -> CloudChatModel:
    defaults: dict[str, Any] = {"timeout": 5.0, "max_retries": 2, "backoff": 0.01,
                                "max_backoff": 2.0}
    return CloudChatModel(fake.url, KEY, "gpt-test", **(defaults | options))


# --- normal answers ---------------------------------------------------------------------------
async def test_complete_posts_model_messages_and_bearer_key() -> None:
    async with FakeOpenAI(ok()) as fake, client(fake) as model:
        answer = await model.complete(QUESTION, max_tokens=64)
    [seen] = fake.requests
    assert seen.path == "/v1/chat/completions"
    assert seen.headers["Authorization"] == f"Bearer {KEY}"
    assert seen.body == {
        "model": "gpt-test",
        "messages": [{"role": "system", "content": "Answer briefly."},
                     {"role": "user", "content": "How do I reset my VPN?"}],
        "max_tokens": 64, "temperature": 0}
    assert answer.text == "Open the VPN app and press Reset."
    assert answer.model == "gpt-fake-2024"
    assert (answer.prompt_tokens, answer.completion_tokens) == (21, 9)
    assert answer.finish_reason == "stop"
    assert answer.mean_logprob is None and 0 < answer.seconds < 5


async def test_missing_usage_is_estimated_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.models.cloud")
    async with FakeOpenAI(ok("VPNアプリを再起動してください。", usage=False)) as fake, \
            client(fake) as model:
        answer = await model.complete(QUESTION)
    assert answer.prompt_tokens > 0 and answer.completion_tokens >= 10  # kana count ~1 each
    assert "no token usage; estimated" in caplog.text


async def test_logprobs_are_requested_only_when_wanted_and_summarised() -> None:
    async with FakeOpenAI(ok(logprobs=[-0.5, -0.1, -2.0])) as fake, \
            client(fake, want_logprobs=True) as model:
        answer = await model.complete(QUESTION)
    assert fake.requests[0].body["logprobs"] is True
    assert answer.mean_logprob == pytest.approx(-2.6 / 3)
    assert answer.min_logprob == pytest.approx(-2.0)


async def test_base_url_query_is_kept_and_empty_key_sends_no_authorization() -> None:
    async with FakeOpenAI(ok()) as fake:
        model = CloudChatModel(fake.url + "?api-version=2025-04-01", "", "gpt-test")
        async with model:
            await model.complete(QUESTION)
    assert fake.requests[0].query == {"api-version": "2025-04-01"}
    assert "Authorization" not in fake.requests[0].headers


# --- retries ------------------------------------------------------------------------------------
async def test_429_waits_as_long_as_retry_after_says(caplog: pytest.LogCaptureFixture) -> None:
    async with FakeOpenAI(http_error(429, {"Retry-After": "1"}), ok()) as fake, \
            client(fake) as model:
        answer = await model.complete(QUESTION)
    assert answer.text and len(fake.requests) == 2
    assert 0.95 <= fake.gaps()[0] <= 1.6
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "HTTP 429" in warning.getMessage() and "in 1.00s" in warning.getMessage()


async def test_retry_after_is_capped_by_max_backoff() -> None:
    async with FakeOpenAI(http_error(429, {"Retry-After": "120"}), ok()) as fake, \
            client(fake, max_backoff=0.3) as model:
        await model.complete(QUESTION)
    assert 0.25 <= fake.gaps()[0] <= 0.9


async def test_retry_after_as_http_date() -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=2), usegmt=True)
    async with FakeOpenAI(http_error(503, {"Retry-After": when}), ok()) as fake, \
            client(fake) as model:
        await model.complete(QUESTION)
    assert 0.8 <= fake.gaps()[0] <= 2.6  # the date has whole seconds


async def test_500_then_success() -> None:
    async with FakeOpenAI(http_error(500), ok()) as fake, client(fake) as model:
        answer = await model.complete(QUESTION)
    assert answer.prompt_tokens == 21 and len(fake.requests) == 2


async def test_persistent_503_gives_up_after_one_plus_max_retries() -> None:
    async with FakeOpenAI(http_error(503, message="overloaded")) as fake, \
            client(fake, max_retries=2) as model:
        started = time.monotonic()
        with pytest.raises(CloudError, match=r"HTTP 503 \(overloaded\).*3 attempts"):
            await model.complete(QUESTION)
    assert len(fake.requests) == 3
    assert time.monotonic() - started < 2


async def test_backoff_grows_exponentially_with_jitter() -> None:
    async with FakeOpenAI(http_error(502)) as fake, \
            client(fake, max_retries=3, backoff=0.2, max_backoff=0.5) as model:
        with pytest.raises(CloudError):
            await model.complete(QUESTION)
    first, second, third = fake.gaps()
    assert 0.1 <= first <= 0.45 and 0.2 <= second <= 0.65 and 0.25 <= third <= 0.75


async def test_hang_past_the_timeout_is_bounded() -> None:
    holder: list[FakeOpenAI] = []
    async with FakeOpenAI(hang(holder)) as fake, \
            client(fake, timeout=0.3, max_retries=1) as model:
        holder.append(fake)
        started = time.monotonic()
        with pytest.raises(CloudError, match="timed out"):
            await model.complete(QUESTION)
        assert time.monotonic() - started < 1.5
    assert len(fake.requests) == 2


async def test_dropped_connection_is_retried() -> None:
    async with FakeOpenAI(drop(), ok()) as fake, client(fake) as model:
        answer = await model.complete(QUESTION)
    assert answer.text and len(fake.requests) == 2


async def test_connection_dropped_every_time_is_a_cloud_error() -> None:
    async with FakeOpenAI(drop()) as fake, client(fake, max_retries=1) as model:
        with pytest.raises(CloudError, match="2 attempts"):
            await model.complete(QUESTION)
    assert len(fake.requests) == 2


async def test_nothing_listening_is_a_cloud_error() -> None:
    async with FakeOpenAI() as fake:
        url = fake.url
    async with CloudChatModel(url, KEY, "gpt-test", max_retries=1, backoff=0.01) as model:
        with pytest.raises(CloudError, match="ClientConnectorError"):
            await model.complete(QUESTION)


# --- failures that are not retried ------------------------------------------------------------
async def test_401_is_not_retried_and_the_key_never_shows(
        caplog: pytest.LogCaptureFixture) -> None:
    echo = http_error(401, message=f"Incorrect API key provided: {KEY}")
    async with FakeOpenAI(echo) as fake, client(fake) as model:
        with pytest.raises(CloudError, match="HTTP 401") as caught:
            await model.complete(QUESTION)
    assert len(fake.requests) == 1
    assert KEY not in str(caught.value) and "SECRET" not in str(caught.value)
    assert KEY not in caplog.text


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", '{"choices": []}',
                                  '{"error": {"message": "upstream broke"}}'])
async def test_malformed_answers_are_cloud_errors_without_retry(body: str) -> None:
    async with FakeOpenAI(raw(body)) as fake, client(fake) as model:
        with pytest.raises(CloudError):
            await model.complete(QUESTION)
    assert len(fake.requests) == 1


async def test_503_error_body_does_not_leak_the_key_in_warnings(
        caplog: pytest.LogCaptureFixture) -> None:
    async with FakeOpenAI(http_error(503, message=f"bad key {KEY}"), ok()) as fake, \
            client(fake) as model:
        await model.complete(QUESTION)
    assert "HTTP 503" in caplog.text and KEY not in caplog.text


# --- streaming ----------------------------------------------------------------------------------
async def test_stream_yields_text_and_final_usage() -> None:
    async with FakeOpenAI(sse(["VPN", "を", "再起動"])) as fake, client(fake) as model:
        stream = model.stream_completion(QUESTION, max_tokens=32)
        pieces = [piece async for piece in stream]
    assert pieces == ["VPN", "を", "再起動"]
    body = fake.requests[0].body
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["max_tokens"] == 32 and body["messages"][1]["content"] == "How do I reset my VPN?"
    assert fake.requests[0].headers["Authorization"] == f"Bearer {KEY}"
    assert stream.completion is not None
    assert stream.completion.text == "VPNを再起動"
    assert (stream.completion.prompt_tokens, stream.completion.completion_tokens) == (30, 3)
    assert stream.completion.model == "gpt-fake-2024"


async def test_stream_convenience_iterator() -> None:
    async with FakeOpenAI(sse(["a", "b"])) as fake, client(fake) as model:
        assert [p async for p in model.stream(QUESTION)] == ["a", "b"]


async def test_stream_without_usage_estimates_tokens() -> None:
    async with FakeOpenAI(sse(["Hello", " world"], usage=False)) as fake, \
            client(fake, stream_usage=False) as model:
        stream = model.stream_completion(QUESTION)
        assert "".join([p async for p in stream]) == "Hello world"
    assert "stream_options" not in fake.requests[0].body
    assert stream.completion is not None and stream.completion.completion_tokens > 0


async def test_stream_retries_before_the_first_piece() -> None:
    async with FakeOpenAI(http_error(503), sse(["ok"])) as fake, client(fake) as model:
        assert [p async for p in model.stream(QUESTION)] == ["ok"]
    assert len(fake.requests) == 2


async def test_stream_cut_midway_is_a_cloud_error_after_the_pieces() -> None:
    received: list[str] = []
    async with FakeOpenAI(sse(["one", "two"], done=False)) as fake, client(fake) as model:
        with pytest.raises(CloudError):
            async for piece in model.stream(QUESTION):
                received.append(piece)
    assert received == ["one", "two"] and len(fake.requests) == 1


async def test_stream_stopped_early_releases_the_connection() -> None:
    async with FakeOpenAI(sse(["a", "b", "c"]), ok()) as fake, client(fake) as model:
        async with model.stream_completion(QUESTION) as stream:
            async for _ in stream:
                break
        assert stream.completion is None
        assert (await model.complete(QUESTION)).text  # the session still works


# --- sessions and settings ----------------------------------------------------------------------
async def test_a_session_passed_in_is_shared_and_left_open() -> None:
    async with FakeOpenAI(ok()) as fake, aiohttp.ClientSession() as session:
        model = CloudChatModel(fake.url, KEY, "gpt-test", session=session)
        await model.complete(QUESTION)
        await model.aclose()
        assert not session.closed


async def test_from_settings() -> None:
    async with FakeOpenAI(ok()) as fake:
        settings = Settings(cloud_url=fake.url, cloud_api_key=KEY, cloud_model="gpt-x",
                            cloud_timeout=3.0, cloud_max_retries=0)
        async with CloudChatModel.from_settings(settings) as model:
            await model.complete(QUESTION)
        assert model.max_retries == 0 and fake.requests[0].body["model"] == "gpt-x"
    with pytest.raises(UserFacingError):
        CloudChatModel.from_settings(Settings(cloud_url=""))
