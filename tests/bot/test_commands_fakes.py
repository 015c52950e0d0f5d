"""Admin commands on fakes: who may run them, status, costs, and one reindex at a time (the lock
held by another replica refuses a second one)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

from unit_parts import ask, make_core

from bot.answering.commands import LOCK_TTL
from bot.ledger.memory import MemoryLedger
from bot.ledger.store import Ledger
from bot.types import Question, Route


async def test_help_is_for_everyone_and_the_rest_for_admins(tmp_path: Path) -> None:
    core = make_core(tmp_path)
    assert (await ask(core, "help")).reason == "help"
    refused = await ask(core, "status", is_admin=False)
    assert (refused.route, refused.reason) == (Route.COMMAND, "not-admin")
    assert "admins" in refused.text
    ja = await ask(core, "ステータス", is_admin=False)
    assert "管理者" in ja.text


async def test_status_counts_documents_and_names_the_models(tmp_path: Path) -> None:
    reply = await ask(make_core(tmp_path), "status", is_admin=True)
    assert reply.route is Route.COMMAND and "Documents: 3" in reply.text
    assert "Local model: local-slm; cloud: not configured" in reply.text


async def test_costs_reports_the_answers_so_far(tmp_path: Path) -> None:
    core = make_core(tmp_path)
    await ask(core, "How do I reset my VPN password?")
    reply = await ask(core, "costs 7d by route", is_admin=True)
    assert "local" in reply.text and reply.reason == "costs"
    # under the table, as in `firstline costs`: how the dollars are reckoned
    assert "On-prem time is counted as cost: $0.000020 per second" in reply.text
    assert "FIRSTLINE_ONPREM_USD_PER_SECOND" in reply.text


async def test_a_reindex_held_by_another_replica_is_refused(tmp_path: Path) -> None:
    ledger = MemoryLedger()
    assert ledger.acquire_lock("reindex", "other-replica", LOCK_TTL)
    busy = await ask(make_core(tmp_path, ledger=ledger), "reindex", is_admin=True)
    assert busy.reason == "reindex-busy"


async def test_a_reindex_runs_in_the_background_and_reports(tmp_path: Path) -> None:
    core = make_core(tmp_path, knowledge_paths=str(tmp_path / "kb"))
    told: list[str] = []

    async def notify(text: str) -> None:
        told.append(text)

    started = await core.handle(Question("reindex", user="admin", is_admin=True), notify)
    assert started.reason == "reindex-started"
    await asyncio.wait_for(core.commands.wait_reindex(), 60)
    assert told and told[-1].startswith("Reindex finished")
    assert not core.commands.reindex_running


async def test_a_reindex_longer_than_its_lock_lease_keeps_the_lock(tmp_path: Path) -> None:
    """The lease (0.3 s here) is renewed while the reindex runs: no other replica takes it over
    during a reindex four times as long, and it is released at the end (real SQLite ledger)."""
    with Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite3'}") as ledger:
        core = make_core(tmp_path, ledger=ledger, knowledge_paths=str(tmp_path / "kb"))
        core.commands.lock_ttl = 0.3
        release, index = threading.Event(), core.indexing.index

        def slow_index(*args: Any, **kwargs: Any) -> Any:
            release.wait(30)
            return index(*args, **kwargs)

        core.indexing.index = slow_index  # type: ignore[method-assign]
        started = await ask(core, "reindex", is_admin=True)
        assert started.reason == "reindex-started"
        for _ in range(6):
            await asyncio.sleep(0.2)
            assert not await asyncio.to_thread(ledger.acquire_lock, "reindex", "other", 60)
        release.set()
        await asyncio.wait_for(core.commands.wait_reindex(), 60)
        assert core.commands.last_summary and "finished" in core.commands.last_summary
        assert await asyncio.to_thread(ledger.acquire_lock, "reindex", "other", 60)
