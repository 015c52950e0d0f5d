"""The bot's own token for replies: client credentials against ``TEAMS_LOGIN_URL``.

botbuilder's ``PasswordServiceClientCredentialFactory`` has gaps this module closes:

* its credentials never pass ``validate_authority`` on to MSAL, so a login host MSAL does not
  know (a private or sovereign authority, or the local stand-in in tests) triggers *instance
  discovery* against ``login.microsoftonline.com`` — a call to the public cloud from a bot that
  was configured not to use it;
* it builds new credentials (a new MSAL app with an empty token cache) for every turn, so every
  reply fetches a fresh token. Here credentials are kept per (scope, authority) and MSAL's cache
  does its job;
* the token is fetched with blocking HTTP from inside msrest's send, on the event loop. Here it
  is fetched in a worker thread when the connector is created, so that call finds it cached.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import urlsplit

import msal
from botframework.connector.auth import (
    ManagedIdentityServiceClientCredentialsFactory,
    MicrosoftAppCredentials,
    ServiceClientCredentialsFactory,
)
from msal.authority import WELL_KNOWN_AUTHORITY_HOSTS

log = logging.getLogger(__name__)

TOKEN_TIMEOUT_SECONDS = 10.0


class AuthorityCredentials(MicrosoftAppCredentials):
    """App id + secret credentials whose MSAL authority is exactly the configured one."""

    def __init__(self, app_id: str, password: str, authority: str, oauth_scope: str) -> None:
        super().__init__(app_id, password, oauth_scope=oauth_scope)
        self.oauth_endpoint = authority
        self._client: msal.ConfidentialClientApplication | None = None

    def get_access_token(self, force_refresh: bool = False) -> str:
        scope = self.oauth_scope if self.oauth_scope.endswith("/.default") else (
            f"{self.oauth_scope}/.default")
        result: dict[str, Any] = self._msal().acquire_token_for_client(scopes=[scope])
        if "access_token" in result:
            return str(result["access_token"])
        # The error code is safe to log; the description may echo request details, so it is
        # only raised (botbuilder's credentials raise PermissionError as well).
        log.error("token request to %s failed: %s", self.oauth_endpoint, result.get("error"))
        raise PermissionError(f"Failed to get access token: {result.get('error', 'unknown')}")

    def _msal(self) -> msal.ConfidentialClientApplication:
        if self._client is None:
            known = urlsplit(self.oauth_endpoint).hostname in WELL_KNOWN_AUTHORITY_HOSTS
            self._client = msal.ConfidentialClientApplication(
                client_id=self.microsoft_app_id,
                client_credential=self.microsoft_app_password,
                authority=self.oauth_endpoint,
                # An operator-configured host is "known to the developer": no discovery call.
                validate_authority=known,
                instance_discovery=known,
                timeout=TOKEN_TIMEOUT_SECONDS,
            )
        return self._client


class CredentialsFactory(ServiceClientCredentialsFactory):
    """Credentials for the one app id this bot runs as (or none: the local Emulator)."""

    def __init__(self, app_id: str, password: str, app_type: str = "MultiTenant") -> None:
        self._app_id = app_id
        self._password = password
        self._msi = (
            ManagedIdentityServiceClientCredentialsFactory(app_id)
            if app_type.lower() == "userassignedmsi" else None
        )
        self._cache: dict[tuple[str, str], MicrosoftAppCredentials] = {}

    async def is_valid_app_id(self, app_id: str) -> bool:
        return bool(self._app_id) and app_id == self._app_id

    async def is_authentication_disabled(self) -> bool:
        return not self._app_id

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> Any:
        if not self._app_id:
            return MicrosoftAppCredentials.empty()
        if app_id != self._app_id:
            raise PermissionError("Invalid app_id")
        if self._msi is not None:
            return await self._msi.create_credentials(
                app_id, oauth_scope, login_endpoint, validate_authority)
        key = (oauth_scope, login_endpoint)
        if key not in self._cache:
            self._cache[key] = AuthorityCredentials(
                app_id, self._password, login_endpoint, oauth_scope)
        credentials = self._cache[key]
        # msrest asks for the token synchronously on the event loop when it sends; fetching it
        # here in a worker thread leaves that call a cache hit in MSAL.
        await asyncio.to_thread(credentials.get_access_token)
        return credentials
