"""Helpers for the scale-out tests: the same servers the deployment runs, on loopback.

* a Chroma server — ``chroma run``, the CLI of the chromadb package the bot itself uses (the
  image's ``chroma`` service runs the same command);
* the SLM server — ``python -m bot.slm_server``, exactly the command of the image's ``slm``
  service, the Kubernetes Deployment and the systemd unit (it execs ``llama_cpp.server``);
* the ledger database — SQLite, or a fresh schema in the PostgreSQL that ``.ci/run`` starts
  (``FIRSTLINE_TEST_POSTGRES_URL``; its tests skip when that is unset).

Nothing is mocked: the bot talks to these over HTTP and SQL as it does in production.
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "knowledge" / "samples"
POSTGRES_ENV = "FIRSTLINE_TEST_POSTGRES_URL"


def clean_env(**values: str) -> dict[str, str]:
    """The environment less any firstline/Chroma/Slack/Teams settings, plus ``values``."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("FIRSTLINE_", "CHROMA_", "SLACK_", "Microsoft"))}
    return env | values


def slm_server_command(port: int) -> list[str]:
    return [sys.executable, "-m", "bot.slm_server", "--host", "127.0.0.1", "--port", str(port)]


def postgres_schema_url() -> Iterator[str]:
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"PostgreSQL not configured: set {POSTGRES_ENV} (deploy/test-services.sh)")
    schema = f"deploy_test_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield sa.make_url(base).update_query_dict(
            {"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        engine.dispose()


def scaled_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings from nothing but ``overrides`` (no environment, no firstline.toml)."""
    return Settings.load({"data_dir": data_dir, **overrides}, environ={},
                         config_file=data_dir / "no-such-firstline.toml")


def copy_samples(target: Path) -> Path:
    """A private copy of the sample knowledge base (tests edit it to trigger reindexes)."""
    shutil.copytree(SAMPLES, target)
    return target
