"""Loopback plumbing shared by the tests that start real servers: the model cache, free ports,
and starting a server process, waiting until it answers HTTP, and stopping it."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

STARTUP_SECONDS = 180


def cache_dir() -> Path:
    """``FIRSTLINE_TEST_CACHE`` or ``~/.cache/firstline-test``: assembled models live there."""
    configured = os.environ.get("FIRSTLINE_TEST_CACHE")
    return Path(configured).expanduser() if configured else Path.home() / ".cache/firstline-test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_http(url: str, process: subprocess.Popen[bytes], log_path: Path,
                  seconds: float = STARTUP_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-3000:]
            pytest.fail(f"{process.args!r} exited with {process.returncode}:\n{tail}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    pytest.fail(f"{url} did not answer within {seconds}s")


def stop(process: subprocess.Popen[bytes]) -> int:
    process.terminate()
    try:
        return process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def start(command: list[str], log_path: Path, ready_url: str, *,
          env: dict[str, str] | None = None, cwd: Path | None = None,
          seconds: float = STARTUP_SECONDS) -> subprocess.Popen[bytes]:
    """``command`` with its output in ``log_path``, once ``ready_url`` answers 200."""
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT,
                                   env=env, cwd=cwd)
    try:
        wait_for_http(ready_url, process, log_path, seconds)
    except BaseException:
        stop(process)
        raise
    return process
