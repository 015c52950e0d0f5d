"""`firstline serve`: one aiohttp app on FIRSTLINE_PORT with Slack (HTTP mode) at /slack/events,
Teams at /api/messages, the admin console at /admin/ (when configured, :mod:`bot.app.admin`),
and /healthz, /readyz, /metrics; Slack Socket Mode runs beside it.

This is the only module that imports the adapters' code (``bot.app.cli`` and
``bot.app.startup`` read their settings classes, which import no SDK). They are imported
when their credentials are set, inside the function that mounts them, so that `firstline
index` and `ask` do not load two chat SDKs (the Teams SDK alone takes about a second to
import).

Each adapter has its own settings (:class:`~adapters.slack.settings.SlackSettings`,
:class:`~adapters.teams.settings.TeamsSettings`); unless a caller passes them, they are loaded
from the environment and the same ``firstline.toml`` as the core's settings. :func:`serve`
checks them first (:mod:`bot.app.startup`): no half credentials, a channel unless
``--no-channels``, a Slack that answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path
from typing import Any

from aiohttp import web

from adapters.slack.settings import SlackSettings
from adapters.teams.settings import TeamsSettings
from bot.answering.responder import Firstline
from bot.app.admin import admin_enabled, admin_problems, mount_admin
from bot.app.composition import build_firstline
from bot.app.health import health_routes
from bot.app.startup import channel_problems, check_slack, handoff_problems, preflight
from bot.app.sweeper import Sweeper
from bot.ledger.questions import Questions, replica_id
from bot.ledger.roles import Inbox
from bot.settings import Settings

log = logging.getLogger(__name__)


def build_web_app(
    core: Firstline,
    settings: Settings,
    *,
    slack: SlackSettings | None = None,
    teams: TeamsSettings | None = None,
    config_file: str | Path | None = None,
    inbox: ChannelQuestions | None = None,
) -> tuple[web.Application, str | None]:
    """The service's aiohttp app, and the Slack mode still to start ("socket") if any.

    ``slack`` and ``teams`` default to the adapters' settings loaded from the environment and
    ``config_file`` (the same file as the core's settings; None: FIRSTLINE_CONFIG or
    ./firstline.toml). Teams' loopback check uses the core's bind address, ``settings.host``.
    ``inbox`` (default: on the core's ledger) holds each channel's pending questions.
    """
    inbox = inbox or ChannelQuestions.of(core)
    slack = SlackSettings.load(config_file=config_file) if slack is None else slack
    teams = TeamsSettings.load(config_file=config_file) if teams is None else teams
    app = web.Application(client_max_size=2 * 1024 * 1024)
    app.add_routes(health_routes(core))
    mode = None
    if slack.bot_token:
        from adapters.slack.server import mount_slack, slack_mode

        mode = slack_mode(slack)
        if mode == "http":
            slack_app = mount_slack(app, core, slack, questions=inbox.slack if inbox else None)
            log.info("Slack: Events API at /slack/events")
            attach_slack_handoff(core, settings, slack, slack_app.client)
        elif mode is None:
            log.warning("Slack: SLACK_BOT_TOKEN set but neither SLACK_APP_TOKEN (Socket Mode) "
                        "nor SLACK_SIGNING_SECRET (HTTP) is; Slack stays off")
    from adapters.teams.app import mount_teams
    from adapters.teams.auth import teams_configured

    if teams_configured(teams, settings.host):
        adapter = mount_teams(app, core, teams, host=settings.host,
                              questions=inbox.teams if inbox else None)
        log.info("Teams: Bot Framework endpoint at /api/messages")
        if settings.handoff_target == "teams":
            from adapters.teams.handoff import TeamsHandoffTarget

            core.desk.attach(TeamsHandoffTarget(adapter, teams.app_id, teams.handoff_conversation,
                                                teams.handoff_service_url, teams.app_tenant_id))
            log.info("hand-off: to Teams conversation %s", teams.handoff_conversation)
    if admin_enabled(settings):
        mount_admin(app, core)
        log.info("admin console at /admin/")
    return app, mode


def attach_slack_handoff(core: Firstline, settings: Settings, slack: SlackSettings,
                         client: Any) -> None:
    """The Slack helpdesk channel as the core's hand-off target, when it is the one chosen."""
    if settings.handoff_target != "slack":
        return
    from adapters.slack.handoff import SlackHandoffTarget

    core.desk.attach(SlackHandoffTarget(client, slack.handoff_channel))
    log.info("hand-off: to Slack channel %s", slack.handoff_channel)


class ChannelQuestions:
    """This replica's pending questions per channel, on the core's ledger."""

    def __init__(self, ledger: Inbox, settings: Settings) -> None:
        owner, lease = replica_id(), settings.question_lease_seconds
        self.slack = Questions(ledger, "slack", owner, lease)
        self.teams = Questions(ledger, "teams", owner, lease)

    @classmethod
    def of(cls, core: Firstline) -> ChannelQuestions | None:
        """On ``core``'s ledger; None for a core without one (a test's stand-in core), whose
        adapters then keep their claims in memory."""
        ledger = getattr(core, "ledger", None)
        return None if ledger is None else cls(ledger, core.settings)

    def sweeper(self, settings: Settings) -> Sweeper:
        """The sweep for the channels whose adapter is mounted (has registered a resumer)."""
        return Sweeper(self.slack.inbox, (self.slack, self.teams),
                       attempts=settings.question_attempts, every=settings.question_sweep_seconds)


async def run_service(
    settings: Settings,
    stop: asyncio.Event | None = None,
    *,
    slack: SlackSettings | None = None,
    teams: TeamsSettings | None = None,
    config_file: str | Path | None = None,
) -> None:
    """Serve until ``stop`` is set (or SIGINT/SIGTERM); ``slack``, ``teams`` and
    ``config_file`` as for :func:`build_web_app`."""
    # the adapters' settings first: a bad value fails before the model is loaded
    slack = SlackSettings.load(config_file=config_file) if slack is None else slack
    teams = TeamsSettings.load(config_file=config_file) if teams is None else teams
    core = build_firstline(settings)
    await asyncio.to_thread(core.load)
    inbox = ChannelQuestions(core.ledger, settings)
    app, mode = build_web_app(core, settings, slack=slack, teams=teams, inbox=inbox)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, settings.host, settings.port).start()
    bound = runner.addresses[0][1] if runner.addresses else settings.port  # port 0: the OS's
    log.info("firstline serving on %s:%d", settings.host, bound)
    socket_run = None
    if mode == "socket":
        from adapters.slack.server import start_socket_mode

        socket_run = await start_socket_mode(core, slack, questions=inbox.slack)
        log.info("Slack: Socket Mode connected")
        attach_slack_handoff(core, settings, slack, socket_run.app.client)
    sweeper = inbox.sweeper(settings)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        async with sweeper.running():
            await stop.wait()
    finally:
        if socket_run is not None:
            await socket_run.close()
        await runner.cleanup()
        await core.aclose()


def serve(settings: Settings, *, config_file: str | Path | None = None,
          slack: SlackSettings | None = None, teams: TeamsSettings | None = None,
          allow_no_channels: bool = False) -> int:
    """`firstline serve`: ``config_file`` is the file the core's ``settings`` were read from.
    Refuses to start, listing every problem, when :func:`~bot.app.startup.preflight` finds
    one, with half a channel's credentials or no channel (unless ``allow_no_channels``); then
    when Slack's Web API does not answer for the bot token."""
    slack = SlackSettings.load(config_file=config_file) if slack is None else slack
    teams = TeamsSettings.load(config_file=config_file) if teams is None else teams
    from adapters.teams.auth import teams_configured

    teams_on = teams_configured(teams, settings.host)
    preflight(settings, [*channel_problems(slack, teams, allow_none=allow_no_channels,
                                           teams_on=teams_on),
                         *handoff_problems(settings, slack, teams, teams_on=teams_on),
                         *admin_problems(settings)])
    if slack.bot_token:
        asyncio.run(check_slack(slack))
    asyncio.run(run_service(settings, slack=slack, teams=teams))
    return 0
