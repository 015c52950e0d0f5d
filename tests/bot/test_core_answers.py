"""A newcomer's questions to the real core over the sample knowledge base: the local GGUF
answers with citations, and what the knowledge base does not cover is declined.

Answers are not compared word for word (a 0.5B model's phrasing is not a contract); what is
asserted is where the answer came from, what it cites, its language and its ledger row.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from chat_spies import SpyModel, with_parts

from bot.language import detect_language
from bot.types import Question, Reply, Route

log = logging.getLogger(__name__)


async def ask(core: Any, text: str) -> Reply:
    reply = await core.handle(Question(text, user="U0NEWCOMER", channel="slack"))
    log.info("%r -> %s/%s %r cites %s", text, reply.route, reply.reason, reply.text, reply.cited)
    return reply


def assert_recorded(core: Any, reply: Reply) -> Any:
    row = core.ledger.get(reply.answer_id)
    assert row is not None
    assert (row.route, row.reason, row.language) == (reply.route.value, reply.reason,
                                                       reply.language)
    assert row.user_hash != "U0NEWCOMER" and row.question is None  # no personal data by default
    assert [s["path"] for s in row.sources] == [s.path for s in reply.sources]
    return row


@pytest.mark.slm
async def test_vpn_password_reset_is_answered_on_prem_citing_the_vpn_guide(
    sample_core: Any,
) -> None:
    reply = await ask(sample_core, "How do I reset my VPN password?")
    assert reply.route is Route.LOCAL and reply.covered
    assert reply.cited[0] == "it/vpn-password-reset.md"
    assert reply.sources[0].path == "it/vpn-password-reset.md"
    assert reply.cited_sources[0].title == "How to reset your VPN password"
    lead, *quote = reply.text.splitlines()
    assert reply.language == "en" and detect_language(lead) == "en"
    assert quote[-1] == "> — How to reset your VPN password"  # the cited document's own lines
    assert reply.text and "[7]" not in reply.text
    model = sample_core.local.name
    assert reply.models == (model,)
    assert reply.tokens[model]["prompt"] > 100 and reply.tokens[model]["completion"] > 0
    assert reply.signals["slm_cited"] >= 1 and reply.cost_usd > 0
    row = assert_recorded(sample_core, reply)
    assert row.models == [model] and row.error is None

    await sample_core.feedback(reply.answer_id, "U0NEWCOMER", "up")
    assert sample_core.ledger.get(reply.answer_id).feedback == "up"


@pytest.mark.slm
async def test_expense_deadline_in_japanese_is_answered_in_japanese(sample_core: Any) -> None:
    reply = await ask(sample_core, "経費精算の締め切りはいつですか?")
    assert reply.route is Route.LOCAL and reply.covered
    assert reply.cited[0] == "expenses/expense-deadline-ja.md"
    assert reply.sources[0].path == "expenses/expense-deadline-ja.md"
    lead = reply.text.splitlines()[0]
    assert reply.language == "ja" and detect_language(lead) == "ja"
    assert_recorded(sample_core, reply)


async def test_english_cafeteria_question_is_declined_before_any_model_call(
    sample_core: Any
) -> None:
    spy = SpyModel()
    reply = await ask(with_parts(sample_core, local=spy), "What is the cafeteria menu on Friday?")
    assert spy.calls == []
    assert (reply.route, reply.reason, reply.covered) == (Route.DECLINED, "weak-evidence", False)
    assert reply.text == (
        "I don't know: our knowledge base doesn't cover that. "
        "Please contact the IT/HR helpdesk for this one."
    )
    assert reply.cited == () and reply.models == () and reply.cost_usd == 0
    assert_recorded(sample_core, reply)


async def test_japanese_cafeteria_question_is_declined_before_any_model_call(
    sample_core: Any
) -> None:
    spy = SpyModel("社員食堂の今日のメニューはカレーです [2]。")
    reply = await ask(with_parts(sample_core, local=spy), "社員食堂の今日のメニューは?")
    assert spy.calls == []
    assert (reply.route, reply.covered) == (Route.DECLINED, False)


@pytest.mark.slm
@pytest.mark.parametrize(
    ("question", "pointer"),
    [
        ("What is the cafeteria menu on Friday?", "helpdesk"),
        ("社員食堂の今日のメニューは?", "ヘルプデスク"),
    ],
)
async def test_unanswerable_questions_are_declined_with_a_helpdesk_pointer(
    sample_core: Any, question: str, pointer: str
) -> None:
    reply = await ask(sample_core, question)
    assert reply.route is Route.DECLINED and not reply.covered, reply.text
    assert reply.cited == () and pointer in reply.text
    assert_recorded(sample_core, reply)
