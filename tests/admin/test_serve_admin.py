"""`firstline serve` checks the console's settings with every other start-up problem, one line
each, before loading anything."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

from bot.app.cli import SETTINGS_CLASSES

ROOT = Path(__file__).resolve().parents[2]
NAMES = {f.metadata["env"] for cls in SETTINGS_CLASSES for f in fields(cls)} | {"FIRSTLINE_CONFIG"}


def serve(cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in NAMES}
    clean["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "bot.app.cli", "serve", "--no-channels"],
                          cwd=cwd, env={**clean, **env}, capture_output=True, text=True,
                          timeout=300)


def test_serve_refuses_a_short_token(tmp_path: Path) -> None:
    done = serve(tmp_path, FIRSTLINE_ADMIN_TOKEN="short")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.splitlines() == [
        "firstline: FIRSTLINE_ADMIN_TOKEN: expected empty or at least 16 characters "
        "(e.g. openssl rand -hex 24), got a secret"]


def test_serve_lists_an_sso_header_without_users_with_its_other_problems(tmp_path: Path) -> None:
    done = serve(tmp_path, FIRSTLINE_ADMIN_SSO_HEADER="X-Forwarded-User",
                 FIRSTLINE_SLM_MODEL="missing.gguf")
    assert (done.returncode, done.stdout) == (2, "")
    lines = done.stderr.splitlines()
    assert [line.split(": ")[1] for line in lines] == [
        "FIRSTLINE_SLM_MODEL", "FIRSTLINE_ADMIN_SSO_HEADER"]
    assert lines[1].endswith("FIRSTLINE_ADMIN_USERS is empty; name the users (or group:NAME) "
                             "who may use the admin console")
