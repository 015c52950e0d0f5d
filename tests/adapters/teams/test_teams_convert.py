"""Teams activities → Questions: mentions, admins, card submits."""

from __future__ import annotations

from typing import Any

import pytest
from botbuilder.schema import Activity

from adapters.teams.convert import Feedback, feedback_from, to_question

BOT = "28:bot-app-id"


def activity(text: str, *, kind: str | None = "personal", mentions: tuple[dict[str, Any], ...] = (),
             aad: str | None = "AAD-1", **extra: Any) -> Activity:
    sender: dict[str, Any] = {"id": "29:user"}
    if aad:
        sender["aadObjectId"] = aad
    conversation: dict[str, Any] = {"id": "conv-1"}
    if kind:
        conversation["conversationType"] = kind
    return Activity().deserialize({
        "type": "message", "text": text, "from": sender, "recipient": {"id": BOT},
        "conversation": conversation, "entities": list(mentions), **extra})


def mention(who: str, name: str) -> dict[str, Any]:
    return {"type": "mention", "text": f"<at>{name}</at>", "mentioned": {"id": who, "name": name}}


def test_the_bots_mention_is_removed_and_others_become_names() -> None:
    a = activity("<at>Firstline</at>&nbsp;is <at>Ann</at> an admin?", kind="channel",
                 mentions=(mention(BOT, "Firstline"), mention("29:ann", "Ann")))
    question = to_question(a, ())
    assert question is not None
    assert question.text == "is Ann an admin?"


def test_a_channel_message_mentioning_someone_else_is_not_for_the_bot() -> None:
    a = activity("<at>Ann</at> hi", kind="channel", mentions=(mention("29:ann", "Ann"),))
    assert to_question(a, ()) is None


def test_the_emulator_has_no_conversation_type_and_counts_as_personal() -> None:
    question = to_question(activity("hello", kind=None), ())
    assert question is not None and question.text == "hello"


@pytest.mark.parametrize("admins, expected", [
    (("aad-1",), True), (("AAD-1",), True), (("someone-else",), False), ((), False)])
def test_admins_are_matched_by_aad_object_id(admins: tuple[str, ...], expected: bool) -> None:
    question = to_question(activity("reindex"), admins)
    assert question is not None and question.is_admin is expected


def test_without_an_aad_id_the_channel_id_is_the_user_and_never_an_admin() -> None:
    question = to_question(activity("reindex", aad=None), ("",))
    assert question is not None
    assert (question.user, question.is_admin) == ("29:user", False)


def test_question_fields() -> None:
    question = to_question(activity("hi"), ())
    assert question is not None
    assert (question.user, question.conversation, question.channel) == ("AAD-1", "conv-1", "teams")


@pytest.mark.parametrize("value, expected", [
    ({"firstline": "feedback", "answer_id": "a1", "vote": "up"}, Feedback("a1", "up")),
    ({"firstline": "feedback", "answer_id": "a1", "vote": "down", "reason": " slow "},
     Feedback("a1", "down", "slow")),
    ({"firstline": "feedback", "answer_id": "a1", "vote": "meh"}, None),
    ({"firstline": "feedback", "answer_id": "", "vote": "up"}, None),
    ({"answer_id": "a1", "vote": "up"}, None),
    ("up", None),
    (None, None),
])
def test_card_submits_become_feedback(value: Any, expected: Feedback | None) -> None:
    assert feedback_from(value) == expected
