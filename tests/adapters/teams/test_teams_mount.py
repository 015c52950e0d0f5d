"""Mounting the adapter: credentials modes, the Emulator's anonymous mode, sovereign clouds."""

from __future__ import annotations

import uuid

import aiohttp
import pytest
from aiohttp import web
from teams_helpers import APP_ID, FakeResponder, message
from teams_standins import BotFrameworkStandIns

from adapters.teams.app import TEAMS_ENDPOINT, mount_teams
from adapters.teams.auth import bot_config, teams_configured
from adapters.teams.settings import TeamsSettings
from bot.errors import UserFacingError

on_session_loop = pytest.mark.asyncio(loop_scope="session")  # where the fixtures live

GOV_METADATA = "https://login.botframework.azure.us/v1/.well-known/openidconfiguration"


async def serve_once(settings: TeamsSettings, cloud: BotFrameworkStandIns,
                     activity: dict[str, object], token: str | None) -> int:
    """Mount the adapter with ``settings``, post one activity, wait until its turn is done."""
    app = web.Application()
    mount_teams(app, FakeResponder(), settings, host="127.0.0.1")
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        async with aiohttp.ClientSession() as http, http.post(
            f"http://127.0.0.1:{runner.addresses[0][1]}/api/messages", json=activity,
            headers=headers,
        ) as response:
            status = response.status
        assert await app[TEAMS_ENDPOINT].idle(timeout=20)
        return status
    finally:
        await runner.cleanup()


def test_without_an_app_id_it_will_not_mount_on_a_public_address() -> None:
    settings = TeamsSettings(app_id="")
    assert not teams_configured(settings, "0.0.0.0")
    with pytest.raises(UserFacingError, match="MicrosoftAppId is empty"):
        mount_teams(web.Application(), FakeResponder(), settings, host="0.0.0.0")


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost"])
def test_without_an_app_id_loopback_is_the_emulators_mode(host: str) -> None:
    assert teams_configured(TeamsSettings(app_id=""), host)


def test_with_an_app_id_any_address_will_do() -> None:
    assert teams_configured(TeamsSettings(app_id=APP_ID), "0.0.0.0")


@pytest.mark.parametrize("app_type", ["SingleTenant", "UserAssignedMSI"])
def test_single_tenant_and_msi_need_a_tenant(app_type: str) -> None:
    settings = TeamsSettings(app_id=APP_ID, app_type=app_type)
    with pytest.raises(UserFacingError, match="MicrosoftAppTenantId: set it to the bot's "
                                               "Entra tenant id"):
        mount_teams(web.Application(), FakeResponder(), settings, host="0.0.0.0")


def test_single_tenant_is_the_default_and_the_emulator_needs_no_tenant() -> None:
    with pytest.raises(UserFacingError, match="MicrosoftAppType=SingleTenant needs"):
        bot_config(TeamsSettings(app_id=APP_ID))
    assert bot_config(TeamsSettings(app_id="")).APP_TYPE == "MultiTenant"


def test_public_cloud_defaults() -> None:
    config = bot_config(TeamsSettings(app_id=APP_ID, app_type="MultiTenant"))
    assert config.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL == (
        "https://login.botframework.com/v1/.well-known/openidconfiguration")
    assert config.TO_CHANNEL_FROM_BOT_LOGIN_URL == (
        "https://login.microsoftonline.com/botframework.com")
    assert config.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER == "https://api.botframework.com"


def test_the_us_government_cloud_follows_from_its_metadata_url() -> None:
    config = bot_config(TeamsSettings(app_id=APP_ID, app_type="MultiTenant",
                                      openid_metadata_url=GOV_METADATA,
                                      login_url="https://login.microsoftonline.us"))
    assert config.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE == "https://api.botframework.us"
    assert config.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER == "https://api.botframework.us"
    assert config.TO_CHANNEL_FROM_BOT_LOGIN_URL == (
        "https://login.microsoftonline.us/MicrosoftServices.onmicrosoft.us")


@on_session_loop
async def test_single_tenant_gets_its_reply_token_from_its_own_tenant(
    settings: TeamsSettings, cloud: BotFrameworkStandIns
) -> None:
    tenant = "9a8b7c6d-0000-4000-8000-0123456789ab"
    single = settings.replace(app_type="SingleTenant", app_tenant_id=tenant)
    activity = message(cloud, "How do I reset my VPN password?")

    assert await serve_once(single, cloud, activity, cloud.channel_token()) == 202

    replies = cloud.posted(str(activity["conversation"]["id"]))
    assert replies and all(p.authorized for p in replies)
    assert cloud.token_requests[-1]["tenant"] == tenant


@on_session_loop
async def test_the_emulator_without_credentials_is_served_on_loopback(
    cloud: BotFrameworkStandIns,
) -> None:
    settings = TeamsSettings(app_id="")
    activity = message(cloud, "How do I reset my VPN password?", channel_id="emulator",
                       conversation=f"emulator-{uuid.uuid4().hex}")
    cloud.require_token = False
    try:
        assert await serve_once(settings, cloud, activity, token=None) == 202
    finally:
        cloud.require_token = True

    replies = cloud.posted(str(activity["conversation"]["id"]))
    assert [p.type for p in replies] == ["typing", "message"]
    assert not any(p.authorized for p in replies)  # no app id: no token to send
    assert replies[-1].card is not None


@on_session_loop
async def test_a_wrong_client_secret_gets_no_reply_token_and_is_logged(
    settings: TeamsSettings, cloud: BotFrameworkStandIns, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = settings.replace(app_password="not-the-secret")
    activity = message(cloud, "How do I reset my VPN password?")

    assert await serve_once(wrong, cloud, activity, cloud.channel_token()) == 202

    assert cloud.token_requests[-1]["client_secret"] == "not-the-secret"
    assert cloud.posted(str(activity["conversation"]["id"])) == []
    assert "token request to https://127.0.0.1" in caplog.text
    assert "invalid_client" in caplog.text
