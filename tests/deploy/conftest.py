"""Fixtures for the scale-out tests (see deploy_helpers for what runs where)."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from deploy_helpers import ROOT, clean_env, postgres_schema_url, slm_server_command
from loopback import free_port, start, stop

# slm_path comes from tests/conftest.py.
# The Slack stand-in (a real HTTP server speaking Slack's Web API) lives with the Slack tests.
sys.path.insert(0, str(ROOT / "tests" / "adapters" / "slack"))


@pytest.fixture(scope="session")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Chroma server (``chroma run``) on a free loopback port."""
    venv_bin = str(Path(sys.executable).parent)
    chroma = shutil.which("chroma", path=venv_bin) or shutil.which("chroma")
    if chroma is None:
        pytest.skip("the chroma CLI (chromadb package) is not installed")
    work = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    command = [chroma, "run", "--path", str(work / "db"), "--host", "127.0.0.1",
               "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    process = start(command, work / "chroma.log", f"{url}/api/v2/heartbeat", cwd=work)
    yield url
    stop(process)


@pytest.fixture(scope="session")
def slm_url(tmp_path_factory: pytest.TempPathFactory, slm_path: Path) -> Iterator[str]:
    """The SLM server (``python -m bot.slm_server`` → llama_cpp.server) with the default GGUF."""
    pytest.importorskip("llama_cpp.server", reason="llama-cpp-python[server] is not installed")
    work = tmp_path_factory.mktemp("slm-server")
    port = free_port()
    env = clean_env(FIRSTLINE_SLM_MODEL=str(slm_path), FIRSTLINE_DATA_DIR=str(work / "data"),
                    FIRSTLINE_SLM_CONTEXT="4096")
    url = f"http://127.0.0.1:{port}/v1"
    process = start(slm_server_command(port), work / "slm.log", f"{url}/models", env=env,
                    cwd=work)
    yield url
    stop(process)


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty shared ledger database: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shared-ledger.sqlite3'}"
        return
    yield from postgres_schema_url()
