"""The Bot Connector stand-in refuses what Teams refuses when a bot streams (checked directly)."""

from __future__ import annotations

from typing import Any

import pytest
from teams_streams import NOT_ALLOWED, OUT_OF_ORDER, Refused, StreamRules

CHAT = "a:personal-chat"


def activity(kind: str = "streaming", text: str = "A brown", sequence: int | None = 1,
             stream_id: str | None = None, *, type_: str = "typing",
             conversation_type: str = "personal", **extra: Any) -> dict[str, Any]:
    entity: dict[str, Any] = {"type": "streaminfo", "streamType": kind}
    if sequence is not None:
        entity["streamSequence"] = sequence
    if stream_id:
        entity["streamId"] = stream_id
    return {"type": type_, "text": text, "entities": [entity, *extra.pop("entities", [])],
            "conversation": {"id": CHAT, "conversationType": conversation_type}, **extra}


def started(rules: StreamRules, kind: str = "informative", text: str = "Searching…") -> str:
    status, body = rules.check(CHAT, activity(kind, text))
    assert status == 201
    return str(body["id"])


def refused(rules: StreamRules, sent: dict[str, Any]) -> Refused:
    with pytest.raises(Refused) as caught:
        rules.check(CHAT, sent)
    return caught.value


def test_a_well_formed_stream_is_accepted():
    rules = StreamRules()
    stream_id = started(rules)
    assert rules.check(CHAT, activity("streaming", "A brown", 2, stream_id)) == (202, {})
    assert rules.check(CHAT, activity("streaming", "A brown fox", 3, stream_id)) == (202, {})
    final = activity("final", "A brown fox jumps.", None, stream_id, type_="message")
    assert rules.check(CHAT, final) == (202, {})
    assert stream_id in rules.completed and CHAT not in rules.active


def test_streaming_outside_a_personal_chat_is_not_allowed():
    error = refused(StreamRules(), activity("informative", conversation_type="groupChat"))
    assert (error.status, error.code) == (403, NOT_ALLOWED)


def test_the_first_update_needs_sequence_1_and_text():
    assert refused(StreamRules(), activity(sequence=2)).status == 400
    assert refused(StreamRules(), activity(text="")).status == 400


def test_a_chunk_out_of_order_is_dropped():
    rules = StreamRules()
    stream_id = started(rules)
    rules.check(CHAT, activity("streaming", "A brown", 3, stream_id))
    error = refused(rules, activity("streaming", "A brown fox", 2, stream_id))
    assert (error.status, error.code) == (202, OUT_OF_ORDER)


def test_a_second_stream_in_the_same_chat_is_not_allowed():
    rules = StreamRules()
    started(rules)
    error = refused(rules, activity("informative", "Searching again…"))
    assert (error.status, error.code) == (403, NOT_ALLOWED)


def test_a_chunk_must_contain_the_text_streamed_before():
    rules = StreamRules()
    stream_id = started(rules, "streaming", "A brown")
    error = refused(rules, activity("streaming", "Hello", 2, stream_id))
    assert (error.status, error.code) == (403, NOT_ALLOWED)


def test_nothing_may_follow_the_final_message():
    rules = StreamRules()
    stream_id = started(rules)
    rules.check(CHAT, activity("final", "Done.", None, stream_id, type_="message"))
    error = refused(rules, activity("streaming", "Done. More", 2, stream_id))
    assert (error.status, error.code) == (403, NOT_ALLOWED)
    assert "already completed" in error.message


def test_the_final_message_is_a_message_without_a_sequence():
    rules = StreamRules()
    stream_id = started(rules)
    assert refused(rules, activity("final", "Done.", 2, stream_id, type_="message")).status == 400
    assert refused(rules, activity("final", "Done.", None, stream_id)).status == 400


def test_a_stream_past_two_minutes_is_over():
    rules = StreamRules(limit_seconds=0.0)
    stream_id = started(rules)
    error = refused(rules, activity("streaming", "Late", 2, stream_id))
    assert (error.status, error.code) == (403, NOT_ALLOWED)


def message_entity(**fields: Any) -> dict[str, Any]:
    return {"type": "https://schema.org/Message", "@type": "Message",
            "@context": "https://schema.org", **fields}


@pytest.mark.parametrize("entities", [
    [message_entity(), message_entity()],
    [message_entity(additionalType=["Handwritten"])],
    [message_entity(citation=[{"@type": "Claim", "position": 1, "appearance": {}}])],
    [message_entity(citation=[{"@type": "Claim", "position": 1, "appearance": {
        "@type": "DigitalDocument", "name": "x" * 81}}])],
    [message_entity(citation=[{"@type": "Claim", "position": n, "appearance": {
        "@type": "DigitalDocument", "name": "doc"}} for n in range(1, 22)])],
])
def test_malformed_ai_entities_are_a_bad_request(entities: list[dict[str, Any]]):
    sent = {"type": "message", "text": "Hi [1]", "entities": entities,
            "conversation": {"id": CHAT, "conversationType": "personal"}}
    assert refused(StreamRules(), sent).status == 400
