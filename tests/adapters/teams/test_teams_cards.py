"""Rendering a Reply for Teams: the Adaptive Card and its plain-text fallback."""

from __future__ import annotations

import pytest

from adapters.teams.cards import answer_card, plain_text, reply_activity, route_label
from bot.types import Reply, Route, Source

VPN = Source("it/vpn.md", "VPN access", 0.9, heading="Resetting the password")
BADGE = Source("facilities/badges.md", "Badges", 0.4, url="https://intranet.example/badges")


def reply(**changes: object) -> Reply:
    base: dict[str, object] = {"text": "Use the portal.", "answer_id": "a1",
                               "sources": (VPN, BADGE), "cited": (VPN.path,)}
    base.update(changes)
    return Reply(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize("route, label", [
    (Route.LOCAL, "on-prem"), (Route.CLOUD, "cloud"), (Route.CACHE, "cached"),
    (Route.APPROVED, "approved answer"), (Route.LOCAL_FALLBACK, "on-prem (cloud unavailable)"),
])
def test_the_route_is_named_for_people(route: Route, label: str) -> None:
    assert route_label(route) == label
    texts = [b["text"] for b in answer_card(reply(route=route))["body"]]
    assert f"Answered {label}" in texts


def test_only_cited_sources_are_listed_and_the_heading_is_kept() -> None:
    texts = [b["text"] for b in answer_card(reply())["body"]]
    assert "- VPN access › Resetting the password (it/vpn.md)" in texts
    assert not any("Badges" in t for t in texts)


def test_without_citations_all_sources_are_listed_with_links() -> None:
    texts = [b["text"] for b in answer_card(reply(cited=()))["body"]]
    assert "- [Badges](https://intranet.example/badges)" in texts


def test_an_uncovered_question_lists_no_sources() -> None:
    assert "Sources" not in plain_text(reply(covered=False))


def test_the_notice_is_shown() -> None:
    card = answer_card(reply(notice="answered on-prem: cloud budget reached"))
    assert card["body"][1]["text"] == "answered on-prem: cloud budget reached"


def test_both_votes_carry_the_answer_id() -> None:
    up, down = answer_card(reply())["actions"]
    assert up["data"] == {"firstline": "feedback", "answer_id": "a1", "vote": "up"}
    assert down["card"]["actions"][0]["data"]["vote"] == "down"
    assert down["card"]["body"][0]["id"] == "reason"


def test_a_failure_is_plain_text_with_its_reference() -> None:
    failed = reply(route=Route.FAILED, text="Sorry, that failed.", error="ab12cd34", sources=())
    activity = reply_activity(failed, "msteams")
    assert not activity.attachments
    assert activity.text == "Sorry, that failed.\n\n(reference ab12cd34)"


def test_command_output_is_plain_text() -> None:
    status = reply(route=Route.COMMAND, text="index: 23 documents", answer_id="", sources=())
    assert reply_activity(status, "msteams").text == "index: 23 documents"


def test_a_card_capable_channel_gets_the_card_and_a_summary() -> None:
    activity = reply_activity(reply(), "msteams")
    assert activity.attachments[0].content["version"] == "1.4"
    assert activity.summary == plain_text(reply())
    assert activity.text is None  # Teams would show text above the card as well


def test_a_japanese_answer_gets_japanese_labels() -> None:
    card = answer_card(reply(language="ja", route=Route.CLOUD))
    texts = [b["text"] for b in card["body"]]
    assert "参照元" in texts and "回答元: クラウド" in texts
    assert [a["title"] for a in card["actions"]] == ["👍 役に立った", "👎 役に立たなかった"]


def test_a_declined_question_can_be_rated_but_names_no_route() -> None:
    declined = reply(route=Route.DECLINED, covered=False, text="I don't know.")
    card = answer_card(declined)
    assert [b["text"] for b in card["body"]] == ["I don't know."]
    assert len(card["actions"]) == 2
    assert plain_text(declined) == "I don't know."


def test_ask_a_person_carries_the_question_and_answer() -> None:
    card = answer_card(reply(language="ja", handoff="now"), question="VPNは?")
    person = card["actions"][-1]
    assert person["title"] == "担当者に聞く"
    assert person["data"] == {"firstline": "handoff", "answer_id": "a1", "question": "VPNは?",
                              "answer": "Use the portal."}
    later = answer_card(reply(handoff="after-down"), question="VPN?")
    assert [a["title"] for a in later["actions"]] == ["👍 Helpful", "👎 Not helpful"]
    down = later["actions"][1]["card"]["actions"][0]["data"]
    assert down["handoff"] == {"question": "VPN?", "answer": "Use the portal."}
    assert "handoff" not in answer_card(reply())["actions"][1]["card"]["actions"][0]["data"]
