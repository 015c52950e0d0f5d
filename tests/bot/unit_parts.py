"""Fast parts for unit tests of the answer path: no model file, no model server.

A real Chroma store in a temporary folder, indexed with the model-free
:class:`knowledge.fakes.HashingEmbedder` (so file records and hashes are real), a
:class:`knowledge.fakes.StaticSearcher` that hands the router exactly the evidence a test wants,
:class:`bot.models.fake.FakeChatModel` for the SLM and the cloud, and the in-memory ledger.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.answering.responder import Firstline
from bot.ledger.memory import MemoryLedger
from bot.models.base import ChatModel
from bot.models.fake import FakeChatModel
from bot.routing.router import Router, RuleRouter
from bot.settings import Settings
from bot.types import Question, Reply
from knowledge.fakes import HashingEmbedder, StaticSearcher, hit
from knowledge.indexer import Indexer
from knowledge.retrieval import Hit, Searcher
from knowledge.store import KnowledgeStore, open_client

VPN = "it/vpn-password-reset.md"
WIFI = "facilities/guest-wifi.md"
SALARY = "hr/salary-bands.md"
DOCS = {
    VPN: "# VPN password reset\n\nOpen the VPN portal and choose Reset password.\n",
    WIFI: "# Guest Wi-Fi\n\nThe guest Wi-Fi password is on the reception desk.\n",
    SALARY: "---\nconfidential: true\naudience: [hr]\n---\n# Salary bands\n\n"
            "L4 Japan: 13,200,000 yen.\n",
}
VPN_HIT = hit(VPN, "Open the VPN portal and choose Reset password.", heading="VPN password reset")
WIFI_HIT = hit(WIFI, "The guest Wi-Fi password is on the reception desk.", heading="Guest Wi-Fi")
SALARY_HIT = hit(SALARY, "L4 Japan: 13,200,000 yen.", heading="Salary bands", confidential=True)
ANSWER = "Open the VPN portal and choose Reset password [1]."


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    return Settings.load({"data_dir": tmp_path, **overrides}, environ={},
                         config_file=tmp_path / "absent.toml")


def knowledge(tmp_path: Path) -> tuple[KnowledgeStore, HashingEmbedder]:
    """The three documents above, really indexed (hashes, records) without a neural model."""
    root = tmp_path / "kb"
    for path, text in DOCS.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    store = KnowledgeStore(open_client(tmp_path / "chroma"), "unit")
    embedder = HashingEmbedder()
    Indexer(store, embedder, 700).index([root])
    return store, embedder


def make_core(tmp_path: Path, *, local: ChatModel | None = None, cloud: ChatModel | None = None,
              hits: list[Hit] | None = None, searcher: Searcher | None = None,
              router: Router | None = None, ledger: MemoryLedger | None = None,
              **overrides: Any) -> Firstline:
    store, embedder = knowledge(tmp_path)
    return Firstline(
        settings_for(tmp_path, **{"cache_ttl_seconds": 0, **overrides}),
        local=local or FakeChatModel(ANSWER, name="local-slm"), cloud=cloud, store=store,
        embeddings=embedder, ledger=ledger or MemoryLedger(), router=router or RuleRouter(),
        searcher=searcher or StaticSearcher(hits if hits is not None else [VPN_HIT, WIFI_HIT]))


async def ask(core: Firstline, text: str, **question: Any) -> Reply:
    return await core.handle(Question(text, user=question.pop("user", "u1"), **question))
