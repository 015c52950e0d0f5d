"""A real Firstline over a two-document knowledge base, one of them for the hr group only, with
a model-free embedder and a fake chat model that answers with the first passage it was shown —
so what reaches a chat stand-in is exactly what the audience filter let through. Shared by the
Slack and Teams audience tests."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.answering.responder import Firstline
from bot.ledger.memory import MemoryLedger
from bot.models.base import Message
from bot.models.fake import FakeChatModel
from bot.routing.router import RuleRouter
from bot.settings import Settings
from knowledge.fakes import HashingEmbedder
from knowledge.indexer import Indexer
from knowledge.store import KnowledgeStore, open_client

QUESTION = "What is the L4 Japan salary band?"
SECRET_FIGURE = "13,200,000"


def echo_first_passage(messages: list[Message]) -> str:
    user = messages[-1].content
    first = user.split("[1]", 1)[1].split("\n")[0] if "[1]" in user else ""
    return f"From the documents:{first} [1]"


def restricted_core(tmp_path: Path, **settings: Any) -> Firstline:
    """``hr/salary-bands.md`` (audience hr, holds SECRET_FIGURE) and a public PTO page."""
    root = tmp_path / "kb"
    (root / "hr").mkdir(parents=True)
    (root / "hr/salary-bands.md").write_text(
        "---\naudience: [hr]\n---\n# Salary bands\n\nThe L4 Japan salary band is 11,000,000 to "
        f"{SECRET_FIGURE} yen.\n")
    (root / "hr/paid-time-off.md").write_text(
        "# Paid time off\n\nThe salary is paid as usual during paid time off; bands do not "
        "change it.\n")
    store = KnowledgeStore(open_client(tmp_path / "chroma"), "restricted")
    embedder = HashingEmbedder()
    Indexer(store, embedder, 700).index([root])
    core_settings = Settings.load({"data_dir": tmp_path, "cache_ttl_seconds": 0, **settings},
                                  environ={}, config_file=tmp_path / "none.toml")
    open_gate = RuleRouter(replace(RuleRouter().config, min_dense=-1.0))
    return Firstline(core_settings, local=FakeChatModel(echo_first_passage, name="slm"),
                     store=store, embeddings=embedder, ledger=MemoryLedger(), router=open_gate)
