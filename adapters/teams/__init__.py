"""Microsoft Teams adapter (Bot Framework). Every botbuilder import lives in this package.

``mount_teams(web_app, responder, settings)`` adds ``POST /api/messages`` to the aiohttp app of
``firstline serve``; ``teams_configured(settings)`` says whether it may be mounted.
"""

from adapters.teams.app import mount_teams
from adapters.teams.auth import teams_configured

__all__ = ["mount_teams", "teams_configured"]
