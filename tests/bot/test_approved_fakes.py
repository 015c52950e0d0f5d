"""Approved answers through the core with fast parts (a real Chroma store indexed with the
hashing embedder, the in-memory ledger): matching, audiences, withdrawal, review dates, and the
question trace every answer leaves."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from unit_parts import SALARY, VPN, ask, knowledge, make_core, settings_for

from bot.answering.approved import ApprovedBook
from bot.answering.responder import Firstline
from bot.answering.streaming import visible_text
from bot.errors import UserFacingError
from bot.ledger.memory import MemoryLedger
from bot.models.fake import FakeChatModel
from bot.routing.router import RuleRouter
from bot.types import Final, Question, Route
from knowledge.fakes import HashingEmbedder, StaticSearcher

QUESTION = "How do I reset my VPN password?"
TEXT = "Use the self-service VPN portal; the helpdesk can reset it too."


def book_of(core: object) -> ApprovedBook:
    return core.approved  # type: ignore[attr-defined, no-any-return]


async def test_a_similar_question_gets_the_approved_answer_before_any_model(
        tmp_path: Path) -> None:
    ledger = MemoryLedger()
    core = make_core(tmp_path, ledger=ledger)
    added = book_of(core).add(QUESTION, TEXT, "en", "it-desk", cited=[VPN])
    reply = await ask(core, "how can I reset my vpn password")
    assert (reply.route, reply.reason, reply.text) == (Route.APPROVED, "approved-answer", TEXT)
    assert reply.cost_usd == 0 and reply.models == () and reply.cited == (VPN,)
    assert [s.path for s in reply.sources] == [VPN]
    assert reply.signals["approved_id"] == added.id and not reply.signals["approved_due"]
    rows = ledger.rows()
    assert [(r.route, r.answer_id) for r in rows] == [("approved", reply.answer_id)]
    assert [t.trace.terms for t in ledger.traced()] == [("password", "reset", "vpn")]
    other = await ask(core, "What is the guest Wi-Fi password?")
    assert other.route is not Route.APPROVED


async def test_commands_leave_no_trace_and_questions_always_do(tmp_path: Path) -> None:
    ledger = MemoryLedger()
    core = make_core(tmp_path, ledger=ledger)
    await ask(core, "status", is_admin=True)
    await ask(core, "What is the guest Wi-Fi password?")
    assert [r.route for r in ledger.rows()] == ["command", "local"]
    assert [t.row.route for t in ledger.traced()] == ["local"]


async def test_an_answer_citing_a_restricted_document_follows_its_audience(
        tmp_path: Path) -> None:
    core = make_core(tmp_path)
    book_of(core).add("What is the L4 salary band?", "See the salary bands table.", "en", "hr",
                      cited=[SALARY])
    q = "What is the L4 salary band?"
    assert (await ask(core, q)).route is not Route.APPROVED  # no groups
    assert (await ask(core, q, groups=frozenset({"hr"}))).route is Route.APPROVED
    shared = await ask(core, q, groups=frozenset({"hr"}), where="channel")
    assert shared.route is not Route.APPROVED  # a shared channel: documents without audience


async def test_an_answer_citing_nothing_has_its_own_audience(tmp_path: Path) -> None:
    core = make_core(tmp_path)
    book_of(core).add("Who approves overtime?", "Your manager, in the HR portal.", "en", "hr",
                      audience=["Managers"])
    assert (await ask(core, "Who approves overtime?")).route is not Route.APPROVED
    got = await ask(core, "Who approves overtime?", groups=frozenset({"managers"}))
    assert got.route is Route.APPROVED and got.sources == ()


async def test_a_changed_cited_document_withdraws_it_at_lookup_and_after_a_reindex(
        tmp_path: Path) -> None:
    core = make_core(tmp_path)
    book = book_of(core)
    first = book.add(QUESTION, TEXT, "en", "it-desk", cited=[VPN])
    second = book.add("Where is the VPN portal?", "vpn.example", "en", "it-desk", cited=[VPN])
    doc = tmp_path / "kb" / VPN
    doc.write_text(doc.read_text() + "\nThe portal is closed on Sundays.\n")
    core.indexing.index()  # the sweep after indexing withdraws both
    for item in (first, second):
        got = core.ledger.approved(item.id)
        assert got is not None and got.status == "withdrawn"
        assert got.withdrawn_reason == f"cited document {VPN} changed"
    assert (await ask(core, QUESTION)).route is not Route.APPROVED
    third = book.add(QUESTION, TEXT, "en", "it-desk", cited=[VPN])
    core.store.remove_file(VPN)  # gone without a reindex: withdrawn when next matched
    assert (await ask(core, QUESTION)).route is not Route.APPROVED
    gone = core.ledger.approved(third.id)
    assert gone is not None and gone.status == "withdrawn" and "disappeared" in \
        gone.withdrawn_reason


async def test_past_its_review_date_it_is_still_given_and_shown_as_due(tmp_path: Path) -> None:
    core = make_core(tmp_path)
    book = book_of(core)
    item = book.add(QUESTION, TEXT, "en", "it-desk", cited=[VPN],
                    review_on=date.today() - timedelta(days=1))
    reply = await ask(core, QUESTION)
    assert reply.route is Route.APPROVED and reply.signals["approved_due"] is True
    assert [a.id for a in book.due()] == [item.id]


async def test_japanese_questions_must_also_name_the_same_things(tmp_path: Path) -> None:
    core = make_core(tmp_path)
    book_of(core).add("育児休業はいつまで取れますか？", "子が1歳になるまでです。", "ja", "hr")
    assert (await ask(core, "育児休業はいつまで取れますか")).route is Route.APPROVED
    assert (await ask(core, "介護休業はいつまで取れますか？")).route is not Route.APPROVED


async def test_bad_input_is_one_line_and_stores_nothing(tmp_path: Path) -> None:
    core = make_core(tmp_path)
    book = book_of(core)
    for call in (lambda: book.add(QUESTION, TEXT, "en", "it", cited=["it/nope.md"]),
                 lambda: book.add(QUESTION, "", "en", "it"),
                 lambda: book.add(QUESTION, TEXT, "fr", "it"),
                 lambda: book.add(QUESTION, TEXT, "en", " "),
                 lambda: book.withdraw("ap-missing", "x")):
        with pytest.raises(UserFacingError) as caught:
            call()
        assert "\n" not in str(caught.value)
    assert core.ledger.approved_list() == []


async def test_an_edit_re_embeds_and_reactivates(tmp_path: Path) -> None:
    core = make_core(tmp_path)
    book = book_of(core)
    item = book.withdraw(book.add(QUESTION, TEXT, "en", "it-desk").id, "wrong")
    edited = book.edit(item.id, question="Where do I book a meeting room?", answer="In Outlook.")
    assert edited.status == "active" and edited.vector != item.vector
    assert (await ask(core, "Where do I book a meeting room?")).text == "In Outlook."


async def test_a_streamed_question_gets_the_approved_answer_as_its_text(tmp_path: Path) -> None:
    ledger = MemoryLedger()
    core = make_core(tmp_path, ledger=ledger)
    book_of(core).add(QUESTION, TEXT, "en", "it-desk", cited=[VPN])
    events = [e async for e in core.stream(Question(QUESTION, user="u1"))]
    assert isinstance(events[-1], Final) and events[-1].reply.route is Route.APPROVED
    assert visible_text(events) == TEXT and [r.route for r in ledger.rows()] == ["approved"]


class Mirrored(HashingEmbedder):
    """Another encoder (its own name; vectors the hashing one's mirror image, so a question
    embedded by one never matches an answer embedded by the other)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def encode(self, texts: list[str]) -> np.ndarray:
        return -super().encode(texts)


