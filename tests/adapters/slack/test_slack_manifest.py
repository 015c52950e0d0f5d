"""The app manifest in deploy/ matches what the adapter listens for and calls."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.slack.handlers import COMMAND
from adapters.slack.server import EVENTS_PATH

yaml = pytest.importorskip("yaml")
MANIFEST = Path(__file__).resolve().parents[3] / "deploy" / "slack-app-manifest.yaml"


def manifest() -> dict:
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))


def test_events_commands_and_interactivity_are_declared() -> None:
    m = manifest()
    settings = m["settings"]
    assert {"app_mention", "message.im", "message.channels"} <= set(
        settings["event_subscriptions"]["bot_events"])
    assert settings["interactivity"]["is_enabled"] is True
    assert [c["command"] for c in m["features"]["slash_commands"]] == [COMMAND]
    assert isinstance(settings["socket_mode_enabled"], bool)
    urls = [settings["event_subscriptions"]["request_url"],
            settings["interactivity"]["request_url"], m["features"]["slash_commands"][0]["url"]]
    assert all(url.endswith(EVENTS_PATH) for url in urls)


def test_scopes_cover_the_web_api_calls() -> None:
    scopes = set(manifest()["oauth_config"]["scopes"]["bot"])
    needed = {"app_mentions:read", "chat:write", "reactions:write", "usergroups:read", "commands",
              "channels:history", "groups:history", "im:history", "im:write", "users:read",
              "users:read.email"}
    assert needed <= scopes


def test_the_agent_view_is_declared_with_its_scope_and_events() -> None:
    m = manifest()
    view = m["features"]["agent_view"]
    assert view["agent_description"].strip()
    assert 1 <= len(view["suggested_prompts"]) <= 4
    assert all({"title", "message"} == set(p) for p in view["suggested_prompts"])
    assert "assistant:write" in m["oauth_config"]["scopes"]["bot"]
    events = set(m["settings"]["event_subscriptions"]["bot_events"])
    assert {"assistant_thread_started", "assistant_thread_context_changed",
            "message.im"} <= events


def test_slack_accepts_the_descriptions() -> None:
    info = manifest()["display_information"]
    assert 174 <= len(info["long_description"]) <= 4000  # Slack refuses shorter ones
    assert len(info["description"]) <= 140
