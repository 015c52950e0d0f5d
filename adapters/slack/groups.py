"""The asker's document-audience groups and e-mail address, from Slack.

Members of the Slack user groups named in ``FIRSTLINE_SLACK_AUDIENCE_GROUPS`` get the mapped
firstline group; with ``FIRSTLINE_SLACK_LOOK_UP_EMAIL`` the asker's e-mail (users.info) goes to
the core so that its directory file may be keyed by e-mail. Both are cached for ``ttl`` seconds.
A failed lookup fails closed: no groups, no e-mail — public documents only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.api import API_FAILURES, why

log = logging.getLogger(__name__)


def parse_pairs(pairs: Iterable[str]) -> dict[str, str]:
    """``["S0123HR=hr"]`` → ``{"S0123HR": "hr"}``; raises ValueError for a pair without ``=``."""
    out = {}
    for pair in pairs:
        slack_id, sep, name = pair.partition("=")
        if not sep or not slack_id.strip() or not name.strip():
            raise ValueError(f"FIRSTLINE_SLACK_AUDIENCE_GROUPS: {pair!r} is not SLACKID=group")
        out[slack_id.strip()] = name.strip().lower()
    return out


class GroupMembers:
    """Members of Slack user groups (usergroups.users.list), cached for ``ttl`` seconds."""

    def __init__(self, ttl: float = 300.0) -> None:
        self.ttl = ttl
        self._members: dict[str, tuple[float, frozenset[str]]] = {}

    async def of(self, client: AsyncWebClient, group: str, *,
                 stale_on_failure: bool) -> frozenset[str]:
        """The group's members; when Slack does not answer, the last known members if
        ``stale_on_failure``, else nobody."""
        cached = self._members.get(group)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        try:
            resp = await client.usergroups_users_list(usergroup=group)
        except API_FAILURES as exc:
            log.warning("could not list members of user group %s: %s", group, why(exc))
            return cached[1] if cached and stale_on_failure else frozenset()
        members = frozenset(resp.get("users") or ())
        self._members[group] = (time.monotonic() + self.ttl, members)
        return members


class Identity:
    """Looks up (and caches) what the core needs to know about an asker."""

    def __init__(self, audience_groups: Iterable[str] = (), *, look_up_email: bool = False,
                 ttl: float = 300.0, members: GroupMembers | None = None) -> None:
        self.groups = parse_pairs(audience_groups)
        self.look_up_email = look_up_email
        self.ttl = ttl
        self.members = members or GroupMembers(ttl)
        self._emails: dict[str, tuple[float, str]] = {}

    async def groups_of(self, client: AsyncWebClient, user: str) -> frozenset[str]:
        found = set()
        for slack_id, name in self.groups.items():
            # fail closed: without an answer from Slack this message sees public documents only
            if user in await self.members.of(client, slack_id, stale_on_failure=False):
                found.add(name)
        return frozenset(found)

    async def email_of(self, client: AsyncWebClient, user: str) -> str:
        if not self.look_up_email:
            return ""
        cached = self._emails.get(user)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        try:
            resp = await client.users_info(user=user)
            email = str(((resp.get("user") or {}).get("profile") or {}).get("email") or "")
        except API_FAILURES as exc:
            log.warning("could not look up the e-mail of a user: %s", why(exc))
            return ""
        self._emails[user] = (time.monotonic() + self.ttl, email)
        return email
