"""What the core answers when the question is bad or something inside it breaks: polite text
or an apology with a reference id — never the exception text — and always one ledger row.

The core is built from the real sample core's parts (store, embeddings, ledger) with a chat model
that records or raises in place of the SLM; a retriever method is swapped to break the store.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from chat_spies import BrokenModel, SpyModel, with_parts

from bot.errors import UserFacingError
from bot.types import Question, Reply, Route


async def ask(core: Any, text: str) -> Reply:
    return await core.handle(Question(text, user="U0ASKER", channel="teams"))


@pytest.fixture
def spy() -> SpyModel:
    return SpyModel()


@pytest.fixture
def core(sample_core: Any, spy: SpyModel) -> Any:
    """The sample core's parts with the spy as its local model."""
    return with_parts(sample_core, local=spy)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "Please type a question, e.g. “How do I reset my VPN password?”"),
        ("   \n\t ", "Please type a question, e.g. “How do I reset my VPN password?”"),
        ("VPN? " * 401, "That question is too long (2004 characters); please keep it under "
                        "2000 characters."),
        ("経費精算の締め切り" * 230,
         "ご質問が長すぎます(2070文字)。2000文字以内にまとめてください。"),
    ],
    ids=["empty", "whitespace", "too-long", "too-long-ja"],
)
async def test_bad_questions_get_polite_text_no_model_call_and_a_ledger_row(
    core: Any, spy: SpyModel, text: str, expected: str
) -> None:
    reply = await ask(core, text)
    assert reply.text == expected
    assert (reply.route, reply.reason, reply.covered) == (Route.DECLINED, "bad-question", False)
    assert reply.error is None and reply.sources == ()
    assert spy.calls == []
    row = core.ledger.get(reply.answer_id)
    assert (row.route, row.reason, row.error) == ("declined", "bad-question", None)


async def test_the_question_limit_comes_from_the_settings(
    sample_core: Any, spy: SpyModel
) -> None:
    core = with_parts(sample_core, local=spy,
                      settings=sample_core.settings.replace(max_question_chars=31))
    at_limit = await ask(core, "How do I reset my VPN password?")  # 31 characters
    assert at_limit.reason != "bad-question" and len(spy.calls) == 1
    over = await ask(core, "How do I reset my VPN password??")
    assert over.reason == "bad-question" and "under 31 characters" in over.text
    assert len(spy.calls) == 1


async def test_a_failing_model_gives_an_apology_with_a_reference_not_the_error(
    sample_core: Any, caplog: pytest.LogCaptureFixture
) -> None:
    broken = BrokenModel()
    with caplog.at_level(logging.ERROR, logger="bot.errors"):
        reply = await ask(with_parts(sample_core, local=broken),
                          "How do I reset my VPN password?")
    assert broken.calls == 1
    assert (reply.route, reply.reason, reply.covered) == (Route.FAILED, "error", False)
    assert reply.error is not None and re.fullmatch(r"[0-9a-f]{8}", reply.error)
    assert reply.text == f"Sorry, something went wrong while answering (reference {reply.error})."
    assert "llama" not in reply.text and "secret" not in reply.text
    row = sample_core.ledger.get(reply.answer_id)
    assert (row.route, row.reason, row.error) == ("failed", "error", reply.error)
    assert "llama" not in str(row.signals)
    # the operator finds the traceback under the reference the user quotes
    [logged] = [r for r in caplog.records if reply.error in r.getMessage()]
    assert logged.exc_info is not None and str(logged.exc_info[1]) == BrokenModel.SECRET


async def test_the_apology_follows_the_question_language(sample_core: Any) -> None:
    core = with_parts(sample_core, local=BrokenModel())
    reply = await ask(core, "経費精算の締め切りはいつですか?")
    assert reply.route is Route.FAILED
    assert reply.text == f"申し訳ありません、回答中にエラーが発生しました(参照ID: {reply.error})。"


async def test_a_failing_knowledge_store_gives_an_apology_too(
    core: Any, spy: SpyModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(*_args: Any, **_kwargs: Any) -> Any:
        raise ConnectionError("chroma at http://10.0.0.5:8000 refused the connection")

    monkeypatch.setattr(core.searcher, "search", unreachable)
    reply = await ask(core, "How do I reset my VPN password?")
    assert reply.route is Route.FAILED and "10.0.0.5" not in reply.text
    assert spy.calls == [] and core.ledger.get(reply.answer_id).error == reply.error


async def test_a_ledger_outage_does_not_cost_the_user_the_answer(
    core: Any, spy: SpyModel, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def down(_row: Any) -> None:
        raise OSError("database is locked")

    monkeypatch.setattr(core.ledger, "record", down)
    reply = await ask(core, "How do I reset my VPN password?")
    assert reply.route is Route.LOCAL and reply.cited == ("it/vpn-password-reset.md",)
    assert f"ledger write failed for answer {reply.answer_id}" in caplog.text


async def test_feedback_is_stored_and_unknown_answers_are_refused_politely(
    core: Any, spy: SpyModel
) -> None:
    reply = await ask(core, "How do I reset my VPN password?")
    await core.feedback(reply.answer_id, "U0ASKER", "down", "too vague")
    row = core.ledger.get(reply.answer_id)
    assert (row.feedback, row.feedback_reason) == ("down", "too vague")
    with pytest.raises(UserFacingError, match="too old to rate"):
        await core.feedback("0" * 20, "U0ASKER", "up")
