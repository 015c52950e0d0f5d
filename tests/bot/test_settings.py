"""Settings checked when they are read: every problem one line naming its source (the file and
key, the environment variable or the option) and what was expected, all reported together."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.slack.settings import SlackSettings
from adapters.teams.auth import teams_configured
from adapters.teams.settings import TeamsSettings
from bot.app.startup import NO_CHANNEL, channel_problems, load_settings, preflight
from bot.settings import Settings, SettingsError


def problems(tmp_path: Path, toml: str | None = None, environ: dict[str, str] | None = None,
             cls: type = Settings) -> list[str]:
    config = tmp_path / "firstline.toml"
    if toml is not None:
        config.write_text(toml)
    with pytest.raises(SettingsError) as caught:
        cls.load(environ=environ or {}, config_file=config if toml is not None else None)
    return list(caught.value.problems)


def test_every_problem_is_reported_at_once_with_its_source(tmp_path: Path) -> None:
    toml = ('top_k = "four"\ntopk = 3\nport = 3978.5\ncloud_url = "api.example.com/v1"\n'
            'redact = 1\n[slak]\nbot_token = "x"\n')
    found = problems(tmp_path, toml, {"CHROMA_URL": "localhost:8000",
                                      "FIRSTLINE_LOG_LEVEL": "LOUD"})
    config = tmp_path / "firstline.toml"
    assert found == [
        f"{config}:[slak]: unknown table (did you mean [slack]?); expected [firstline], "
        "[slack], [teams] or [[access]]",
        f"{config}:topk: unknown setting (did you mean top_k?)",
        f"{config}:top_k: expected a whole number, got 'four'",
        f"{config}:port: expected a whole number, got 3978.5",
        f"{config}:cloud_url: expected an http(s) URL with a host such as "
        "http://localhost:8000, got 'api.example.com/v1'",
        f"{config}:redact: expected true or false, got 1",
        "CHROMA_URL: expected an http(s) URL with a host such as http://localhost:8000, "
        "got 'localhost:8000'",
        "FIRSTLINE_LOG_LEVEL: expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL, "
        "got 'LOUD'",
    ]
    assert "\n" not in "".join(found)


@pytest.mark.parametrize(("toml", "expected"), [
    ("port = 3978.0\n", "port: expected a whole number, got 3978.0"),
    ("top_k = true\n", "top_k: expected a whole number, got True"),
    ("cloud_timeout = false\n", "cloud_timeout: expected a number, got False"),
    ("collection = 5\n", "collection: expected text, got 5"),
    ("knowledge_paths = 5\n", "knowledge_paths: expected a list"),
    ("port = 70000\n", "port: expected a port number from 0 to 65535, got 70000"),
    ("ledger_url = 'db.example/firstline'\n", "ledger_url: expected a SQLAlchemy URL"),
    ("[firstline]\ntop_kk = 2\n", "firstline.top_kk: unknown setting (did you mean top_k?)"),
    ("FIRSTLINE_TOP_K = 2\n", "FIRSTLINE_TOP_K: unknown setting (did you mean top_k?)"),
    ("Top_K = 2\n", "Top_K: unknown setting (did you mean top_k?)"),
    ("top_k = 2\n[firstline]\ntop_k = 3\n", "top_k: given twice, at the top and in [firstline]"),
    ("firstline = 'on'\n", "firstline: expected a [firstline] table, got 'on'"),
    ("[[acess]]\npaths = ['hr/*']\n", "acess: unknown setting (did you mean access?)"),
])
def test_values_are_not_truncated_or_guessed(tmp_path: Path, toml: str, expected: str) -> None:
    found = problems(tmp_path, toml)
    assert len(found) == 1 and expected in found[0], found


def test_numbers_and_urls_that_are_right_are_read(tmp_path: Path) -> None:
    (tmp_path / "firstline.toml").write_text(
        'port = 8080\ncloud_timeout = 5\nchroma_url = "https://chroma.example"\n'
        'log_level = "warning"\n[firstline]\ntop_k = 2\n')
    settings = Settings.load(environ={"FIRSTLINE_LEDGER_URL": "sqlite:///x.db"},
                             config_file=tmp_path / "firstline.toml")
    assert (settings.port, settings.cloud_timeout, settings.top_k) == (8080, 5.0, 2)
    assert (settings.chroma_url, settings.log_level) == ("https://chroma.example", "warning")


def test_explicit_arguments_may_already_have_their_type(tmp_path: Path) -> None:
    settings = Settings.load({"data_dir": tmp_path, "knowledge_paths": ("a", "b"), "top_k": 2,
                              "cloud_timeout": 3, "redact": False}, environ={})
    assert (settings.data_dir, settings.knowledge_paths) == (tmp_path, ("a", "b"))
    assert (settings.top_k, settings.cloud_timeout, settings.redact) == (2, 3.0, False)
    with pytest.raises(SettingsError, match="--top-k: expected a whole number, got 2.5"):
        Settings.load({"top_k": 2.5}, environ={})


def test_a_settings_file_that_was_named_must_exist(tmp_path: Path) -> None:
    missing = tmp_path / "site.toml"
    with pytest.raises(SettingsError) as caught:
        Settings.load(environ={"FIRSTLINE_CONFIG": str(missing)})
    assert caught.value.problems == (f"FIRSTLINE_CONFIG: no such settings file: {missing}",)
    with pytest.raises(SettingsError) as caught:
        Settings.load(environ={}, config_file=missing, require_file=True)
    assert caught.value.problems == (f"--config: no such settings file: {missing}",)
    assert Settings.load(environ={}, config_file=missing) == Settings()  # callers' "no file"


def test_the_default_settings_file_may_be_missing(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert Settings.load(environ={}) == Settings()


def test_a_secret_is_never_echoed_and_url_passwords_are_masked(tmp_path: Path) -> None:
    found = problems(tmp_path, 'cloud_api_key = 12345678\n'
                               'ledger_url = "bot:s3cret@db/firstline"\n')
    assert found[0].endswith("cloud_api_key: expected text, got a secret")
    assert "12345678" not in "".join(found)
    found = problems(tmp_path, None, {"CHROMA_URL": "chroma://bot:s3cret@db"})
    assert "s3cret" not in found[0] and "bot:***@db" in found[0]


def test_a_vendor_variable_name_in_a_table_is_pointed_at_its_key(tmp_path: Path) -> None:
    found = problems(tmp_path, '[slack]\nSLACK_BOT_TOKEN = "xoxb-1"\n', cls=SlackSettings)
    assert found == [f"{tmp_path / 'firstline.toml'}:slack.SLACK_BOT_TOKEN: unknown setting "
                     "(did you mean bot_token?)"]
    found = problems(tmp_path, '[teams]\nmicrosoftappid = "a"\n', cls=TeamsSettings)
    assert found[0].endswith("teams.microsoftappid: unknown setting (did you mean app_id?)")


def test_the_adapters_tables_are_read_and_checked(tmp_path: Path) -> None:
    config = tmp_path / "firstline.toml"
    config.write_text('[slack]\nbot_token = "xoxb-1"\napi_url = "slack.example"\n'
                      '[teams]\napp_id = "app-1"\napp_type = "Tenantless"\n')
    with pytest.raises(SettingsError) as caught:
        load_settings({}, str(config))
    assert caught.value.problems == (
        f"{config}:slack.api_url: expected an http(s) URL with a host such as "
        "http://localhost:8000, got 'slack.example'",
        f"{config}:teams.app_type: expected one of MultiTenant, SingleTenant, UserAssignedMSI,"
        " got 'Tenantless'",
    )
    config.write_text('[slack]\nbot_token = "xoxb-1"\n[teams]\napp_id = "app-1"\n')
    loaded = load_settings({}, str(config))
    assert (loaded.slack.bot_token, loaded.teams.app_id) == ("xoxb-1", "app-1")


def test_a_broken_file_is_one_problem_for_all_three_tables(tmp_path: Path) -> None:
    config = tmp_path / "firstline.toml"
    config.write_text("top_k = = 4\n")
    with pytest.raises(SettingsError) as caught:
        load_settings({}, str(config))
    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith(f"{config}: not valid TOML (")


# -- serve's channels ---------------------------------------------------------------------------
@pytest.mark.parametrize(("slack", "teams", "expected"), [
    (SlackSettings(bot_token="xoxb-1"), TeamsSettings(),
     "SLACK_BOT_TOKEN ([slack] bot_token) is set but neither SLACK_APP_TOKEN"),
    (SlackSettings(signing_secret="s"), TeamsSettings(),
     "SLACK_SIGNING_SECRET set but SLACK_BOT_TOKEN ([slack] bot_token) is not"),
    (SlackSettings(), TeamsSettings(app_id="app-1"),
     "MicrosoftAppId ([teams] app_id) is set but MicrosoftAppPassword"),
    (SlackSettings(), TeamsSettings(app_password="p"),
     "MicrosoftAppPassword ([teams] app_password) is set but MicrosoftAppId"),
    (SlackSettings(), TeamsSettings(app_id="a", app_password="p", app_type="SingleTenant"),
     "MicrosoftAppType=SingleTenant needs MicrosoftAppTenantId"),
    (SlackSettings(), TeamsSettings(), NO_CHANNEL),
])
def test_serve_refuses_half_a_credential_or_no_channel(
        slack: SlackSettings, teams: TeamsSettings, expected: str) -> None:
    found = channel_problems(slack, teams, teams_on=teams_configured(teams, "0.0.0.0"))
    assert len(found) == 1 and found[0].startswith(expected), found
    if expected != NO_CHANNEL:  # --no-channels allows no channel, never half of one
        assert channel_problems(slack, teams, teams_on=False, allow_none=True) == found


def test_complete_channels_and_the_emulator_on_loopback_pass() -> None:
    teams = TeamsSettings(app_id="a", app_password="p", app_tenant_id="t")
    assert channel_problems(SlackSettings(bot_token="x", app_token="y"), TeamsSettings(),
                            teams_on=False) == []
    assert channel_problems(SlackSettings(), teams,
                            teams_on=teams_configured(teams, "0.0.0.0")) == []
    assert channel_problems(SlackSettings(), TeamsSettings(),  # the Emulator, on loopback
                            teams_on=teams_configured(TeamsSettings(), "127.0.0.1")) == []
    assert channel_problems(SlackSettings(), TeamsSettings(), teams_on=False,
                            allow_none=True) == []


# -- what the settings name ---------------------------------------------------------------------
def test_preflight_names_the_missing_files(tmp_path: Path) -> None:
    settings = Settings(slm_model=str(tmp_path / "model.gguf"),
                        embedding_model=str(tmp_path / "minilm"),
                        router_config=str(tmp_path / "router.json"))
    with pytest.raises(SettingsError) as caught:
        preflight(settings)
    assert caught.value.problems == (
        f"FIRSTLINE_SLM_MODEL: no GGUF file at {tmp_path / 'model.gguf'}",
        f"FIRSTLINE_EMBEDDING_MODEL: no sentence-transformers model folder at "
        f"{tmp_path / 'minilm'}",
        f"FIRSTLINE_ROUTER_CONFIG: no router thresholds file at {tmp_path / 'router.json'}",
    )
    (tmp_path / "model.gguf").write_text("<html>proxy login page</html>")
    with pytest.raises(SettingsError) as caught:
        preflight(Settings(slm_model=str(tmp_path / "model.gguf")))
    assert caught.value.problems == (
        f"FIRSTLINE_SLM_MODEL: {tmp_path / 'model.gguf'} is not a GGUF file",)
    (tmp_path / "minilm").mkdir()
    preflight(settings.replace(slm_model="", router_config="", abstention_config="off",
                               embedding_model=str(tmp_path / "minilm")))


# -- the hand-off target ---------------------------------------------------------------------------
@pytest.mark.parametrize(("target", "slack", "teams", "teams_on", "needs"), [
    ("webhook", SlackSettings(), TeamsSettings(), False, "FIRSTLINE_HANDOFF_WEBHOOK_URL"),
    ("slack", SlackSettings(bot_token="x"), TeamsSettings(), False,
     "SLACK_BOT_TOKEN and FIRSTLINE_HANDOFF_SLACK_CHANNEL"),
    ("teams", SlackSettings(), TeamsSettings(handoff_conversation="19:x@thread.tacv2"), False,
     "Teams (MicrosoftAppId) and FIRSTLINE_HANDOFF_TEAMS_CONVERSATION"),
])
def test_serve_refuses_a_hand_off_target_it_cannot_reach(
        target: str, slack: SlackSettings, teams: TeamsSettings, teams_on: bool,
        needs: str) -> None:
    from bot.app.startup import handoff_problems

    found = handoff_problems(Settings(handoff_target=target), slack, teams, teams_on=teams_on)
    assert found == [f"FIRSTLINE_HANDOFF_TARGET={target} needs {needs}: set them, or choose "
                     "another target (empty: no hand-off)"]
    assert handoff_problems(Settings(), slack, teams, teams_on=teams_on) == []
    ready = Settings(handoff_target="webhook", handoff_webhook_url="https://hd.example/hook")
    assert handoff_problems(ready, slack, teams, teams_on=teams_on) == []
