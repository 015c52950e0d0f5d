"""The Slack adapter: converts Slack events to :class:`bot.types.Question` and replies to Block Kit.

Everything that imports slack_bolt or slack_sdk lives in this package.
"""

from adapters.slack.app import build_slack_app
from adapters.slack.server import (
    EVENTS_PATH,
    SocketModeRun,
    mount_slack,
    slack_mode,
    start_socket_mode,
)

__all__ = ["EVENTS_PATH", "SocketModeRun", "build_slack_app", "mount_slack", "slack_mode",
           "start_socket_mode"]
