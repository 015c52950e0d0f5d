"""TeamsSettings: the Bot Framework's environment variable names, the ``[teams]`` table of
firstline.toml, and explicit values above both — without importing botbuilder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from adapters.teams.settings import TeamsSettings
from bot.errors import UserFacingError

ENV = {
    "MicrosoftAppId": "app-env",
    "MicrosoftAppPassword": "secret-env",
    "MicrosoftAppType": "SingleTenant",
    "MicrosoftAppTenantId": "tenant-env",
    "TEAMS_OPENID_METADATA_URL": "https://login.botframework.azure.us/v1/.well-known/openidconfiguration",
    "TEAMS_LOGIN_URL": "https://login.microsoftonline.us",
    "FIRSTLINE_TEAMS_ADMIN_IDS": "aad-1,aad-2",
}


def write(tmp_path: Path, toml: str) -> Path:
    path = tmp_path / "firstline.toml"
    path.write_text(toml)
    return path


def test_defaults_are_the_public_cloud_and_single_tenant(tmp_path: Path) -> None:
    loaded = TeamsSettings.load(environ={}, config_file=tmp_path / "none.toml")
    assert loaded == TeamsSettings()
    assert loaded.app_type == "SingleTenant"  # Azure no longer creates multi-tenant bots
    assert loaded.openid_metadata_url == (
        "https://login.botframework.com/v1/.well-known/openidconfiguration")
    assert loaded.login_url == "https://login.microsoftonline.com"


def test_reads_the_bot_frameworks_environment_variables(tmp_path: Path) -> None:
    loaded = TeamsSettings.load(environ=ENV, config_file=tmp_path / "none.toml")
    assert loaded == TeamsSettings(
        app_id="app-env", app_password="secret-env", app_type="SingleTenant",
        app_tenant_id="tenant-env", openid_metadata_url=ENV["TEAMS_OPENID_METADATA_URL"],
        login_url="https://login.microsoftonline.us", admin_ids=("aad-1", "aad-2"))


def test_reads_the_teams_table(tmp_path: Path) -> None:
    config = write(tmp_path, '[firstline]\nhost = "127.0.0.1"\n'
                             '[slack]\nbot_token = "not-teams"\n'
                             '[teams]\napp_id = "app-file"\nadmin_ids = ["aad-1"]\n')
    loaded = TeamsSettings.load(environ={}, config_file=config)
    assert (loaded.app_id, loaded.admin_ids) == ("app-file", ("aad-1",))


def test_explicit_beats_environment_beats_file(tmp_path: Path) -> None:
    config = write(tmp_path, '[teams]\napp_id = "app-file"\napp_password = "secret-file"\n'
                             'app_tenant_id = "tenant-file"\n')
    env = {"MicrosoftAppId": "app-env", "MicrosoftAppPassword": "secret-env"}
    loaded = TeamsSettings.load({"app_id": "app-explicit"}, environ=env, config_file=config)
    assert (loaded.app_id, loaded.app_password, loaded.app_tenant_id) == (
        "app-explicit", "secret-env", "tenant-file")


def test_unknown_keys_in_the_teams_table_are_refused(tmp_path: Path) -> None:
    config = write(tmp_path, '[teams]\nmicrosoft_app_id = "app-1"\n')
    with pytest.raises(UserFacingError, match=r"teams.microsoft_app_id: unknown setting$"):
        TeamsSettings.load(environ={}, config_file=config)


def test_the_client_secret_is_masked() -> None:
    shown = TeamsSettings(app_id="app-1", app_password="secret-1").redacted()
    assert (shown["app_id"], shown["app_password"]) == ("app-1", "***")


def test_loading_the_settings_loads_no_botbuilder() -> None:
    code = ("import sys; import adapters.teams.settings; print(sorted(m for m in sys.modules "
            "if m.startswith(('botbuilder', 'botframework', 'msal', 'msrest'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.strip() == "[]"
