"""Reply → Block Kit, and Slack markup ↔ plain text: pure functions."""

from __future__ import annotations

import json

from slack_standin import refused_markdown

from adapters.slack.blocks import (
    MARKDOWN_LIMIT,
    context_line,
    fallback_text,
    placeholder_text,
    reason_view,
    reply_blocks,
    shown_sources,
    source_label,
    text_blocks,
)
from adapters.slack.text import chunks, question_text, to_mrkdwn
from bot.types import Reply, Route, Source

VPN = Source("it/vpn-password-reset.md", "VPN password reset", 0.9)
MFA = Source("it/mfa-setup-ja.md", "MFA setup", 0.5)
LEAVE = Source("hr/leave.html", "Leave policy", 0.4, url="https://intranet.example/leave?a=1&b=2")


def reply(**kw: object) -> Reply:
    base: dict[str, object] = {"text": "Use the portal [1].", "answer_id": "a1",
                               "sources": (VPN, MFA, LEAVE), "cited": (VPN.path, LEAVE.path)}
    return Reply(**(base | kw))  # type: ignore[arg-type]


def test_an_answer_has_text_sources_route_and_buttons() -> None:
    blocks = reply_blocks(reply())
    assert [b["type"] for b in blocks] == ["markdown", "context", "context", "context_actions"]
    assert blocks[0]["text"] == "Use the portal [1]."  # Markdown, rendered by Slack itself
    sources = blocks[1]["elements"][0]["text"]
    assert sources.startswith("*Sources:*")
    assert "[1] `vpn-password-reset.md` — VPN password reset" in sources
    assert "[3] <https://intranet.example/leave?a=1&amp;b=2|Leave policy>" in sources
    assert "MFA" not in sources  # not cited
    [buttons] = blocks[3]["elements"]
    assert (buttons["type"], buttons["action_id"]) == ("feedback_buttons", "firstline_feedback")
    assert buttons["negative_button"]["value"] == "down:a1"
    assert buttons["negative_button"]["accessibility_label"] == "Not helpful"


def test_route_labels() -> None:
    labels = {route: context_line(reply(route=route)) for route in Route}
    assert labels[Route.LOCAL] == "Answered on-prem"
    assert labels[Route.CLOUD] == "Answered in the cloud"
    assert labels[Route.CACHE] == "Cached answer"
    assert labels[Route.APPROVED] == "Approved answer"
    assert labels[Route.LOCAL_FALLBACK] == "Answered on-prem (cloud unavailable)"
    assert labels[Route.COMMAND] == labels[Route.DECLINED] == ""


def test_notice_and_error_reference_join_the_context_line() -> None:
    line = context_line(reply(route=Route.LOCAL_FALLBACK, notice="cloud budget reached"))
    assert line == "Answered on-prem (cloud unavailable) · cloud budget reached"
    failed = reply(text="Sorry.", route=Route.FAILED, error="ab12cd34")
    assert context_line(failed) == "reference `ab12cd34`"


def test_uncited_answers_list_the_top_passages_and_uncovered_ones_none() -> None:
    assert [n for n, _ in shown_sources(reply(cited=()))] == [1, 2, 3]
    assert shown_sources(reply(covered=False, route=Route.DECLINED)) == []
    declined = reply_blocks(reply(covered=False, route=Route.DECLINED))
    assert [b["type"] for b in declined] == ["markdown", "context_actions"]


def test_commands_and_failures_get_no_buttons() -> None:
    for route in (Route.COMMAND, Route.FAILED):
        assert all(b["type"] != "context_actions" for b in reply_blocks(reply(route=route)))


def test_japanese_answers_get_japanese_labels() -> None:
    blocks = reply_blocks(reply(language="ja", text="ポータルを使ってください [1]。"))
    assert blocks[1]["elements"][0]["text"].startswith("*参照:*")
    assert blocks[2]["elements"][0]["text"] == "オンプレミスで回答"
    assert blocks[3]["elements"][0]["positive_button"]["accessibility_label"] == "役に立った"
    assert placeholder_text("VPNのパスワードは?") == "_確認しています…_"


