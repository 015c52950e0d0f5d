"""The image's and the units' entry points as processes: ``firstline serve`` configured for the
scaled-out servers by environment variables only (as compose and Kubernetes configure it), probed
with ``python -m bot.healthcheck`` (the image's HEALTHCHECK), and stopped with SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import pytest
from deploy_helpers import clean_env
from loopback import free_port, start

pytestmark = pytest.mark.slm


def _healthcheck(*args: str, env: dict[str, str] | None = None) -> int:
    return subprocess.run([sys.executable, "-m", "bot.healthcheck", *args], env=env,
                          timeout=30).returncode


def test_firstline_serve_from_environment_only(tmp_path: Path, chroma_url: str,
                                               slm_url: str) -> None:
    port = free_port()
    env = clean_env(
        CHROMA_URL=chroma_url, FIRSTLINE_SLM_URL=slm_url,
        FIRSTLINE_LEDGER_URL=f"sqlite:///{tmp_path / 'ledger.sqlite3'}",
        FIRSTLINE_COLLECTION=f"serve-{uuid.uuid4().hex[:8]}", FIRSTLINE_DATA_DIR=str(tmp_path),
        FIRSTLINE_JSON_LOGS="true", FIRSTLINE_HOST="127.0.0.1", FIRSTLINE_PORT=str(port))
    firstline = Path(sys.executable).parent / "firstline"
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "serve.log"
    process = start([str(firstline), "serve"], log_path, f"{base}/healthz", env=env, cwd=tmp_path)
    try:
        assert _healthcheck(env={**env}) == 0  # the image's HEALTHCHECK: FIRSTLINE_PORT/healthz
        assert _healthcheck(f"{base}/readyz") == 0
        with urllib.request.urlopen(f"{base}/readyz", timeout=10) as response:
            assert json.loads(response.read()) == {
                "ready": True, "model_loaded": True, "store_reachable": True}
        with urllib.request.urlopen(f"{base}/metrics", timeout=10) as response:
            assert b"firstline_index_chunks" in response.read()
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
    assert code == 0
    lines = [line for line in log_path.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # FIRSTLINE_JSON_LOGS: JSON on every line
    assert any(f"firstline serving on 127.0.0.1:{port}" in r["message"] for r in records)


def test_healthcheck_fails_when_nothing_answers() -> None:
    assert _healthcheck(f"http://127.0.0.1:{free_port()}/healthz") == 1
