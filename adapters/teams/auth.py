"""Bot Framework authentication built from :class:`adapters.teams.settings.TeamsSettings`.

Incoming requests carry a JWT signed by the Bot Framework; it is checked against the keys of the
OpenID configuration at ``TEAMS_OPENID_METADATA_URL`` (issuer, audience = our app id, expiry,
signature, the ``serviceurl`` claim and the key's channel endorsements). Replies use a token the
bot gets from ``TEAMS_LOGIN_URL``. Both URLs default to the public cloud; a sovereign cloud sets
them (the other constants follow from the metadata URL, see :func:`cloud_for`).

botbuilder's "parameterized" authentication is used whenever any endpoint is given, and then
*every* endpoint must be given — so all of them are always filled in here.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from dataclasses import dataclass

from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity, CallerIdConstants
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    GovernmentConstants,
)

from adapters.teams.credentials import CredentialsFactory
from adapters.teams.settings import TeamsSettings
from bot.errors import UserFacingError

log = logging.getLogger(__name__)


class Unauthorized(Exception):
    """The request did not carry a valid Bot Framework token (answered with 401)."""


@dataclass(frozen=True)
class Cloud:
    """The Bot Framework constants that are not settings of their own."""

    token_issuer: str
    oauth_scope: str
    emulator_openid_metadata_url: str
    oauth_url: str
    caller_id: str
    default_tenant: str


PUBLIC_CLOUD = Cloud(
    token_issuer=AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER,
    oauth_scope=AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE,
    emulator_openid_metadata_url=AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL,
    oauth_url=AuthenticationConstants.OAUTH_URL,
    caller_id=CallerIdConstants.public_azure_channel,
    default_tenant=AuthenticationConstants.DEFAULT_CHANNEL_AUTH_TENANT,
)
US_GOVERNMENT_CLOUD = Cloud(
    token_issuer=GovernmentConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER,
    oauth_scope=GovernmentConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE,
    emulator_openid_metadata_url=GovernmentConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL,
    oauth_url=GovernmentConstants.OAUTH_URL_GOV,
    caller_id=CallerIdConstants.us_gov_channel,
    default_tenant=GovernmentConstants.DEFAULT_CHANNEL_AUTH_TENANT,
)


def cloud_for(openid_metadata_url: str) -> Cloud:
    """US Government constants for its metadata URL; the public cloud's for anything else."""
    if openid_metadata_url == GovernmentConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL:
        return US_GOVERNMENT_CLOUD
    return PUBLIC_CLOUD


@dataclass(frozen=True)
class BotConfig:
    """The configuration object botbuilder's ``Configuration*`` classes read (its names)."""

    APP_ID: str
    APP_PASSWORD: str
    APP_TYPE: str
    APP_TENANTID: str
    TO_CHANNEL_FROM_BOT_LOGIN_URL: str
    TO_CHANNEL_FROM_BOT_OAUTH_SCOPE: str
    TO_BOT_FROM_CHANNEL_TOKEN_ISSUER: str
    TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL: str
    TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL: str
    OAUTH_URL: str
    CALLER_ID: str
    VALIDATE_AUTHORITY: bool = True


def bot_config(settings: TeamsSettings) -> BotConfig:
    """Translate our settings into botbuilder's configuration names."""
    # no app id (the Emulator on loopback): no registration, so no tenant either
    app_type = (settings.app_type or "SingleTenant") if settings.app_id else "MultiTenant"
    tenant = settings.app_tenant_id
    problem = settings.tenant_problem()
    if problem:
        raise UserFacingError(f"{problem}.")
    cloud = cloud_for(settings.openid_metadata_url)
    authority = f"{settings.login_url.rstrip('/')}/{tenant or cloud.default_tenant}"
    return BotConfig(
        APP_ID=settings.app_id,
        APP_PASSWORD=settings.app_password,
        APP_TYPE=app_type,
        APP_TENANTID=tenant,
        TO_CHANNEL_FROM_BOT_LOGIN_URL=authority,
        TO_CHANNEL_FROM_BOT_OAUTH_SCOPE=cloud.oauth_scope,
        TO_BOT_FROM_CHANNEL_TOKEN_ISSUER=cloud.token_issuer,
        TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=settings.openid_metadata_url,
        TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL=cloud.emulator_openid_metadata_url,
        OAUTH_URL=cloud.oauth_url,
        CALLER_ID=cloud.caller_id,
    )


def build_authentication(settings: TeamsSettings) -> BotFrameworkAuthentication:
    config = bot_config(settings)
    factory = CredentialsFactory(config.APP_ID, config.APP_PASSWORD, config.APP_TYPE)
    return ConfigurationBotFrameworkAuthentication(
        config, credentials_factory=factory, logger=log)


def teams_configured(settings: TeamsSettings, host: str) -> bool:
    """Whether Teams can be served on bind address ``host``: with an app id, or anonymously on a
    loopback address only.

    Without an app id botbuilder accepts unsigned requests (the Emulator's "no credentials"
    mode) and would post replies to any ``serviceUrl`` a caller names.
    """
    return bool(settings.app_id) or is_loopback(host)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def authenticate(
    auth: BotFrameworkAuthentication, activity: Activity, header: str | None
) -> AuthenticateRequestResult:
    """Check the request's JWT; any failure (however botbuilder reports it) is Unauthorized.

    botbuilder raises PermissionError for some failures but lets PyJWT errors, an unknown key id
    (IndexError) or a missing header (AttributeError) escape as they are — all mean 401 here.
    """
    try:
        # botbuilder fetches the signing keys with blocking, timeout-less ``requests`` calls
        # (daily, and for unknown key ids): on a loop of its own they cannot stall every other
        # request this process serves (Slack included).
        result = await asyncio.to_thread(
            asyncio.run, auth.authenticate_request(activity, header or None))
    except Exception as exc:
        log.warning("rejected a Bot Framework request: %s: %s", type(exc).__name__, exc)
        raise Unauthorized from exc
    if result.claims_identity is None or not result.claims_identity.is_authenticated:
        log.warning("rejected a Bot Framework request: no authenticated identity")
        raise Unauthorized
    return result