async def test_each_language_has_its_own_encoder_and_the_trace_keeps_the_multilingual_one(
        tmp_path: Path) -> None:
    store, main = knowledge(tmp_path)
    multilingual, ledger = Mirrored("multilingual"), MemoryLedger()
    core = Firstline(settings_for(tmp_path, cache_ttl_seconds=0), local=FakeChatModel("x"),
                     store=store, embeddings=main, multilingual=multilingual, ledger=ledger,
                     router=RuleRouter(), searcher=StaticSearcher([]))
    en = core.approved.add(QUESTION, TEXT, "en", "it-desk")
    ja = core.approved.add("育児休業はいつまで取れますか？", "子が1歳になるまでです。", "ja", "hr")
    assert (en.encoder, ja.encoder) == ("hashing", "multilingual")
    assert (await ask(core, "how can I reset my vpn password")).text == TEXT
    assert (await ask(core, "育児休業はいつまで取れますか")).text == ja.answer
    assert {t.trace.encoder for t in ledger.traced()} == {"multilingual"}


async def test_an_answer_stored_with_another_encoder_is_re_embedded_and_still_matches(
        tmp_path: Path) -> None:
    ledger = MemoryLedger()
    core = make_core(tmp_path, ledger=ledger)  # English: the "hashing" encoder
    before = ApprovedBook(ledger, Mirrored("use-multilingual-v3"), core.store, 0.9)
    old = before.add(QUESTION, TEXT, "en", "it-desk", cited=[VPN])  # approved before the change
    reply = await ask(core, "how can I reset my vpn password")
    assert reply.route is Route.APPROVED and reply.signals["approved_id"] == old.id
    now = ledger.approved(old.id)
    assert now is not None and now.encoder == "hashing" and now.vector != old.vector
    assert now.updated_at == old.updated_at and now.status == "active"
