"""Streamed answers from the real core over the sample knowledge base: the real GGUF writes the
lead token by token, the answer checks still reject what they rejected, and an escalation hands
over to a real loopback server speaking OpenAI-compatible server-sent events.
"""

from __future__ import annotations

from typing import Any

import pytest
from chat_spies import with_parts
from recording_cloud import RecordingCloud

from bot.answering.streaming import CHECKING, visible_text
from bot.models.base import Message
from bot.models.cloud import CloudChatModel
from bot.routing.router import RouterConfig, RuleRouter
from bot.types import Final, Question, Replace, Reply, Route, Status, StreamEvent, TextDelta

pytestmark = pytest.mark.slm


async def streamed(core: Any, text: str) -> tuple[list[StreamEvent], list[int]]:
    """The events, and how many ledger rows existed when each arrived."""
    events: list[StreamEvent] = []
    rows: list[int] = []
    async for event in core.stream(Question(text, user="U0STREAM", channel="slack")):
        events.append(event)
        rows.append(len(core.ledger.rows()))
    return events, rows


def final(events: list[StreamEvent]) -> Reply:
    assert isinstance(events[-1], Final) and sum(isinstance(e, Final) for e in events) == 1
    return events[-1].reply


def deltas(events: list[StreamEvent]) -> list[str]:
    return [e.text for e in events if isinstance(e, TextDelta)]


async def test_the_gguf_streams_its_tokens_and_still_reports_usage(sample_core: Any) -> None:
    pieces: list[str] = []
    messages = [Message("user", "Name three colours, one per line.")]
    completion = await sample_core.local.complete_streaming(messages, pieces.append,
                                                            max_tokens=24)
    assert len(pieces) >= 3
    assert "".join(pieces).strip() == completion.text
    assert completion.completion_tokens >= len(pieces) and completion.prompt_tokens > 5


async def test_a_local_answer_is_shown_while_it_is_written(sample_core: Any) -> None:
    before = len(sample_core.ledger.rows())
    events, rows = await streamed(sample_core, "How do I reset my VPN password?")
    reply = final(events)
    assert reply.route is Route.LOCAL and reply.cited[0] == "it/vpn-password-reset.md"
    assert len(deltas(events)) >= 5  # llama.cpp's tokens, not one piece at the end
    first_text = next(i for i, e in enumerate(events) if isinstance(e, TextDelta))
    assert rows[first_text] == before  # shown before the answer was finished and recorded
    assert rows[-1] == before + 1  # exactly one ledger row for the streamed answer
    assert visible_text(events) == reply.text
    row = sample_core.ledger.get(reply.answer_id)
    assert row is not None and row.route == "local" and row.tokens[sample_core.local.name]


async def test_a_draft_judged_not_confident_is_replaced_by_the_decline(sample_core: Any) -> None:
    events, _ = await streamed(sample_core, "How much is the employee referral bonus?")
    reply = final(events)
    assert (reply.route, reply.reason, reply.covered) == (Route.DECLINED, "not-confident", False)
    shown = "".join(deltas(events))
    assert len(deltas(events)) >= 3 and shown not in reply.text  # the draft was on screen ...
    last_text = [e for e in events if isinstance(e, TextDelta | Replace)][-1]
    assert last_text == Replace(reply.text)  # ... and the decline replaced it
    assert "knowledge base doesn't cover" in reply.text and visible_text(events) == reply.text


async def test_an_escalation_says_so_and_the_clouds_streamed_answer_replaces_the_draft(
        sample_core: Any) -> None:
    answer = "Reset it at the self-service portal and approve the MFA push [1]."
    recording = RecordingCloud(answer, usage=(300, 17))
    async with recording:
        cloud = CloudChatModel(recording.url, "sk-test", "gpt-4o-mini")
        unsure = RuleRouter(RouterConfig(min_mean_logprob=0.0))  # every local draft escalates
        core = with_parts(sample_core, cloud=cloud, router=unsure)
        before = len(core.ledger.rows())
        events, rows = await streamed(core, "How do I reset my VPN password?")
        await cloud.aclose()
    reply = final(events)
    assert (reply.route, reply.reason) == (Route.CLOUD, "low-confidence")
    checking = events.index(Status(CHECKING["en"]))
    assert len(deltas(events[:checking])) >= 3  # the local draft, token by token
    assert isinstance(events[checking + 1], Replace)  # the cloud's first piece takes over
    assert len(deltas(events[checking:])) >= 5  # then the cloud's pieces as they arrive
    assert visible_text(events) == reply.text == answer
    assert recording.bodies[0]["stream"] is True
    assert reply.tokens["recorded-cloud"] == {"prompt": 300, "completion": 17}
    row = core.ledger.get(reply.answer_id)
    assert rows[-1] == before + 1 and row is not None and row.route == "cloud"


async def test_handle_still_answers_in_one_piece(sample_core: Any) -> None:
    reply = await sample_core.handle(Question("How do I reset my VPN password?", user="U0"))
    assert reply.route is Route.LOCAL and reply.cited[0] == "it/vpn-password-reset.md"
