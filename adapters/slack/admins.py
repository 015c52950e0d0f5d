"""Who may run admin commands: user ids from settings, or members of listed user groups."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.api import API_FAILURES, why

log = logging.getLogger(__name__)


class AdminCheck:
    """Decides ``Question.is_admin``; group memberships are cached for ``ttl`` seconds."""

    def __init__(self, users: Iterable[str], groups: Iterable[str], ttl: float = 300.0) -> None:
        self.users = frozenset(users)
        self.groups = tuple(groups)
        self.ttl = ttl
        self._members: dict[str, tuple[float, frozenset[str]]] = {}

    async def __call__(self, client: AsyncWebClient, user: str) -> bool:
        if user in self.users:
            return True
        for group in self.groups:
            if user in await self._group(client, group):
                return True
        return False

    async def _group(self, client: AsyncWebClient, group: str) -> frozenset[str]:
        cached = self._members.get(group)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        try:
            resp = await client.usergroups_users_list(usergroup=group)
            members = frozenset(resp.get("users") or ())
            self._members[group] = (time.monotonic() + self.ttl, members)
        except API_FAILURES as exc:
            # fail closed for this message; the next one asks Slack again
            log.warning("could not list members of user group %s: %s", group, why(exc))
            members = cached[1] if cached else frozenset()
        return members
