"""Fixtures for the Teams adapter: the Bot Framework stand-ins and the bot on a real socket."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import certifi
import pytest
from teams_helpers import ADMIN_AAD, APP_ID, APP_PASSWORD, FakeResponder, RunningBot, served
from teams_standins import BotFrameworkStandIns, make_tls

from adapters.teams.settings import TeamsSettings


# --- the Bot Framework side ------------------------------------------------------------------
@pytest.fixture(scope="session")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotFrameworkStandIns]:
    tls = make_tls(tmp_path_factory.mktemp("tls"))
    standins = BotFrameworkStandIns(tls, APP_ID, APP_PASSWORD)
    standins.start()
    # requests (botbuilder's key fetch, MSAL, the connector client) trusts the test CA — on top
    # of the usual roots, so that nothing else in the session loses its trust store.
    bundle = tls.ca_file.with_name("bundle.pem")
    bundle.write_text(Path(certifi.where()).read_text() + tls.ca_file.read_text())
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
        yield standins
    standins.stop()


@pytest.fixture
def settings(cloud: BotFrameworkStandIns) -> TeamsSettings:
    return TeamsSettings(
        app_id=APP_ID, app_password=APP_PASSWORD, app_type="MultiTenant",
        openid_metadata_url=cloud.openid_metadata_url,
        login_url=cloud.login_url, admin_ids=(ADMIN_AAD.upper(),))


@pytest.fixture
async def teams_bot(settings: TeamsSettings,
                    cloud: BotFrameworkStandIns) -> AsyncIterator[RunningBot]:
    """The real adapter on an ephemeral loopback port, answering through :class:`FakeResponder`."""
    responder = FakeResponder()
    async with served(responder, settings, cloud) as bot:
        yield bot
    responder.reindex_may_finish.set()
