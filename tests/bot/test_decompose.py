"""Decomposing multi-part questions: the rules, the merge, and the real SLM's split."""

from __future__ import annotations

import pytest
from recording_cloud import model_id

from bot.answering.decompose import merge, parse_lines, split_by_rules, sub_queries, usable
from bot.models.base import Completion, Message
from bot.models.cloud import CloudChatModel
from knowledge.retrieval import Hit, SearchResult

TWO_PART = "How do I reset my VPN password and where do I find the guest Wi-Fi password?"


@pytest.mark.parametrize(("text", "parts"), [
    ("How do I reset my VPN password? Where is the guest Wi-Fi password?",
     ["How do I reset my VPN password?", "Where is the guest Wi-Fi password?"]),
    (TWO_PART, ["How do I reset my VPN password", "where do I find the guest Wi-Fi password?"]),
    ("有給休暇は何日ありますか？会議室は何週間先まで予約できますか？",
     ["有給休暇は何日ありますか？", "会議室は何週間先まで予約できますか？"]),
    ("VPNのパスワードをリセットする方法と、また会議室の予約方法を教えて",
     ["VPNのパスワードをリセットする方法と", "会議室の予約方法を教えて"]),
    ("How do I reset my VPN password?", ["How do I reset my VPN password?"]),
    ("A? B? C? How do I reset VPN? Where is Wi-Fi? Who approves expenses? What is per diem?",
     ["How do I reset VPN?", "Where is Wi-Fi?", "Who approves expenses? What is per diem?"]),
])
def test_rules_split_on_question_marks_then_joiners(text: str, parts: list[str]) -> None:
    assert split_by_rules(text) == parts


def test_model_output_is_parsed_and_checked() -> None:
    out = "1. How do I reset my VPN password?\n- Where is the guest Wi-Fi password?\n\n"
    assert parse_lines(out) == ["How do I reset my VPN password?",
                                "Where is the guest Wi-Fi password?"]
    assert usable(parse_lines(out), TWO_PART)
    assert not usable(["How do I reset my VPN password?"], TWO_PART)  # one part: nothing split
    assert not usable(["What is the weather?", "Who won the match?"], TWO_PART)  # off topic
    assert not usable(["a VPN?", "b Wi-Fi?", "c password?", "d guest?"], TWO_PART)  # > 3


class Scripted:
    """A ChatModel that answers from a script (the rules fallback is what is under test)."""

    name = "scripted"

    def __init__(self, text: str) -> None:
        self.text = text

    async def complete(self, messages: list[Message], *, max_tokens: int = 256) -> Completion:
        return Completion(self.text, self.name, 10, 5, 0.01)


async def test_unusable_model_output_falls_back_to_the_rules() -> None:
    parts, how = await sub_queries(Scripted("Sure! Here you go."), TWO_PART)
    assert how == "rules" and len(parts) == 2


def _hit(cid: str, path: str, score: float) -> Hit:
    return Hit(cid, path, path, "", f"text of {cid}", score)


def test_merge_fuses_rankings_and_dedupes() -> None:
    vpn = SearchResult([_hit("v1", "vpn.md", 1.0), _hit("v2", "vpn.md", 0.8)], 0.1, ["vpn"], 1.0)
    wifi = SearchResult([_hit("w1", "wifi.txt", 0.9), _hit("v1", "vpn.md", 0.5)], 0.1, ["wifi"],
                        0.5)
    merged = merge([vpn, wifi], limit=3)
    assert [h.id for h in merged.hits] == ["v1", "w1", "v2"]  # v1 is in both lists
    assert merged.hits[0].score == 1.0  # the best copy is kept
    assert merged.query_terms == ["vpn", "wifi"] and merged.term_coverage == 0.5


@pytest.mark.slm
async def test_the_slm_splits_a_two_part_question(llama_server_url: str) -> None:
    model = CloudChatModel(llama_server_url, "", await model_id(llama_server_url), timeout=600.0)
    async with model:
        parts, how = await sub_queries(model, TWO_PART)
    assert 2 <= len(parts) <= 3, (how, parts)
    assert any("vpn" in p.lower() for p in parts) and any("wi-fi" in p.lower() for p in parts)
