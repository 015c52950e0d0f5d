"""The Slack adapter: converts Slack events to :class:`bot.types.Question` and replies to Block Kit.

Everything that imports slack_bolt or slack_sdk lives in this package. The names below are
imported on first use, so that ``adapters.slack.settings`` (read by ``firstline config``) can be
imported without loading the Slack SDKs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from adapters.slack.settings import SlackSettings

if TYPE_CHECKING:
    from adapters.slack.app import build_slack_app
    from adapters.slack.server import (
        EVENTS_PATH,
        SocketModeRun,
        mount_slack,
        slack_mode,
        start_socket_mode,
    )

_LAZY = {
    "build_slack_app": "adapters.slack.app",
    "EVENTS_PATH": "adapters.slack.server",
    "SocketModeRun": "adapters.slack.server",
    "mount_slack": "adapters.slack.server",
    "slack_mode": "adapters.slack.server",
    "start_socket_mode": "adapters.slack.server",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


__all__ = ["EVENTS_PATH", "SlackSettings", "SocketModeRun", "build_slack_app", "mount_slack",
           "slack_mode", "start_socket_mode"]
