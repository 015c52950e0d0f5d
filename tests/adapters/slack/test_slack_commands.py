"""Admin commands: ``/firstline ...`` and the same words in a mention; who may run them."""

from __future__ import annotations

from fake_responder import FakeResponder
from slack_standin import (
    ADMIN,
    ASKER,
    BOT_USER,
    GROUP_ADMIN,
    Running,
    SlackStandIn,
    event_callback,
    mention_event,
    slash_command,
)

CHANNEL = "C0OPS"


async def slash(running: Running, standin: SlackStandIn, text: str, user: str) -> float:
    fields = slash_command(text, user, CHANNEL, standin.response_url("cmd"))
    status, body, seconds = await running.slack.form(fields)
    assert (status, body) == (200, "")
    return seconds


async def test_slash_status_for_an_admin_is_answered_privately(
        running: Running, standin: SlackStandIn, responder: FakeResponder) -> None:
    seconds = await slash(running, standin, "status", ADMIN)
    assert seconds < 1.0
    [response] = await standin.wait_for(lambda: standin.responses)
    assert response.args["response_type"] == "ephemeral"
    assert "Documents: 16" in response.args["blocks"][0]["text"]
    assert all(b["type"] != "actions" for b in response.args["blocks"])  # no 👍/👎 on commands
    question = responder.questions[0]
    assert (question.text, question.is_admin, question.user) == ("status", True, ADMIN)


async def test_members_of_an_admin_group_are_admins(running: Running, standin: SlackStandIn,
                                                    responder: FakeResponder) -> None:
    await slash(running, standin, "costs", GROUP_ADMIN)
    await standin.wait_for(lambda: standin.responses)
    await slash(running, standin, "costs", GROUP_ADMIN)
    await standin.wait_for(lambda: len(standin.responses) == 2)
    assert [q.is_admin for q in responder.questions] == [True, True]
    assert len(standin.calls_to("usergroups.users.list")) == 1  # cached


async def test_a_non_admin_is_refused_politely(running: Running, standin: SlackStandIn,
                                               responder: FakeResponder) -> None:
    await slash(running, standin, "reindex", ASKER)
    [response] = await standin.wait_for(lambda: standin.responses)
    assert "only firstline admins" in response.args["text"]
    assert responder.questions[0].is_admin is False
    assert responder.reindexing is None
    assert not standin.calls_to("chat.postMessage")


async def test_a_non_admin_mention_command_is_refused_in_the_thread(
        running: Running, standin: SlackStandIn, responder: FakeResponder) -> None:
    message = standin.user_message(CHANNEL, f"<@{BOT_USER}> reindex --full")
    await running.slack.event(event_callback(mention_event(message, CHANNEL)))
    await standin.wait_for(lambda: standin.calls_to("chat.update"))
    assert "only firstline admins" in standin.bot_texts(CHANNEL, message["ts"])[0]
    assert responder.questions[0].text == "reindex --full"


async def test_empty_slash_command_means_help(running: Running, standin: SlackStandIn,
                                              responder: FakeResponder) -> None:
    await slash(running, standin, "", ASKER)
    await standin.wait_for(lambda: standin.responses)
    assert responder.questions[0].text == "help"


async def test_reindex_in_a_thread_reports_there_and_runs_once(
        running: Running, standin: SlackStandIn, responder: FakeResponder) -> None:
    start = standin.user_message(CHANNEL, f"<@{BOT_USER}> reindex", user=ADMIN)
    await running.slack.event(event_callback(mention_event(start, CHANNEL)))
    thread = start["ts"]
    await standin.wait_for(lambda: any("8/16" in t for t in standin.bot_texts(CHANNEL, thread)))
    assert "Reindex started" in standin.bot_texts(CHANNEL, thread)[0]

    again = standin.user_message(CHANNEL, f"<@{BOT_USER}> reindex", user=ADMIN, thread_ts=thread)
    await running.slack.event(event_callback(mention_event(again, CHANNEL)))
    await standin.wait_for(
        lambda: any("already running" in t for t in standin.bot_texts(CHANNEL, thread)))

    # answers still work meanwhile
    question = standin.user_message(CHANNEL, f"<@{BOT_USER}> VPN?")
    await running.slack.event(event_callback(mention_event(question, CHANNEL)))
    await standin.wait_for(
        lambda: any("self-service" in t for t in standin.bot_texts(CHANNEL, question["ts"])))

    responder.reindex_gate.set()
    await standin.wait_for(
        lambda: any("Reindex finished" in t for t in standin.bot_texts(CHANNEL, thread)))
    texts = standin.bot_texts(CHANNEL, thread)
    assert [t.split()[0] for t in texts] == ["Reindex", "Indexing…", "A", "Reindex"]


async def test_slash_reindex_opens_a_thread_for_progress(running: Running,
                                                        standin: SlackStandIn,
                                                        responder: FakeResponder) -> None:
    await slash(running, standin, "reindex", ADMIN)
    [response] = await standin.wait_for(lambda: standin.responses)
    assert "Reindex started" in response.args["text"]
    await standin.wait_for(lambda: len(standin.calls_to("chat.postMessage")) == 2)
    anchor, progress = standin.calls_to("chat.postMessage")
    assert anchor.args["channel"] == CHANNEL and "thread_ts" not in anchor.args
    assert anchor.args["text"] == "`/firstline reindex` — requested by <@U0ADMIN>"
    anchor_ts = standin.messages[CHANNEL][0]["ts"]
    assert progress.args["thread_ts"] == anchor_ts

    await slash(running, standin, "reindex", ADMIN)
    await standin.wait_for(lambda: len(standin.responses) == 2)
    assert "already running" in standin.responses[1].args["text"]

    responder.reindex_gate.set()
    await standin.wait_for(lambda: len(standin.calls_to("chat.postMessage")) == 3)
    summary = standin.calls_to("chat.postMessage")[2]
    assert summary.args["thread_ts"] == anchor_ts
    assert summary.args["markdown_text"].startswith("Reindex finished")  # Slack renders it
    assert "text" not in summary.args and "blocks" not in summary.args


async def test_slash_reindex_outside_the_bots_channels_reports_by_dm(
        running: Running, standin: SlackStandIn, responder: FakeResponder) -> None:
    standin.refused_channels[CHANNEL] = "not_in_channel"
    await slash(running, standin, "reindex", ADMIN)
    await standin.wait_for(lambda: standin.calls_to("conversations.open"))
    responder.reindex_gate.set()
    await standin.wait_for(lambda: len(standin.messages.get("D0ADMIN", [])) == 3)
    texts = [m["text"] for m in standin.messages["D0ADMIN"]]
    assert texts[0].startswith("`/firstline reindex`")
    assert texts[2].startswith("Reindex finished")