def test_the_answers_markdown_goes_to_slack_as_written() -> None:
    text = "**Reset** it in [the portal](https://x.example/a?b=1&c=2) [1].\n> Step 1 < step 2"
    [markdown] = [b for b in reply_blocks(reply(text=text)) if b["type"] == "markdown"]
    assert markdown == {"type": "markdown", "text": text}  # no hand-made mrkdwn, no escaping
    assert fallback_text(reply(text=text)).startswith("*Reset* it in <https://x.example/a?b=1")


def test_text_over_slacks_markdown_limit_is_cut_and_empty_text_has_no_block() -> None:
    text = "\n\n".join(f"Paragraph {i}. " + "word " * 100 for i in range(40))
    [markdown] = text_blocks(text)
    assert len(text) > MARKDOWN_LIMIT == len(markdown["text"]) and markdown["text"][-1] == "…"
    assert text_blocks("  ") == []
    assert chunks("", 10) == []


def test_source_label_escapes_and_falls_back_to_the_path() -> None:
    assert source_label(Source("a/<b>.md", "", 0.1)) == "`&lt;b&gt;.md`"
    assert source_label(Source("notes.txt", "notes.txt", 0.1)) == "`notes.txt`"


def test_reason_dialog_carries_the_answer() -> None:
    view = reason_view("a1", "C1", "123.4")
    assert view["callback_id"] == "firstline_vote_reason"
    assert '"answer_id": "a1"' in view["private_metadata"]
    assert view["blocks"][0]["optional"] is True


def test_markdown_becomes_mrkdwn() -> None:
    md = "# Steps\n- open **Settings**\n- see [the guide](https://x.example/a?b=1)\n1 < 2 & 3"
    assert to_mrkdwn(md) == ("*Steps*\n• open *Settings*\n• see <https://x.example/a?b=1|the guide>"
                             "\n1 &lt; 2 &amp; 3")
    assert to_mrkdwn("```\n**raw** <x>\n```") == "```\n**raw** <x>\n```"


def test_question_text_strips_the_mention_and_markup() -> None:
    raw = ("<@UBOT>: ask <@U123|alice> in <#C9|it-help> about <https://vpn.example|the VPN> "
           "&amp; <mailto:a@b.example|a@b.example> <!here> <!subteam^S1|@it>")
    assert question_text(raw, "UBOT") == (
        "ask @alice in #it-help about the VPN (https://vpn.example) & a@b.example @here @it")
    assert question_text("<@UBOT>   reindex  --full", "UBOT") == "reindex --full"
    assert question_text("thanks <@UBOT>", None) == "thanks @UBOT"


def test_ask_a_person_in_japanese_and_after_a_thumbs_down() -> None:
    from adapters.slack.blocks import tail_blocks
    from bot.types import Reply

    now = tail_blocks(Reply("…", "a1", language="ja", handoff="now"))
    [button] = [e for b in now if b["type"] == "actions" for e in b["elements"]]
    assert (button["text"]["text"], button["action_id"], button["value"]) == (
        "担当者に聞く", "firstline_handoff", "a1")
    later = tail_blocks(Reply("…", "a1", handoff="after-down"))
    assert [b["type"] for b in later] == ["context", "context_actions"]
    assert later[-1]["block_id"] == "firstline_feedback_handoff_a1"
    assert tail_blocks(Reply("…", "a1"))[-1]["block_id"] == "firstline_feedback_a1"


def test_the_standin_takes_markdown_blocks_where_slack_does() -> None:
    answer = {"blocks": json.dumps(reply_blocks(reply())), "text": "Use the portal [1]."}
    assert refused_markdown("chat.update", answer) is None
    assert refused_markdown("chat.postMessage", {"markdown_text": "**hi**"}) is None
    in_modal = {"view": json.dumps({"type": "modal", "blocks": text_blocks("**hi**")})}
    assert refused_markdown("views.open", in_modal) == "invalid_blocks"  # messages only
    two = [{"type": "markdown", "text": "x" * 7000}] * 2  # 12,000 for all of them together
    assert refused_markdown("chat.postMessage", {"blocks": two}) == "invalid_blocks"
    assert refused_markdown("chat.update", {"blocks": [{"type": "markdown", "text": ""}]}) == (
        "invalid_blocks")
    assert refused_markdown("chat.postMessage", {"markdown_text": "a", "text": "a"}) == (
        "invalid_arguments")
