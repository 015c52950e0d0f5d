"""Admin commands typed in chat, through the real core: who may run them, a background reindex
that reports through ``notify`` and refuses a second one, ``status``, ``costs`` and ``help`` —
and questions that merely start with a command word."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from chat_spies import SpyModel, with_parts

from bot.types import Question, Reply, Route

WAIT = 120.0  # a reindex of the unchanged sample knowledge base; seconds on a busy CI box


async def say(core: Any, text: str, *, admin: bool = True, notify: Any = None) -> Reply:
    return await core.handle(
        Question(text, user="U0ADMIN" if admin else "U0USER", channel="slack", is_admin=admin),
        notify,
    )


@pytest.fixture
def spy() -> SpyModel:
    return SpyModel()


@pytest.fixture
def core(sample_core: Any, spy: SpyModel) -> Any:
    """The sample core's parts with the spy as its local model."""
    return with_parts(sample_core, local=spy)


async def test_help_is_for_everyone_in_both_languages(core: Any, spy: SpyModel) -> None:
    reply = await say(core, "help", admin=False)
    assert (reply.route, reply.reason, reply.covered) == (Route.COMMAND, "help", True)
    assert "`reindex [--full]`" in reply.text and "`status`" in reply.text
    ja = await say(core, "ヘルプ", admin=False)
    assert ja.reason == "help" and "再インデックス" in ja.text
    assert spy.calls == [] and core.ledger.get(reply.answer_id).route == "command"


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        ("reindex", "Sorry, only firstline admins can run that command."),
        ("reindex --full", "Sorry, only firstline admins can run that command."),
        ("/status", "Sorry, only firstline admins can run that command."),
        ("costs 7d by route", "Sorry, only firstline admins can run that command."),
        ("再インデックス", "このコマンドは管理者のみ実行できます。"),
    ],
)
async def test_admin_commands_are_refused_for_everyone_else(
    core: Any, spy: SpyModel, text: str, refusal: str
) -> None:
    reply = await say(core, text, admin=False)
    assert (reply.route, reply.reason, reply.text) == (Route.COMMAND, "not-admin", refusal)
    assert not core.commands.reindex_running and spy.calls == []
    assert core.ledger.get(reply.answer_id).reason == "not-admin"


async def test_status_reports_documents_chunks_and_models(sample_core: Any) -> None:
    reply = await say(sample_core, "status")
    assert (reply.route, reply.reason) == (Route.COMMAND, "status")
    chunks = len(sample_core.store.live_ids())
    lines = reply.text.splitlines()
    assert lines[0] == f"Documents: 37, chunks: {chunks}"
    assert lines[1].startswith("Reindex: idle")
    assert lines[2] == "Local model: qwen2.5-coder-0.5b-instruct-q4_k_m; cloud: not configured"


async def test_costs_reports_the_ledger(core: Any, spy: SpyModel) -> None:
    await say(core, "How do I reset my VPN password?", admin=False)
    reply = await say(core, "costs 7d by route")
    assert (reply.route, reply.reason) == (Route.COMMAND, "costs")
    assert reply.text.startswith("Since ") and "```" in reply.text
    assert "local" in reply.text and "command" in reply.text


async def test_reindex_runs_in_the_background_reports_and_refuses_a_second(
    sample_core: Any,
) -> None:
    posted: list[str] = []
    summary_posted, release = asyncio.Event(), asyncio.Event()

    async def notify(text: str) -> None:
        posted.append(text)
        if text.startswith("Reindex finished"):
            summary_posted.set()
            await release.wait()  # hold the reindex open while a second one is asked for

    first = await say(sample_core, "reindex", notify=notify)
    assert (first.route, first.reason) == (Route.COMMAND, "reindex-started")
    assert first.text == "Reindex started; I'll post progress and a summary here."
    await asyncio.wait_for(summary_posted.wait(), WAIT)
    assert sample_core.commands.reindex_running

    second = await say(sample_core, "reindex --full", notify=notify)
    assert (second.reason, second.text) == ("reindex-busy", "A reindex is already running.")
    release.set()
    await asyncio.wait_for(sample_core.commands.wait_reindex(), WAIT)
    assert not sample_core.commands.reindex_running

    assert posted == [posted[-1]]  # fast: no progress lines, one summary
    assert posted[-1].startswith(
        "Reindex finished: 0 added, 0 updated, 0 removed, 37 unchanged, 0 failed; "
    )
    status = await say(sample_core, "status")
    assert "Reindex: idle (last: Reindex finished: 0 added" in status.text


async def test_a_long_reindex_posts_progress_then_the_summary(
    sample_core: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    class SlowClock:  # every look at the clock is 11 s later: each file is worth a progress line
        now = 0.0

        def monotonic(self) -> float:
            self.now += 11.0
            return self.now

    monkeypatch.setattr("bot.answering.commands.time", SlowClock())
    posted: list[str] = []

    async def notify(text: str) -> None:
        posted.append(text)

    reply = await say(sample_core, "再インデックス", notify=notify)
    assert reply.text == "再インデックスを開始しました。進捗をお知らせします。"
    await asyncio.wait_for(sample_core.commands.wait_reindex(), WAIT)
    assert posted[:3] == ["進捗: 1/37 ファイル", "進捗: 2/37 ファイル", "進捗: 3/37 ファイル"]
    assert len(posted) == 37  # 36 progress lines (none for the last file), then the summary
    assert posted[-1].startswith("再インデックス完了: 0 added")


async def test_a_reindex_held_by_another_replica_is_busy(sample_core: Any) -> None:
    ledger = sample_core.ledger
    assert ledger.acquire_lock("reindex", "other-host:4242", 60)
    try:
        reply = await say(sample_core, "reindex")
        assert reply.reason == "reindex-busy" and not sample_core.commands.reindex_running
    finally:
        ledger.release_lock("reindex", "other-host:4242")


@pytest.mark.parametrize(
    "text",
    [
        "status of my laptop order?",
        "help me reset my VPN password",
        "costs of a taxi to the airport",
        "reindex the wiki please",
        "ステータス確認の方法は?",
    ],
)
def test_sentences_starting_with_a_command_word_are_questions(sample_core: Any, text: str) -> None:
    assert sample_core.commands.parse(text) is None


def test_commands_are_parsed_with_their_arguments(sample_core: Any) -> None:
    parse = sample_core.commands.parse
    assert parse("  /reindex --full ") is not None and parse("/reindex --full").args == ("--full",)
    assert parse("!Status").name == "status"
    assert parse("costs 30d by channel").args == ("30d", "by", "channel")
    assert parse("コスト today").name == "costs"


async def test_status_of_my_laptop_order_is_answered_as_a_question(
    core: Any, spy: SpyModel
) -> None:
    reply = await say(core, "status of my laptop order?", admin=True)
    assert reply.route is not Route.COMMAND and reply.reason != "status"
    assert len(spy.calls) == 1
    assert reply.sources[0].path == "it/laptop-request-replacement.docx"
