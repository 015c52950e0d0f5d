"""SlackSettings: Slack's environment variable names, the ``[slack]`` table of firstline.toml,
and explicit values above both — without importing the Slack SDKs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from slack_standin import SlackStandIn, slack_settings

from adapters.slack.settings import SlackSettings
from bot.app.startup import check_slack
from bot.errors import UserFacingError

ENV = {
    "SLACK_BOT_TOKEN": "xoxb-env",
    "SLACK_SIGNING_SECRET": "signing-env",
    "SLACK_APP_TOKEN": "xapp-env",
    "SLACK_API_URL": "https://slack.example/api/",
    "FIRSTLINE_SLACK_ADMIN_USERS": "U01, U02,",
    "FIRSTLINE_SLACK_ADMIN_GROUPS": "S01",
}


def write(tmp_path: Path, toml: str) -> Path:
    path = tmp_path / "firstline.toml"
    path.write_text(toml)
    return path


def test_defaults_without_environment_or_file(tmp_path: Path) -> None:
    loaded = SlackSettings.load(environ={}, config_file=tmp_path / "none.toml")
    assert loaded == SlackSettings()
    assert (loaded.bot_token, loaded.api_url, loaded.admin_users) == (
        "", "https://slack.com/api/", ())


def test_reads_slacks_own_environment_variables(tmp_path: Path) -> None:
    loaded = SlackSettings.load(environ=ENV, config_file=tmp_path / "none.toml")
    assert loaded == SlackSettings(
        bot_token="xoxb-env", signing_secret="signing-env", app_token="xapp-env",
        api_url="https://slack.example/api/", admin_users=("U01", "U02"),
        admin_groups=("S01",))


def test_reads_the_slack_table_and_ignores_the_cores_keys(tmp_path: Path) -> None:
    config = write(tmp_path, 'top_k = 3\n[firstline]\ntop_k = 4\n'
                             '[slack]\nbot_token = "xoxb-file"\nadmin_groups = ["S01", "S02"]\n'
                             '[teams]\napp_id = "not-slacks"\n')
    loaded = SlackSettings.load(environ={}, config_file=config)
    assert (loaded.bot_token, loaded.admin_groups) == ("xoxb-file", ("S01", "S02"))
    # FIRSTLINE_CONFIG names the file as it does for the core's settings
    assert SlackSettings.load(environ={"FIRSTLINE_CONFIG": str(config)}) == loaded


def test_explicit_beats_environment_beats_file(tmp_path: Path) -> None:
    config = write(tmp_path, '[slack]\nbot_token = "xoxb-file"\napp_token = "xapp-file"\n'
                             'api_url = "https://file.example/api/"\n')
    env = {"SLACK_BOT_TOKEN": "xoxb-env", "SLACK_APP_TOKEN": "xapp-env"}
    loaded = SlackSettings.load({"bot_token": "xoxb-explicit", "app_token": None},
                                environ=env, config_file=config)
    assert loaded.bot_token == "xoxb-explicit"
    assert loaded.app_token == "xapp-env"  # None means "not given"
    assert loaded.api_url == "https://file.example/api/"


def test_unknown_keys_in_the_slack_table_are_refused(tmp_path: Path) -> None:
    config = write(tmp_path, '[slack]\nbot_tokn = "xoxb-1"\n')
    with pytest.raises(UserFacingError, match=r"firstline.toml:slack.bot_tokn: unknown setting "
                       r"\(did you mean bot_token\?\)$"):
        SlackSettings.load(environ={}, config_file=config)
    with pytest.raises(UserFacingError, match=r"slack: expected a \[slack\] table, got 'on'"):
        SlackSettings.load(environ={}, config_file=write(tmp_path, 'slack = "on"\n'))


def test_secrets_are_masked() -> None:
    shown = SlackSettings(bot_token="xoxb-1", app_token="xapp-1", admin_users=("U01",)).redacted()
    assert {k: v for k, v in shown.items() if not k.startswith("suggested_prompts")} == {
        "bot_token": "***", "signing_secret": "", "app_token": "***",
        "api_url": "https://slack.com/api/", "admin_users": ["U01"], "admin_groups": [],
        "audience_groups": [], "look_up_email": False, "stream": True, "handoff_channel": ""}
    assert len(shown["suggested_prompts"]) == len(shown["suggested_prompts_ja"]) == 3


def test_loading_the_settings_loads_no_slack_sdk() -> None:
    code = ("import sys; import adapters.slack.settings; "
            "print(sorted(m for m in sys.modules if m.startswith(('slack_bolt', 'slack_sdk'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.strip() == "[]"


# -- `firstline serve`'s start-up check, against the stand-in over a real socket ----------------
async def test_serve_checks_the_bot_token_with_auth_test(standin: SlackStandIn) -> None:
    settings = slack_settings(standin)
    await check_slack(settings)
    [call] = standin.calls_to("auth.test")
    assert call.authorization == f"Bearer {settings.bot_token}"
    standin.failures["auth.test"] = "invalid_auth"
    with pytest.raises(UserFacingError) as refused:
        await check_slack(settings)
    assert str(refused.value) == "SLACK_BOT_TOKEN: Slack refused the bot token (invalid_auth)"
    await standin.stop()
    with pytest.raises(UserFacingError) as unreachable:
        await check_slack(settings)
    assert str(unreachable.value).startswith(
        f"SLACK_API_URL: Slack's Web API does not answer at {standin.api_url} (")
