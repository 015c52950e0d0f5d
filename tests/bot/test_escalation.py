"""Escalation through the real core, against a real OpenAI-compatible server (llama.cpp's, with
the default GGUF standing in for the cloud) and a recording fake for "what was sent" checks.

The local SLM is the same real llama.cpp server, reached as FIRSTLINE_SLM_URL would reach it;
retrieval runs on the sample knowledge base (hr/salary-bands.md is ``confidential: true`` and for
the hr group).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from recording_cloud import RecordingCloud, model_id

from bot.answering.escalation import NOTICE_BUDGET, NOTICE_CONFIDENTIAL, NOTICE_DOWN
from bot.answering.responder import Firstline
from bot.ledger.pricing import Pricing
from bot.ledger.rows import LedgerRow
from bot.ledger.store import Ledger
from bot.models.base import ChatModel
from bot.models.cloud import CloudChatModel
from bot.routing.router import RuleRouter
from bot.settings import Settings
from bot.types import Question, Route

pytestmark = pytest.mark.slm

GUIDE = "Write a step-by-step guide to resetting my VPN password"


async def local_slm(base_url: str) -> CloudChatModel:
    return CloudChatModel(base_url, "", await model_id(base_url), timeout=600.0,
                          want_logprobs=True)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite3'}") as led:
        yield led


def build(tmp_path: Path, sample_kb: tuple[object, object], ledger: Ledger, *, local: ChatModel,
          cloud: ChatModel | None, **overrides: object) -> Firstline:
    store, embeddings = sample_kb
    settings = Settings.load({"data_dir": tmp_path, **overrides}, environ={},
                             config_file=tmp_path / "absent.toml")
    return Firstline(settings, local=local, store=store, embeddings=embeddings,  # type: ignore[arg-type]
                     ledger=ledger, router=RuleRouter(), cloud=cloud)


async def shut(core: Firstline) -> None:
    await core.aclose()
    await core.local.aclose()  # type: ignore[attr-defined]  # the SLM's client session


async def test_the_cloud_answer_is_used_with_tokens_cost_and_one_ledger_row(
        llama_server_url: str, sample_kb: tuple[object, object], ledger: Ledger,
        tmp_path: Path) -> None:
    cloud = CloudChatModel(llama_server_url, "sk-test", await model_id(llama_server_url),
                           timeout=600.0, max_retries=0)
    core = build(tmp_path, sample_kb, ledger, local=await local_slm(llama_server_url),
                 cloud=cloud)
    reply = await core.handle(Question(GUIDE, user="u1", channel="slack"))
    await shut(core)

    assert (reply.route, reply.reason) == (Route.CLOUD, "long-form"), reply.text
    assert reply.text.strip() and reply.covered
    [(name, used)] = reply.tokens.items()
    assert name == cloud.model and used["prompt"] > 200 and used["completion"] > 0
    expected = Pricing.from_settings(core.settings).cloud_cost(used["prompt"], used["completion"])
    assert reply.cost_usd == pytest.approx(expected) and reply.cost_usd > 0
    [row] = ledger.rows()
    assert (row.answer_id, row.route, row.reason) == (reply.answer_id, "cloud", "long-form")
    assert row.tokens == reply.tokens and row.cost_usd == pytest.approx(reply.cost_usd)
    assert ledger.cloud_spend(datetime(2000, 1, 1, tzinfo=UTC)) == pytest.approx(reply.cost_usd)


async def test_a_spent_budget_keeps_the_answer_local_and_sends_nothing(
        llama_server_url: str, sample_kb: tuple[object, object], ledger: Ledger,
        tmp_path: Path) -> None:
    ledger.record(LedgerRow("earlier", datetime.now(UTC), "slack", "x", "", "cloud", "long-form",
                            {}, ["gpt"], {}, 900.0, 0.75, 0.75, []))
    async with RecordingCloud() as recording:
        core = build(tmp_path, sample_kb, ledger, local=await local_slm(llama_server_url),
                     cloud=CloudChatModel(recording.url, "sk-test", "gpt-4o-mini"),
                     budget_daily_usd=0.5)
        reply = await core.handle(Question(GUIDE, user="u2"))
        await shut(core)
    assert recording.bodies == []
    assert (reply.route, reply.reason) == (Route.LOCAL, "long-form")
    assert reply.notice == NOTICE_BUDGET["en"] and reply.text.strip()
    assert reply.signals["cloud_skipped"] == "budget"
    rows = ledger.rows()
    assert [r.answer_id for r in rows] == ["earlier", reply.answer_id]
    assert rows[1].signals["cloud_skipped"] == "budget" and rows[1].cost_usd < 0.01


async def test_confidential_evidence_never_leaves(
        llama_server_url: str, sample_kb: tuple[object, object], ledger: Ledger,
        tmp_path: Path) -> None:
    async with RecordingCloud() as recording:
        core = build(tmp_path, sample_kb, ledger, local=await local_slm(llama_server_url),
                     cloud=CloudChatModel(recording.url, "sk-test", "gpt-4o-mini"))
        reply = await core.handle(Question("Summarize the salary bands by level", user="u3",
                                           groups=frozenset({"hr"})))  # its audience
        await shut(core)
    assert recording.bodies == []  # nothing at all, so nothing of salary-bands.md
    assert "hr/salary-bands.md" in [s.path for s in reply.sources]
    assert reply.route in (Route.LOCAL, Route.DECLINED)  # on-prem either way
    assert reply.signals["cloud_skipped"] == "confidential"
    if reply.route is Route.LOCAL:
        assert reply.notice == NOTICE_CONFIDENTIAL["en"]
    [row] = ledger.rows()
    assert row.signals["cloud_skipped"] == "confidential" and row.route == reply.route.value


async def test_a_failing_cloud_falls_back_to_the_local_answer(
        llama_server_url: str, sample_kb: tuple[object, object], ledger: Ledger,
        tmp_path: Path) -> None:
    async with RecordingCloud(status=500) as recording:
        cloud = CloudChatModel(recording.url, "sk-test", "gpt-4o-mini", max_retries=1,
                               backoff=0.01)
        core = build(tmp_path, sample_kb, ledger, local=await local_slm(llama_server_url),
                     cloud=cloud)
        reply = await core.handle(Question(GUIDE, user="u4"))
        await shut(core)
    assert len(recording.bodies) == 2  # the first try and one retry
    assert (reply.route, reply.reason) == (Route.LOCAL_FALLBACK, "long-form")
    assert reply.text.strip() and reply.notice == NOTICE_DOWN["en"]
    assert "HTTP 500" in reply.signals["cloud_error"]
    [row] = ledger.rows()
    assert (row.answer_id, row.route) == (reply.answer_id, "local-fallback")


async def test_personal_data_is_masked_before_it_reaches_the_cloud(
        llama_server_url: str, sample_kb: tuple[object, object], ledger: Ledger,
        tmp_path: Path) -> None:
    question = ("Write a short reply to jane.doe@example.com (phone +1 415 555 0199) about "
                "resetting her VPN password")
    async with RecordingCloud("Reset it at the self-service portal [1].") as recording:
        core = build(tmp_path, sample_kb, ledger, local=await local_slm(llama_server_url),
                     cloud=CloudChatModel(recording.url, "sk-test", "gpt-4o-mini"))
        reply = await core.handle(Question(question, user="u5"))
        await shut(core)
    assert reply.route is Route.CLOUD and reply.text == "Reset it at the self-service portal [1]."
    sent = recording.sent_text()
    assert "jane.doe@example.com" not in sent and "555 0199" not in sent
    assert "[EMAIL]" in sent and "[PHONE]" in sent
    assert reply.signals["redacted"] >= 2


async def test_a_multi_part_question_is_decomposed_for_the_cloud(
        llama_server_url: str, sample_kb: tuple[object, object], ledger: Ledger,
        tmp_path: Path) -> None:
    question = "How do I reset my VPN password? And what is the guest Wi-Fi network called?"
    async with RecordingCloud("Use the portal [1]; the guest network is NW-Guest [2].") as rec:
        core = build(tmp_path, sample_kb, ledger, local=await local_slm(llama_server_url),
                     cloud=CloudChatModel(rec.url, "sk-test", "gpt-4o-mini"))
        reply = await core.handle(Question(question, user="u6"))
        await shut(core)
    assert (reply.route, reply.reason) == (Route.CLOUD, "multi-part")
    assert reply.signals["sub_queries"] >= 2
    assert reply.signals["decomposition"] in ("model", "rules")
    [body] = rec.bodies
    prompt = body["messages"][-1]["content"]
    # each part's passages: the VPN reset steps and the Wi-Fi networks, NW-Guest among them
    assert "id.northwind.example/reset" in prompt and "nw-guest" in prompt.lower()
    assert reply.cited
