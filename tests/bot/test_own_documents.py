"""A company's own documents, through the real core (real Chroma, the real embedding models,
a SQLite ledger; the local model is a fake that no step here may reach): an empty knowledge
base says how to fill it, ``FIRSTLINE_KNOWLEDGE_PATHS`` is what an admin ``reindex`` indexes
(and drops the rest), and without it a reindex keeps to the folders already indexed."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bot.answering.responder import Firstline
from bot.ledger.store import Ledger
from bot.models.fake import FakeChatModel
from bot.routing.router import RuleRouter
from bot.settings import Settings
from bot.types import Question, Reply, Route
from knowledge import SAMPLES
from knowledge.retrieval import HybridRetriever
from knowledge.store import KnowledgeStore, open_client

VPN = "# VPN\n\nReset your VPN password at https://id.northwind.example/reset.\n"
PTO = "# Paid time off\n\nEmployees get 15 days of paid time off per year.\n"


def core_for(tmp_path: Path, embeddings: Any, **overrides: Any) -> Firstline:
    settings = Settings.load({"data_dir": tmp_path / "data", "cache_ttl_seconds": 0,
                              **overrides}, environ={}, config_file=tmp_path / "absent.toml")
    store = KnowledgeStore(open_client(tmp_path / "data" / "chroma"), "own")
    return Firstline(settings, local=FakeChatModel("unused [1].", name="local"), store=store,
                     embeddings=embeddings, ledger=Ledger(settings.ledger_database_url),
                     router=RuleRouter())


def folder(path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text, encoding="utf-8")
    return path


async def reindex(core: Firstline) -> str:
    told: list[str] = []

    async def notify(text: str) -> None:
        told.append(text)

    started = await core.handle(Question("reindex", user="admin", is_admin=True), notify)
    assert started.reason == "reindex-started"
    await asyncio.wait_for(core.commands.wait_reindex(), 120)
    return told[-1]


@pytest.mark.parametrize(("question", "hint"), [
    ("How do I reset my VPN password?", "no documents have been indexed"),
    ("経費精算の締め切りはいつですか？", "まだ資料が登録されていない"),
])
async def test_an_empty_knowledge_base_says_how_to_add_documents(
    tmp_path: Path, embeddings: Any, question: str, hint: str
) -> None:
    core = core_for(tmp_path, embeddings)
    try:
        reply: Reply = await core.handle(Question(question, user="u1"))
        assert (reply.route, reply.reason, reply.covered) == (Route.DECLINED, "nothing-indexed",
                                                              False)
        assert hint in reply.text and "`firstline index" in reply.text
        assert core.ledger.get(reply.answer_id).reason == "nothing-indexed"

        core.indexing.index([folder(tmp_path / "docs", {"vpn.md": VPN})])
        later = await core.handle(Question(question, user="u1"))
        assert later.reason != "nothing-indexed" and "firstline index" not in later.text
    finally:
        await core.aclose()


async def test_reindex_indexes_the_configured_paths_and_drops_the_rest(
    tmp_path: Path, embeddings: Any
) -> None:
    old = folder(tmp_path / "old", {"pto.md": PTO})
    mine = folder(tmp_path / "mine", {"it/vpn.md": VPN})
    core = core_for(tmp_path, embeddings, knowledge_paths=str(mine))
    try:
        core.indexing.index([old])  # e.g. the samples, indexed before the setting was made
        text = await reindex(core)
        assert text.startswith("Reindex finished: 1 added, 0 updated, 1 removed")
        assert {r.root for r in core.store.files().values()} == {str(mine.resolve())}
        assert list(core.store.files()) == ["it/vpn.md"]
    finally:
        await core.aclose()


async def test_without_the_setting_reindex_keeps_to_the_folders_already_indexed(
    tmp_path: Path, embeddings: Any
) -> None:
    mine = folder(tmp_path / "mine", {"it/vpn.md": VPN})
    core = core_for(tmp_path, embeddings)
    try:
        core.indexing.index([mine])  # `firstline index mine`
        (mine / "hr").mkdir()
        (mine / "hr/pto.md").write_text(PTO, encoding="utf-8")
        text = await reindex(core)
        assert text.startswith("Reindex finished: 1 added, 0 updated, 0 removed, 1 unchanged")
        assert sorted(core.store.files()) == ["hr/pto.md", "it/vpn.md"]  # no samples
        assert core.indexing.default_roots() == [mine.resolve()]
    finally:
        await core.aclose()


def test_an_empty_store_without_the_setting_indexes_the_samples(
    tmp_path: Path, embeddings: Any
) -> None:
    core = core_for(tmp_path, embeddings)
    try:
        assert core.indexing.default_roots() == [SAMPLES]
    finally:
        asyncio.run(core.aclose())


async def test_a_missing_configured_folder_is_named_with_its_setting(
    tmp_path: Path, embeddings: Any
) -> None:
    core = core_for(tmp_path, embeddings, knowledge_paths=str(tmp_path / "gone"))
    try:
        text = await reindex(core)
        assert text == (f"Reindex failed: no such file or folder: {tmp_path / 'gone'} "
                        "(in FIRSTLINE_KNOWLEDGE_PATHS)")
        assert not core.commands.reindex_running
    finally:
        await core.aclose()


async def test_the_reindex_summary_names_what_it_could_not_use_and_stops_at_fifteen(
    tmp_path: Path, embeddings: Any
) -> None:
    files = {"it/vpn.md": VPN, "it/empty.md": ""}
    files |= {f"archive/{n:02}.zip": "PK" for n in range(20)}
    mine = folder(tmp_path / "mine", files)
    core = core_for(tmp_path, embeddings, knowledge_paths=str(mine))
    try:
        lines = (await reindex(core)).splitlines()
        assert lines[0].startswith("Reindex finished: 1 added, 0 updated, 0 removed, "
                                   "0 unchanged, 1 empty, 20 skipped, 0 failed;")
        assert lines[1:3] == ["• empty: it/empty.md",
                              "• skipped: archive/00.zip: unsupported type .zip"]
        assert len(lines) == 1 + 15 + 1
        assert lines[-1] == "… and 6 more (`firstline index` lists them all)"
    finally:
        await core.aclose()


async def test_a_reindex_prepares_the_lexical_index_of_the_new_revision(
    tmp_path: Path, embeddings: Any
) -> None:
    """The first question after a reindex finds the lexical index built (and saved for the
    other replicas) rather than building it itself."""
    mine = folder(tmp_path / "mine", {"it/vpn.md": VPN})
    core = core_for(tmp_path, embeddings, knowledge_paths=str(mine))
    try:
        await reindex(core)
        folder(mine, {"hr/pto.md": PTO})
        await reindex(core)
        revision = core.store.revision()
        saved = [p.name for p in (tmp_path / "data" / "lexical").iterdir()]
        assert saved == [f"own@{revision}"]
        searcher = core.searcher
        assert isinstance(searcher, HybridRetriever)
        assert searcher.lexical_index() is searcher.lexical_index(revision)  # nothing rebuilt
        assert searcher.lexical_source == "built" and len(searcher.lexical_index()) == 2
    finally:
        await core.aclose()
