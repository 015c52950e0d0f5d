"""Microsoft Teams adapter (Bot Framework). Every botbuilder import lives in this package.

``adapters.teams.app.mount_teams(web_app, responder, teams_settings, host=...)`` adds
``POST /api/messages`` to the aiohttp app of ``firstline serve``;
``adapters.teams.auth.teams_configured(teams_settings, host)`` says whether it may be mounted on
that bind address. This file imports nothing, so that ``adapters.teams.settings`` (read by
``firstline config``) loads no botbuilder.
"""
