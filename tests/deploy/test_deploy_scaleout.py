"""The scaled-out deployment end to end, on real servers: a Chroma server (``chroma run``), the
SLM server (``python -m bot.slm_server``) and the shared ledger database (PostgreSQL when
``.ci/run`` started it, else SQLite). The bot is configured for them by settings alone."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from deploy_helpers import copy_samples, postgres_schema_url, scaled_settings
from loopback import free_port

from adapters.slack.settings import SlackSettings
from adapters.teams.settings import TeamsSettings
from bot.answering.responder import Firstline
from bot.app.composition import build_firstline
from bot.app.serve import build_web_app
from bot.ops.logs import JsonFormatter
from bot.settings import Settings
from bot.types import Question, Route

pytestmark = [pytest.mark.slm, pytest.mark.asyncio(loop_scope="module")]

VPN = "it/vpn-password-reset.md"
NEW_FACT = "VPN hardware tokens issued before 2023 must be returned to the service desk."


@pytest.fixture(scope="module")
def shared_ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """PostgreSQL when configured (as in CI), else a SQLite file."""
    try:
        yield from postgres_schema_url()
    except pytest.skip.Exception:
        yield f"sqlite:///{tmp_path_factory.mktemp('ledger') / 'ledger.sqlite3'}"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, chroma_url: str, slm_url: str,
             shared_ledger: str) -> Settings:
    work = tmp_path_factory.mktemp("scaled")
    return scaled_settings(
        work / "data", chroma_url=chroma_url, slm_url=slm_url, ledger_url=shared_ledger,
        collection=f"scaleout-{uuid.uuid4().hex[:8]}",
        knowledge_paths=str(copy_samples(work / "kb")))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def core(settings: Settings) -> AsyncIterator[Firstline]:
    fl = await asyncio.to_thread(build_firstline, settings)
    await asyncio.to_thread(fl.load)
    yield fl
    await fl.aclose()


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Log records as `FIRSTLINE_JSON_LOGS=true` writes them, captured."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(previous)


def _records(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_index_ask_and_reindex_through_the_servers(
        core: Firstline, settings: Settings, json_log: io.StringIO) -> None:
    assert await asyncio.to_thread(core.readiness) == {
        "model_loaded": True, "store_reachable": True}
    summary = await asyncio.to_thread(core.indexing.index)
    assert not summary.failed and len(summary.added) == 37

    question = "How do I reset my VPN password?"
    reply = await core.handle(Question(question, user="U0ASKER", channel="slack"))
    assert reply.route is Route.LOCAL, (reply.reason, reply.text)
    assert VPN in reply.cited and reply.sources[0].path == VPN
    # the served model is named as in-process, with the server's token counts and logprobs
    assert reply.models == ("qwen2.5-coder-0.5b-instruct-q4_k_m",)
    assert reply.tokens[reply.models[0]]["prompt"] > 100
    assert reply.signals["mean_logprob"] is not None and reply.signals["min_logprob"] <= 0
    row = await asyncio.to_thread(core.ledger.get, reply.answer_id)
    assert row is not None and row.route == "local" and row.cost_usd > 0
    assert row.question is None  # FIRSTLINE_LOG_QUESTION_TEXT is off

    [logged] = [r for r in _records(json_log) if r.get("answer_id") == reply.answer_id]
    assert logged["route"] == "local" and logged["latency_ms"] == reply.latency_ms
    assert "VPN password" not in json_log.getvalue()

    vpn_file = Path(settings.knowledge_paths[0]) / VPN
    vpn_file.write_text(vpn_file.read_text() + f"\n\n## Old tokens\n\n{NEW_FACT}\n")
    said: list[str] = []

    async def notify(text: str) -> None:
        said.append(text)

    started = await core.handle(Question("reindex", user="U0ADMIN", is_admin=True), notify)
    assert started.reason == "reindex-started"
    await core.commands.wait_reindex()
    assert said and said[-1].startswith("Reindex finished: 0 added, 1 updated"), said
    found = await asyncio.to_thread(core.searcher.search, NEW_FACT, 3, "en")
    assert found.hits[0].path == VPN and "2023" in found.hits[0].text


async def test_a_second_replica_sees_the_same_index_and_ledger(
        core: Firstline, settings: Settings) -> None:
    replica = build_firstline(settings.replace(data_dir=settings.data_dir / "replica"))
    try:
        assert replica.store.files().keys() == core.store.files().keys()
        before = len(await asyncio.to_thread(replica.ledger.rows))
        await core.handle(Question("help", channel="teams"))
        assert len(await asyncio.to_thread(replica.ledger.rows)) == before + 1
    finally:
        await replica.aclose()


@pytest_asyncio.fixture(loop_scope="module")
async def service(core: Firstline, settings: Settings) -> AsyncIterator[str]:
    """`firstline serve`'s aiohttp app for ``core``, listening on a real socket."""
    # the health routes only: no Slack or Teams, whatever the environment says
    app, _ = build_web_app(core, settings, slack=SlackSettings(), teams=TeamsSettings())
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_health_readiness_and_metrics_over_http(core: Firstline, service: str) -> None:
    await core.handle(Question("help", channel="slack"))
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{service}/healthz") as response:
            assert response.status == 200 and (await response.json())["status"] == "ok"
        async with http.get(f"{service}/readyz") as response:
            assert response.status == 200
            assert await response.json() == {
                "ready": True, "model_loaded": True, "store_reachable": True}
        async with http.get(f"{service}/metrics") as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain")
            text = await response.text()
    assert 'firstline_answers_total{channel="slack",language="en",route="command"}' in text
    assert "firstline_answer_seconds_bucket" in text
    assert "firstline_reindex_runs_total" in text
    chunks = [line for line in text.splitlines() if line.startswith("firstline_index_chunks ")]
    assert chunks and float(chunks[0].split()[1]) > 0


async def test_not_ready_while_the_slm_server_is_down(core: Firstline, settings: Settings,
                                                      tmp_path: Path) -> None:
    dead = settings.replace(slm_url=f"http://127.0.0.1:{free_port()}/v1", data_dir=tmp_path)
    replica = build_firstline(dead)
    try:
        assert await asyncio.to_thread(replica.readiness) == {
            "model_loaded": False, "store_reachable": True}
    finally:
        await replica.aclose()


async def test_question_text_is_logged_only_when_enabled(
        settings: Settings, json_log: io.StringIO, tmp_path: Path) -> None:
    replica = build_firstline(
        settings.replace(log_question_text=True, data_dir=tmp_path))
    try:
        reply = await replica.handle(Question("help", channel="slack"))
    finally:
        await replica.aclose()
    [logged] = [r for r in _records(json_log) if r.get("answer_id") == reply.answer_id]
    assert logged["question"] == "help" and logged["route"] == "command"
