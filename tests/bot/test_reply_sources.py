"""The reply's sources: one per file, the outcome's own first, then the evidence by rank."""

from __future__ import annotations

from bot.answering.record import AnswerRecord, Outcome
from bot.answering.recording import build_reply
from bot.ledger.pricing import Pricing
from bot.types import Question, Route, Source
from knowledge.fakes import hit
from knowledge.retrieval import SearchResult


def test_sources_list_each_file_once_in_rank_order() -> None:
    answer = AnswerRecord.start(Question("How do I reset my VPN password?"))
    answer.evidence = SearchResult([hit("it/vpn.md", "Reset it at the portal."),
                                    hit("it/mfa.md", "Approve the push."),
                                    hit("it/vpn.md", "Call ext. 4357."),
                                    hit("it/wifi.md", "NW-Guest.")], 0.01)
    answer.outcome = Outcome("Reset it at the portal [1].", list(Route)[0], "test",
                             sources=(Source("it/mfa.md", "mfa", 1.0, ""),))
    reply = build_reply(answer, Pricing())
    assert [s.path for s in reply.sources] == ["it/mfa.md", "it/vpn.md", "it/wifi.md"]
