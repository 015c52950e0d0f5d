"""The order of a streamed answer's events, with the fast parts (fake models, real Chroma with a
hashing embedder, the in-memory ledger): statuses, the draft as it is written, the replacement
of a draft the checks reject or the cloud takes over, and one Final whose text is what is shown.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from unit_parts import ANSWER, make_core

from bot.answering.responder import Firstline
from bot.answering.streaming import CHECKING, SEARCHING, visible_text
from bot.errors import CloudError
from bot.ledger.memory import MemoryLedger
from bot.models.fake import FakeChatModel
from bot.routing.abstention import Abstention
from bot.routing.router import RouterConfig, RuleRouter
from bot.types import Final, Question, Replace, Reply, Route, Status, StreamEvent, TextDelta


async def streamed(core: Firstline, text: str, **question: Any) -> list[StreamEvent]:
    return [event async for event in core.stream(Question(text, user="u1", **question))]


def final(events: list[StreamEvent]) -> Reply:
    assert isinstance(events[-1], Final)
    assert sum(isinstance(e, Final) for e in events) == 1
    return events[-1].reply


def texts(events: list[StreamEvent], kind: type[TextDelta | Replace]) -> list[str]:
    return [e.text for e in events if isinstance(e, kind)]


async def test_a_local_answer_streams_its_lead_then_settles_on_the_reply(tmp_path: Path) -> None:
    local = FakeChatModel(ANSWER, name="local-slm")
    ledger = MemoryLedger()
    core = make_core(tmp_path, local=local, ledger=ledger)
    events = await streamed(core, "How do I reset my VPN password?")
    reply = final(events)
    assert reply.route is Route.LOCAL and reply.covered
    assert events[0] == Status(SEARCHING["en"])
    deltas = texts(events, TextDelta)
    assert len(deltas) >= len(ANSWER.split())  # the lead word by word, then the excerpt
    assert "".join(deltas[: len(ANSWER.split())]) == ANSWER
    assert texts(events, Replace) == []  # the reply continues what was shown
    assert visible_text(events) == reply.text and reply.text.startswith(ANSWER)
    assert "\n> " in reply.text  # the verbatim excerpt came after the lead
    assert local.streamed == 1
    assert [r.answer_id for r in ledger.rows()] == [reply.answer_id]


async def test_an_echoing_draft_is_replaced_by_the_decline(tmp_path: Path) -> None:
    echo = "You can reset your VPN password [1]."
    core = make_core(tmp_path, local=FakeChatModel(echo, name="local-slm"))
    events = await streamed(core, "How do I reset my VPN password?")
    reply = final(events)
    assert (reply.route, reply.reason, reply.covered) == (Route.DECLINED, "slm-echo", False)
    assert "".join(texts(events, TextDelta)) == echo  # it was shown while it was written ...
    last_text = [e for e in events if isinstance(e, TextDelta | Replace)][-1]
    assert last_text == Replace(reply.text)  # ... and is not left on screen
    assert visible_text(events) == reply.text and echo not in reply.text


async def test_a_draft_judged_not_confident_is_replaced_by_the_decline(tmp_path: Path) -> None:
    local = FakeChatModel(ANSWER, name="local-slm", verdicts=0.0)
    trusts_the_pass = tmp_path / "abstention.json"  # p_right = the pass's P(yes)
    Abstention(("verify_logit",), (1.0,), 0.0, 0.5).save(trusts_the_pass)
    core = make_core(tmp_path, local=local, abstention_config=str(trusts_the_pass))
    events = await streamed(core, "How do I reset my VPN password?")
    reply = final(events)
    assert (reply.route, reply.reason) == (Route.DECLINED, "not-confident")
    assert texts(events, TextDelta)[0].startswith("Open")
    assert events[-2] == Replace(reply.text) and visible_text(events) == reply.text


async def test_an_escalation_says_so_and_the_cloud_answer_replaces_the_draft(
    tmp_path: Path,
) -> None:
    cloud_text = "Use the VPN portal and pick Reset password [1]."
    cloud = FakeChatModel(cloud_text, name="cloud-model")
    unsure = RuleRouter(RouterConfig(min_mean_logprob=0.0))  # every draft escalates
    ledger = MemoryLedger()
    core = make_core(tmp_path, cloud=cloud, router=unsure, ledger=ledger)
    events = await streamed(core, "How do I reset my VPN password?")
    reply = final(events)
    assert (reply.route, reply.reason) == (Route.CLOUD, "low-confidence")
    kinds = [type(e).__name__ for e in events]
    checking = events.index(Status(CHECKING["en"]))
    assert "TextDelta" in kinds[:checking]  # the local draft was shown first
    assert isinstance(events[checking + 1], Replace)  # the cloud's first piece replaces it
    after = visible_text(events[checking + 1:-1])
    assert after == cloud_text == reply.text == visible_text(events)
    assert cloud.streamed == 1 and len(ledger.rows()) == 1


async def test_a_japanese_question_gets_japanese_statuses(tmp_path: Path) -> None:
    core = make_core(tmp_path, local=FakeChatModel("VPNポータルで再設定します [1]。"))
    events = await streamed(core, "VPNのパスワードをリセットするには?")
    assert events[0] == Status(SEARCHING["ja"])
    assert visible_text(events) == final(events).text


async def test_a_declined_question_with_nothing_shown_ends_with_its_text(tmp_path: Path) -> None:
    local = FakeChatModel(ANSWER)
    core = make_core(tmp_path, local=local, hits=[])
    events = await streamed(core, "What is the cafeteria menu on Friday?")
    reply = final(events)
    assert reply.route is Route.DECLINED and local.requests == []
    assert events[-2] == TextDelta(reply.text) and visible_text(events) == reply.text


async def test_handle_does_not_stream_and_answers_as_before(tmp_path: Path) -> None:
    local = FakeChatModel(ANSWER, name="local-slm")
    core = make_core(tmp_path, local=local)
    reply = await core.handle(Question("How do I reset my VPN password?", user="u1"))
    assert reply.route is Route.LOCAL and reply.text.startswith(ANSWER)
    assert local.streamed == 0 and len(local.requests) == 1


async def test_a_consumer_that_stops_early_still_gets_one_ledger_row(tmp_path: Path) -> None:
    ledger = MemoryLedger()
    core = make_core(tmp_path, ledger=ledger)
    stream = core.stream(Question("How do I reset my VPN password?", user="u1"))
    async for event in stream:
        if isinstance(event, TextDelta):
            break
    await stream.aclose()
    await core.aclose()  # waits for the answer still running
    assert len(ledger.rows()) == 1 and ledger.rows()[0].route == "local"


async def test_a_cloud_that_fails_leaves_the_local_answer_on_screen(tmp_path: Path) -> None:
    cloud = FakeChatModel(CloudError("cloud model down"), name="cloud-model")
    unsure = RuleRouter(RouterConfig(min_mean_logprob=0.0))
    core = make_core(tmp_path, cloud=cloud, router=unsure)
    events = await streamed(core, "How do I reset my VPN password?")
    reply = final(events)
    assert reply.route is Route.LOCAL_FALLBACK and reply.text.startswith(ANSWER)
    assert Status(CHECKING["en"]) in events and reply.notice
    assert visible_text(events) == reply.text
