"""The Teams adapter's settings: the ``[teams]`` table of ``firstline.toml`` (keys = the field
names below) and the Bot Framework's own environment variable names (``MicrosoftAppId`` ...).

Cheap to import (nothing from botbuilder): ``firstline config`` loads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.settings import SettingsBase, http_url, one_of, setting

APP_TYPES = ("MultiTenant", "SingleTenant", "UserAssignedMSI")


@dataclass(frozen=True)
class TeamsSettings(SettingsBase):
    section: ClassVar[str] = "teams"

    app_id: str = setting("", "MicrosoftAppId", "Bot's Microsoft app id.")
    app_password: str = setting("", "MicrosoftAppPassword", "Bot's client secret.", secret=True)
    app_type: str = setting(
        "SingleTenant", "MicrosoftAppType",
        "SingleTenant (new bots), MultiTenant (older registrations) or UserAssignedMSI.",
        check=one_of(*APP_TYPES))
    app_tenant_id: str = setting(
        "", "MicrosoftAppTenantId",
        "Your Entra tenant id; required for SingleTenant and UserAssignedMSI.")
    openid_metadata_url: str = setting(
        "https://login.botframework.com/v1/.well-known/openidconfiguration",
        "TEAMS_OPENID_METADATA_URL",
        "OpenID configuration for validating incoming tokens.",
        check=http_url)
    login_url: str = setting(
        "https://login.microsoftonline.com",
        "TEAMS_LOGIN_URL",
        "Authority host where the bot gets its own token for replies.",
        check=http_url)
    admin_ids: tuple[str, ...] = setting(
        (), "FIRSTLINE_TEAMS_ADMIN_IDS", "AAD object ids allowed to run admin commands."
    )
    handoff_conversation: str = setting(
        "", "FIRSTLINE_HANDOFF_TEAMS_CONVERSATION",
        "Conversation id of the Teams channel \"Ask a person\" posts to "
        "(FIRSTLINE_HANDOFF_TARGET=teams), `19:…@thread.tacv2`; the bot must be in the team.")
    handoff_service_url: str = setting(
        "https://smba.trafficmanager.net/teams/", "FIRSTLINE_HANDOFF_TEAMS_SERVICE_URL",
        "Bot Connector service URL for that channel (the serviceUrl Teams sends with the "
        "team's activities).", check=http_url)

    def tenant_problem(self) -> str | None:
        """A registered bot of a single-tenant type (SingleTenant, UserAssignedMSI) without its
        tenant id; None when nothing is missing (the Emulator has no app id, so no tenant)."""
        app_type = self.app_type or "SingleTenant"
        if not self.app_id or app_type.lower() == "multitenant" or self.app_tenant_id:
            return None
        return (f"MicrosoftAppType={app_type} needs MicrosoftAppTenantId: set it to the bot's "
                "Entra tenant id ([teams] app_tenant_id), or MicrosoftAppType=MultiTenant for "
                "an older multi-tenant bot")
