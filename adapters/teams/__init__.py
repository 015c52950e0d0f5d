"""Microsoft Teams adapter (Bot Framework). Every botbuilder import lives in this package.

``mount_teams(web_app, responder, teams_settings, host=...)`` adds ``POST /api/messages`` to the
aiohttp app of ``firstline serve``; ``teams_configured(teams_settings, host)`` says whether it may
be mounted on that bind address. Both are imported on first use, so that
``adapters.teams.settings`` (read by ``firstline config``) can be imported without botbuilder.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from adapters.teams.settings import TeamsSettings

if TYPE_CHECKING:
    from adapters.teams.app import mount_teams
    from adapters.teams.auth import teams_configured

_LAZY = {"mount_teams": "adapters.teams.app", "teams_configured": "adapters.teams.auth"}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


__all__ = ["TeamsSettings", "mount_teams", "teams_configured"]
