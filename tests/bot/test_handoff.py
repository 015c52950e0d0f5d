""""Ask a person": the core's hand-off through the real webhook target to a real receiver on
loopback (signature and token checked), with the real Chroma file records for audiences."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from unit_parts import SALARY_HIT, VPN_HIT, WIFI_HIT, ask, make_core
from webhook_standin import SECRET, TOKEN, WebhookStandIn

from bot.answering.gaps import gap_reason
from bot.answering.handoff.payloads import Shape
from bot.answering.handoff.webhook import WebhookTarget
from bot.answering.responder import Firstline
from bot.ledger.memory import MemoryLedger
from bot.types import HandoffAsk, Reply, Route

QUESTION = ("My laptop is locked. I'm EMP-004512, mail me at taro.yamada@example.co.jp "
            "or call 090-1234-5678.")


OPENED: list[WebhookTarget] = []


@pytest_asyncio.fixture(loop_scope="function")
async def receiver() -> AsyncIterator[WebhookStandIn]:
    server = await WebhookStandIn().start()
    yield server
    for opened in OPENED:
        await opened.aclose()
    OPENED.clear()
    await server.stop()


def target(receiver: WebhookStandIn, **options: Any) -> WebhookTarget:
    shape = options.pop("shape", Shape())
    auth, secret = options.pop("auth", TOKEN), options.pop("secret", SECRET)
    made = WebhookTarget(receiver.url, shape, auth=auth, secret=secret,
                         **{"timeout": 5.0, "retries": 2, "backoff": 0.01, **options})
    OPENED.append(made)
    return made


def core_with(tmp_path: Path, receiver: WebhookStandIn | None, *, hits: list[Any] | None = None,
              handoff_on_every_answer: bool = False,
              **options: Any) -> tuple[Firstline, MemoryLedger]:
    ledger = MemoryLedger()
    core = make_core(tmp_path, hits=hits, ledger=ledger,
                     handoff_target="webhook" if receiver else "",
                     handoff_on_every_answer=handoff_on_every_answer)
    if receiver is not None:
        core.desk.attach(target(receiver, **options))
    return core, ledger


def click(reply: Reply, question: str = QUESTION, **changes: Any) -> HandoffAsk:
    return HandoffAsk(**{"answer_id": reply.answer_id, "question": question,
                         "answer": reply.text, "asker": "U0ASKER", "asker_name": "Taro Yamada",
                         "channel": "slack", "thread_link": "https://slack.example/archives/C1/p1",
                         "language": reply.language, **changes})


async def test_a_declined_answer_offers_a_person_and_a_local_one_after_a_thumbs_down(
        tmp_path: Path, receiver: WebhookStandIn) -> None:
    core, _ = core_with(tmp_path, receiver, hits=[])
    declined = await ask(core, QUESTION)
    assert declined.route == Route.DECLINED and declined.handoff == "now"
    empty = await ask(core, "   ")  # declined as not a question: asking again helps
    assert empty.reason == "bad-question" and empty.handoff == ""
    answered = await ask(make_core(tmp_path / "b", handoff_target="webhook"), "VPN reset?")
    assert answered.handoff == ""  # configured, but no target attached: no button
    local = await ask(core_with(tmp_path / "c", receiver)[0], "How do I reset the VPN?")
    assert local.route == Route.LOCAL and local.handoff == "after-down"
    every, _ = core_with(tmp_path / "e", receiver, handoff_on_every_answer=True)
    assert (await ask(every, "How do I reset the VPN?")).handoff == "now"
    assert (await ask(core_with(tmp_path / "d", None)[0], "VPN?")).handoff == ""


async def test_the_helpdesk_gets_the_question_redacted_and_the_row_is_marked(
        tmp_path: Path, receiver: WebhookStandIn) -> None:
    core, ledger = core_with(tmp_path, receiver, hits=[VPN_HIT, WIFI_HIT])
    reply = await ask(core, QUESTION)
    result = await core.handoff(click(reply))
    assert result.status == "sent" and result.reference == "HD-1001"
    assert result.text == ("I've passed your question to the IT helpdesk. Someone from the IT "
                           "helpdesk will reply to you.")
    [got] = receiver.received
    body = got.body
    assert body["question"] == ("My laptop is locked. I'm [ID], mail me at [EMAIL] or call "
                                "[PHONE].")
    for secret in ("EMP-004512", "taro.yamada@", "090-1234-5678"):
        assert secret not in str(body)
    assert body["redacted"] == {"company_id": 1, "email": 1, "phone": 1}
    assert body["answer"] == reply.text and body["answer_withheld"] is False
    assert body["asker"] == {"id": "U0ASKER", "name": "Taro Yamada", "channel": "slack"}
    assert body["thread_link"] == "https://slack.example/archives/C1/p1"
    assert body["sources"][0] == {"title": reply.sources[0].title,
                                  "path": "it/vpn-password-reset.md"}
    assert got.headers["X-Firstline-Delivery"] == reply.answer_id
    row = ledger.get(reply.answer_id)
    assert row is not None and row.handed_off_at is not None
    assert (row.handoff_target, row.handoff_reference) == ("webhook", "HD-1001")
    assert core.desk.answer_of("HD-1001") == reply.answer_id
    assert gap_reason(row, 0.5) == "handed-off"  # the knowledge gaps count it


async def test_a_second_click_is_told_it_was_already_handed_off(
        tmp_path: Path, receiver: WebhookStandIn) -> None:
    core, _ = core_with(tmp_path, receiver)
    reply = await ask(core, "VPN?")
    assert (await core.handoff(click(reply))).status == "sent"
    again = await core.handoff(click(reply, language="ja"))
    assert again.status == "already"
    assert again.text == "このご質問はすでにITヘルプデスクに引き継ぎ済みです。"
    assert len(receiver.received) == 1
    receiver.answer = {}  # a receiver that names no ticket: the row still gets a reference
    reply2 = await ask(core, "Wi-Fi?")
    assert (await core.handoff(click(reply2))).status == "sent"
    row = core.ledger.get(reply2.answer_id)
    assert row is not None and row.handoff_reference == f"webhook:{reply2.answer_id}"
    unknown = await core.handoff(click(reply, answer_id="gone"))
    assert unknown.status == "unknown" and len(receiver.received) == 2


async def test_failures_are_retried_and_a_failed_hand_off_can_be_pressed_again(
        tmp_path: Path, receiver: WebhookStandIn, caplog: pytest.LogCaptureFixture) -> None:
    core, ledger = core_with(tmp_path, receiver, retries=1)
    reply = await ask(core, "VPN?")
    receiver.script = [503, 429, 500]
    with caplog.at_level(logging.WARNING):
        failed = await core.handoff(click(reply, language="ja"))
    assert failed.status == "failed" and "もう一度「担当者に聞く」" in failed.text
    [line] = [r.getMessage() for r in caplog.records if "hand-off of" in r.getMessage()]
    assert line.endswith(f"hand-off webhook {receiver.url}: answered 429 Too Many Requests, "
                         "after 2 attempts")
    row = ledger.get(reply.answer_id)
    assert row is not None and row.handed_off_at is None  # released: the button still works
    receiver.script = [500]  # one more failure, then the retry gets through
    assert (await core.handoff(click(reply))).status == "sent"
    assert len(receiver.received) == 1 and receiver.refused == ["scripted 503", "scripted 429",
                                                                "scripted 500"]


async def test_a_refused_request_is_not_retried_and_names_the_fix(
        tmp_path: Path, receiver: WebhookStandIn, caplog: pytest.LogCaptureFixture) -> None:
    core, _ = core_with(tmp_path, receiver)
    core.desk.target = target(receiver, auth="Bearer wrong")
    reply = await ask(core, "VPN?")
    with caplog.at_level(logging.WARNING):
        assert (await core.handoff(click(reply))).status == "failed"
    assert receiver.refused == ["bad authorization"]
    assert any(r.getMessage().endswith("answered 401 Unauthorized (check "
                                       "FIRSTLINE_HANDOFF_WEBHOOK_AUTH)") for r in caplog.records)


async def test_a_wrong_signature_is_refused_by_the_receiver(
        tmp_path: Path, receiver: WebhookStandIn) -> None:
    core, _ = core_with(tmp_path, receiver)
    core.desk.target = target(receiver, secret="not-the-secret")
    reply = await ask(core, "VPN?")
    assert (await core.handoff(click(reply))).status == "failed"
    assert receiver.refused == ["bad signature"] and receiver.received == []


async def test_a_slow_or_absent_receiver_fails_in_one_line(
        tmp_path: Path, receiver: WebhookStandIn, caplog: pytest.LogCaptureFixture) -> None:
    core, _ = core_with(tmp_path, receiver, timeout=0.3, retries=0)
    reply = await ask(core, "VPN?")
    receiver.script = [1.5]
    with caplog.at_level(logging.WARNING):
        assert (await core.handoff(click(reply))).status == "failed"
        core.desk.target = target(receiver, retries=1)
        await receiver.stop()  # nobody listens any more
        assert (await core.handoff(click(reply))).status == "failed"
    lines = [r.getMessage() for r in caplog.records if "hand-off of" in r.getMessage()]
    assert lines == [
        f"hand-off of {reply.answer_id} failed: hand-off webhook {receiver.url}: no answer "
        "within 0.3 s, after 1 attempt",
        f"hand-off of {reply.answer_id} failed: hand-off webhook {receiver.url}: cannot "
        "connect (ClientConnectorError), after 2 attempts"]


async def test_restricted_documents_are_neither_quoted_nor_named(
        tmp_path: Path, receiver: WebhookStandIn) -> None:
    core, _ = core_with(tmp_path, receiver, hits=[SALARY_HIT, VPN_HIT])
    reply = await ask(core, "What is the L4 salary band?", groups=frozenset({"hr"}))
    assert reply.sources[0].path == "hr/salary-bands.md"
    await core.handoff(click(reply, question="What is the L4 salary band?"))
    [got] = receiver.received
    assert got.body["answer"] == "" and got.body["answer_withheld"] is True
    assert got.body["sources"] == [{"title": reply.sources[1].title,
                                    "path": "it/vpn-password-reset.md"}]
    assert got.body["sources_withheld"] == 1
    assert "13,200,000" not in str(got.body) and "Salary" not in str(got.body)


@pytest.mark.parametrize(("shape", "answer", "reference"), [
    (Shape("servicenow", assignment_group="Service Desk"),
     {"result": {"sys_id": "abc", "number": "INC0010042"}}, "INC0010042"),
    (Shape("jira", project="ITHELP", issue_type="Service Request"),
     {"id": "10001", "key": "ITHELP-7"}, "ITHELP-7"),
])
async def test_servicenow_and_jira_shapes(tmp_path: Path, receiver: WebhookStandIn,
                                          shape: Shape, answer: dict[str, Any],
                                          reference: str) -> None:
    core, ledger = core_with(tmp_path, receiver, shape=shape)
    receiver.answer = answer
    reply = await ask(core, QUESTION)
    assert (await core.handoff(click(reply))).reference == reference
    body = receiver.received[0].body
    if shape.format == "servicenow":
        assert body["short_description"].startswith("[firstline] My laptop is locked. I'm [ID]")
        assert body["caller_id"] == "Taro Yamada" and body["assignment_group"] == "Service Desk"
        assert body["correlation_id"] == reply.answer_id
        text = body["description"]
    else:
        fields = body["fields"]
        assert fields["project"] == {"key": "ITHELP"}
        assert fields["issuetype"] == {"name": "Service Request"}
        text = fields["description"]
    assert "Question:\nMy laptop is locked. I'm [ID], mail me at [EMAIL]" in text
    assert "Thread: https://slack.example/archives/C1/p1" in text
    assert "taro.yamada@" not in str(body)
    row = ledger.get(reply.answer_id)
    assert row is not None and row.handoff_reference == reference


async def test_promotion_needs_an_admin_a_known_hand_off_and_a_reply(
        tmp_path: Path, receiver: WebhookStandIn) -> None:
    from bot.types import Promotion

    core, ledger = core_with(tmp_path, receiver)
    reply = await ask(core, "VPN?", language="ja")
    await core.handoff(click(reply, question="VPNのリセット方法は?"))
    asked = Promotion("HD-1001", "VPNのリセット方法は?", "ポータルからリセットできます。",
                      "U0ADMIN")
    refused = await core.promote(asked)
    assert refused.approved_id == "" and "管理者" in refused.text
    unknown = await core.promote(Promotion("HD-404", "q", "a", "U0ADMIN", is_admin=True))
    assert unknown.text == "This hand-off is not in the ledger, so it cannot be promoted."
    empty = await core.promote(Promotion("HD-1001", "q", " ", "U0ADMIN", is_admin=True))
    assert empty.approved_id == "" and ledger.approved_list() == []
    done = await core.promote(Promotion("HD-1001", "VPNのリセット方法は?",
                                        "ポータルからリセットできます。", "U0ADMIN",
                                        is_admin=True))
    [item] = ledger.approved_list("active")
    assert done.approved_id == item.id and item.language == "ja"
