"""The answer path step by step, on fakes (no model file, no model server): routing, escalation,
budget, confidentiality, redaction, decomposition, failures, and one ledger row per answer.

The same behaviour is tested end to end on the real GGUF and a real OpenAI-compatible server in
test_escalation.py and test_core_answers.py; these tests pin down each decision quickly.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from unit_parts import ANSWER, SALARY_HIT, VPN, VPN_HIT, WIFI, WIFI_HIT, ask, make_core

from bot.answering.escalation import NOTICE_BUDGET, NOTICE_CONFIDENTIAL, NOTICE_DOWN
from bot.errors import CloudError
from bot.ledger.memory import MemoryLedger
from bot.ledger.rows import LedgerRow
from bot.models.fake import FakeChatModel
from bot.types import Route
from knowledge.fakes import StaticSearcher, hit

GUIDE = "Write a step-by-step guide to resetting my VPN password"
CLOUD_ANSWER = "1. Open the VPN portal. 2. Choose Reset password [1]."


def cloud_model(*script: object) -> FakeChatModel:
    return FakeChatModel(list(script) or [CLOUD_ANSWER], name="cloud-model")  # type: ignore[arg-type]


async def test_a_confident_local_answer_cites_its_passage_and_writes_one_row(
        tmp_path: Path) -> None:
    ledger = MemoryLedger()
    core = make_core(tmp_path, ledger=ledger)
    reply = await ask(core, "How do I reset my VPN password?")
    assert (reply.route, reply.reason, reply.covered) == (Route.LOCAL, "confident", True)
    assert reply.cited == (VPN,) and [s.path for s in reply.sources] == [VPN, WIFI]
    assert reply.models == ("local-slm",) and reply.tokens["local-slm"]["completion"] > 0
    assert reply.cost_usd == pytest.approx(0.01 * core.settings.onprem_usd_per_second)
    [row] = ledger.rows()
    assert (row.answer_id, row.route, row.tokens) == (reply.answer_id, "local", reply.tokens)
    assert row.question is None  # question text is not kept unless asked for


async def test_weak_evidence_is_declined_before_any_model_runs(tmp_path: Path) -> None:
    local = FakeChatModel(ANSWER)
    weak = hit("it/printers.md", "Printers are on every floor.", dense=0.1, lexical=0.5)
    core = make_core(tmp_path, local=local, searcher=StaticSearcher([weak], coverage=0.2))
    reply = await ask(core, "What is on the cafeteria menu on Friday?")
    assert (reply.route, reply.reason, reply.covered) == (Route.DECLINED, "weak-evidence", False)
    assert "helpdesk" in reply.text and local.requests == []


async def test_a_long_form_request_goes_to_the_cloud_without_a_local_draft(
        tmp_path: Path) -> None:
    local, cloud = FakeChatModel(ANSWER), cloud_model()
    core = make_core(tmp_path, local=local, cloud=cloud)
    reply = await ask(core, GUIDE)
    assert (reply.route, reply.reason) == (Route.CLOUD, "long-form")
    assert reply.text == CLOUD_ANSWER and reply.cited == (VPN,)
    assert local.requests == [] and len(cloud.requests) == 1
    assert reply.models == ("cloud-model",)
    used = reply.tokens["cloud-model"]
    assert reply.cost_usd == pytest.approx(core.pricing.cloud_cost(used["prompt"],
                                                                   used["completion"]))
    assert reply.signals["escalation_wanted"] == "long-form"


async def test_a_low_confidence_draft_is_escalated_and_both_models_are_counted(
        tmp_path: Path) -> None:
    local = FakeChatModel(ANSWER, name="local-slm", mean_logprob=-2.0)
    cloud = cloud_model()
    core = make_core(tmp_path, local=local, cloud=cloud)
    reply = await ask(core, "How do I reset my VPN password?")
    assert (reply.route, reply.reason) == (Route.CLOUD, "low-confidence")
    assert reply.models == ("local-slm", "cloud-model")
    assert set(reply.tokens) == {"local-slm", "cloud-model"}
    assert reply.signals["mean_logprob"] == -2.0 and reply.signals["slm_covered"] is True


async def test_a_failing_cloud_falls_back_to_the_local_draft(tmp_path: Path) -> None:
    ledger = MemoryLedger()
    cloud = cloud_model(CloudError("cloud model cloud-model: HTTP 503 after 3 attempts"))
    core = make_core(tmp_path, cloud=cloud, ledger=ledger, abstention_config="off",
                     local=FakeChatModel(ANSWER, name="local-slm", mean_logprob=-2.0))
    # the router's low-confidence escalation alone (the abstention model would decline an
    # unsure draft the cloud cannot check: test_verify covers that)
    reply = await ask(core, "How do I reset my VPN password?")
    assert (reply.route, reply.reason) == (Route.LOCAL_FALLBACK, "low-confidence")
    assert reply.text == (f"{ANSWER}\n> Open the VPN portal and choose Reset password.\n"
                          f"> — {VPN_HIT.title}")  # the lead, then the passage's own line
    assert reply.notice == NOTICE_DOWN["en"]
    assert "503" in reply.signals["cloud_error"] and reply.models == ("local-slm",)
    assert len(ledger.rows()) == 1


async def test_a_failing_cloud_for_a_rule_escalation_drafts_locally_then(tmp_path: Path) -> None:
    local = FakeChatModel(ANSWER, name="local-slm")
    core = make_core(tmp_path, local=local, cloud=cloud_model(CloudError("down")))
    reply = await ask(core, GUIDE)
    assert (reply.route, reply.reason) == (Route.LOCAL_FALLBACK, "long-form")
    assert len(local.requests) == 1 and "slm_covered" in reply.signals


async def test_without_a_cloud_a_long_form_request_is_answered_locally(tmp_path: Path) -> None:
    reply = await ask(make_core(tmp_path, cloud=None), GUIDE)
    assert (reply.route, reply.reason, reply.notice) == (Route.LOCAL, "long-form", None)
    assert reply.signals["cloud_skipped"] == "no-cloud"


async def test_a_spent_budget_keeps_the_answer_local_and_sends_nothing(tmp_path: Path) -> None:
    ledger = MemoryLedger()
    ledger.record(LedgerRow("spent", datetime.now(UTC), "slack", "u", "", "cloud", "long-form",
                            {}, ["cloud-model"], {}, 10.0, 0.5, 0.5, []))
    cloud = cloud_model()
    core = make_core(tmp_path, cloud=cloud, ledger=ledger, budget_daily_usd=0.1)
    reply = await ask(core, GUIDE)
    assert (reply.route, reply.notice) == (Route.LOCAL, NOTICE_BUDGET["en"])
    assert cloud.requests == [] and reply.signals["cloud_skipped"] == "budget"


async def test_confidential_evidence_never_reaches_the_cloud(tmp_path: Path) -> None:
    cloud = cloud_model()
    local = FakeChatModel("L4 Japan: 13,200,000 yen [1].", name="local-slm")  # backed by [1]
    core = make_core(tmp_path, cloud=cloud, local=local, hits=[SALARY_HIT, VPN_HIT])
    reply = await ask(core, "Write a summary of the L4 Japan salary band")
    assert reply.route is Route.LOCAL and reply.notice == NOTICE_CONFIDENTIAL["en"]
    assert cloud.requests == [] and reply.signals["cloud_skipped"] == "confidential"


async def test_what_goes_to_the_cloud_is_redacted(tmp_path: Path) -> None:
    cloud = cloud_model()
    core = make_core(tmp_path, cloud=cloud)
    reply = await ask(core, "Write an e-mail to taro.yamada@example.co.jp about my VPN password")
    assert reply.route is Route.CLOUD and reply.signals["redacted"] >= 1
    assert "taro.yamada@example.co.jp" not in cloud.last_prompt


async def test_a_multi_part_question_gets_the_passages_of_each_part(tmp_path: Path) -> None:
    first, second = "How do I reset my VPN password?", "Where is the guest Wi-Fi password?"
    splitter = FakeChatModel(f"{first}\n{second}", name="local-slm")
    searcher = StaticSearcher([VPN_HIT], by_query={first: [VPN_HIT], second: [WIFI_HIT]})
    cloud = cloud_model()
    core = make_core(tmp_path, local=splitter, cloud=cloud, searcher=searcher)
    reply = await ask(core, f"{first} {second}")
    assert (reply.route, reply.reason) == (Route.CLOUD, "multi-part")
    assert reply.signals["sub_queries"] == 2 and reply.signals["decomposition"] == "model"
    assert "VPN portal" in cloud.last_prompt and "reception desk" in cloud.last_prompt
    assert searcher.queries[1:] == [first, second]


async def test_a_not_covered_draft_is_declined_when_no_cloud_can_help(tmp_path: Path) -> None:
    local = FakeChatModel("The passages do not cover this.", name="local-slm")
    reply = await ask(make_core(tmp_path, local=local), "How do I reset my VPN password?")
    assert (reply.route, reply.reason, reply.covered) == (Route.DECLINED, "slm-not-covered",
                                                          False)
    assert reply.models == ("local-slm",)


async def test_a_failure_in_any_step_is_an_apology_with_a_reference_and_one_row(
        tmp_path: Path) -> None:
    class Broken(StaticSearcher):
        def search(self, query: str, k: int = 3, language: str = "en") -> object:  # type: ignore[override]
            raise RuntimeError("store on fire")

    ledger = MemoryLedger()
    reply = await ask(make_core(tmp_path, searcher=Broken(), ledger=ledger), "VPN?")
    assert reply.route is Route.FAILED and reply.error and reply.error in reply.text
    assert "fire" not in reply.text
    [row] = ledger.rows()
    assert (row.route, row.error) == ("failed", reply.error)


async def test_empty_and_long_questions_are_declined_politely(tmp_path: Path) -> None:
    core = make_core(tmp_path, max_question_chars=20)
    empty, long = await ask(core, "   "), await ask(core, "x" * 21)
    assert (empty.route, empty.reason) == (Route.DECLINED, "bad-question")
    assert "too long" in long.text and long.route is Route.DECLINED


async def test_the_steps_run_in_the_documented_order(tmp_path: Path) -> None:
    assert make_core(tmp_path).pipeline.names() == [
        "Identify", "Commands", "Validate", "ApprovedMatch", "CacheLookup", "Rewrite",
        "Retrieve",
        "EmptyKnowledge", "Decide", "LocalDraft", "CheckDraft", "Verify", "Escalate",
        "DeclineUnsure", "SettleLocal", "SafeLinks", "WarnFlagged"]


async def test_the_lifecycle_reaches_every_part(tmp_path: Path) -> None:
    local, cloud, ledger = FakeChatModel(ANSWER), cloud_model(), MemoryLedger()
    searcher = StaticSearcher([VPN_HIT])
    core = make_core(tmp_path, local=local, cloud=cloud, ledger=ledger, searcher=searcher)
    assert core.readiness() == {"model_loaded": False, "store_reachable": True}
    core.load()
    assert local.loaded and searcher.loaded
    assert core.readiness() == {"model_loaded": True, "store_reachable": True}
    await core.aclose()
    assert local.closed and cloud.closed and ledger.closed
