"""Who may run admin commands: user ids from settings, or members of listed user groups."""

from __future__ import annotations

from collections.abc import Iterable

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.groups import GroupMembers


class AdminCheck:
    """Decides ``Question.is_admin``; group memberships are cached for ``ttl`` seconds."""

    def __init__(self, users: Iterable[str], groups: Iterable[str], ttl: float = 300.0,
                 members: GroupMembers | None = None) -> None:
        self.users = frozenset(users)
        self.groups = tuple(groups)
        self.members = members or GroupMembers(ttl)

    async def __call__(self, client: AsyncWebClient, user: str) -> bool:
        if user in self.users:
            return True
        for group in self.groups:
            # when Slack does not answer: the last known members (none if never known)
            if user in await self.members.of(client, group, stale_on_failure=True):
                return True
        return False
