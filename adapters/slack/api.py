"""Small helpers around slack_sdk's Web API errors."""

from __future__ import annotations

import aiohttp
from slack_sdk.errors import SlackApiError


def api_error(exc: SlackApiError) -> str:
    """Slack's error code (``not_in_channel``...), or the HTTP status for non-JSON answers."""
    data = exc.response.data
    if isinstance(data, dict):
        return str(data.get("error", "unknown"))
    return f"http_{exc.response.status_code}"


def why(exc: Exception) -> str:
    """A short cause for a log line: Slack's error code or the exception's type."""
    return api_error(exc) if isinstance(exc, SlackApiError) else type(exc).__name__


API_FAILURES = (SlackApiError, aiohttp.ClientError, TimeoutError)
"""What a Web API call may raise when Slack says no or cannot be reached."""
