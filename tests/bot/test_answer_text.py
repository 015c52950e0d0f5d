"""Faithful answer text on the real core over the sample knowledge base: the GGUF writes a lead,
the reply quotes the cited file's own lines under it with that file's title; echoes and worked
examples never come back as confident answers; a Japanese question over an English document
gets a Japanese lead over the English lines.

Phrasing is not asserted (a 0.5B model's wording is not a contract); where each line came from
is.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from chat_spies import SpyModel, with_parts

from bot.answering.faithful import mostly_japanese, terms_of
from bot.answering.prompt import EXAMPLE_TERMS
from bot.types import Question, Reply, Route
from knowledge.fakes import StaticSearcher

log = logging.getLogger(__name__)
_CODE_URL = re.compile(r"`(https?://[^`\s]+)`")  # a link outside FIRSTLINE_LINK_DOMAINS


async def ask(core: Any, text: str) -> Reply:
    reply = await core.handle(Question(text, user="U0TEXT", channel="slack"))
    log.info("%r -> %s/%s %r", text, reply.route, reply.reason, reply.text)
    return reply


def split(reply: Reply) -> tuple[str, list[str], str]:
    """(lead, quoted lines, title line) of an answer."""
    lines = reply.text.splitlines()
    quoted = [ln[2:] for ln in lines if ln.startswith("> ")]
    assert quoted and quoted[-1].startswith("— "), reply.text
    return lines[0], quoted[:-1], quoted[-1][2:]


def cited_passage(core: Any, question: str, path: str) -> Any:
    hits = core.searcher.search(question, 5, "en" if question.isascii() else "ja").hits
    return next(h for h in hits if h.path == path)


@pytest.mark.slm
@pytest.mark.parametrize(("question", "path"), [
    ("How do I reset my VPN password?", "it/vpn-password-reset.md"),
    ("経費精算の締め切りはいつですか?", "expenses/expense-deadline-ja.md"),
])
async def test_the_excerpt_is_the_cited_files_own_lines_under_its_title(
        sample_core: Any, question: str, path: str) -> None:
    reply = await ask(sample_core, question)
    assert reply.route is Route.LOCAL and reply.covered and reply.cited[0] == path
    lead, lines, title = split(reply)
    hit = cited_passage(sample_core, question, path)
    verbatim = [_CODE_URL.sub(r"\1", line) for line in lines]  # SafeLinks' code spans undone
    assert lines and all(line in hit.passage for line in verbatim), (lines, hit.passage)
    assert "\n" not in lead.strip()
    assert title == hit.title == sample_core.store.files()[path].title
    assert mostly_japanese(lead) == (not question.isascii())
    assert reply.tokens[sample_core.local.name]["completion"] <= 48  # a lead, not an essay


async def test_an_echo_of_the_question_is_declined_with_the_closest_passage(
        sample_core: Any) -> None:
    echo = SpyModel("The guest Wi-Fi network is called [1].")
    reply = await ask(with_parts(sample_core, local=echo),
                      "What is the guest Wi-Fi network called?")
    assert (reply.route, reply.reason, reply.covered) == (Route.DECLINED, "slm-echo", False)
    assert "The closest passage I found:" in reply.text and reply.cited == ()
    _, lines, title = split(reply)
    assert title == sample_core.store.files()["it/wifi-networks.txt"].title


@pytest.mark.slm
@pytest.mark.parametrize("question", [
    "会議室は何日前まで予約できますか?",  # the Japanese worked example's own question shape
    "育児休業は何週間前までに申し出ればいいですか?",  # where the old example leaked (issue 11)
    "How often is my laptop replaced?",
])
async def test_nothing_from_the_worked_examples_comes_back_as_an_answer(
        sample_core: Any, question: str) -> None:
    reply = await ask(sample_core, question)
    leaked = EXAMPLE_TERMS & terms_of(reply.text)
    if reply.covered:
        assert not leaked, reply.text
    elif leaked or reply.reason == "example-leak":
        assert reply.reason == "example-leak" and reply.route is Route.DECLINED


@pytest.mark.slm
@pytest.mark.xfail(strict=True, reason=(
    "Qwen2.5-Coder-0.5B copies the English steps after a few katakana words "
    "(「1. ローカル ポータル で 1. Open the self-service portal at …」): no Japanese lead"))
async def test_a_japanese_question_over_an_english_document_gets_a_japanese_lead(
        sample_core: Any) -> None:
    # The English guide's real passage, handed over as the evidence: cross-language retrieval
    # is measured in the benchmark; this is about the answer text over it.
    english = cited_passage(sample_core, "How do I reset my VPN password?",
                            "it/vpn-password-reset.md")
    core = with_parts(sample_core, searcher=StaticSearcher([english]))
    reply = await ask(core, "VPNのパスワードをリセットするにはどうすればいいですか?")
    assert reply.covered and reply.cited == ("it/vpn-password-reset.md",), reply.text
    lead, lines, title = split(reply)
    assert mostly_japanese(lead), lead
    assert lines and not any(mostly_japanese(line) for line in lines)
    assert title == "How to reset your VPN password"
