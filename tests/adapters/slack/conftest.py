"""Fixtures: the Slack stand-in, a fake core, and the real bolt app served over a real socket."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from fake_responder import FakeResponder
from slack_standin import (
    ADMIN_GROUP,
    GROUP_ADMIN,
    Running,
    SlackStandIn,
    mounted,
)
from slack_standin import slack_settings as _settings

from adapters.slack.settings import SlackSettings


# each test gets its own event loop; the project default for fixtures is the session loop
@pytest_asyncio.fixture(loop_scope="function")
async def standin() -> AsyncIterator[SlackStandIn]:
    server = await SlackStandIn().start()
    server.usergroups[ADMIN_GROUP] = [GROUP_ADMIN]
    yield server
    await server.stop()


@pytest.fixture
def responder() -> FakeResponder:
    return FakeResponder()


@pytest.fixture
def settings(standin: SlackStandIn) -> SlackSettings:
    return _settings(standin)


@pytest_asyncio.fixture(loop_scope="function")
async def running(standin: SlackStandIn, responder: FakeResponder,
                  settings: SlackSettings) -> AsyncIterator[Running]:
    """What `firstline serve` does: mount the Slack app on an aiohttp app and listen."""
    async with mounted(responder, settings) as running:
        yield running
