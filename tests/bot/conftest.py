"""Fixtures for the bot tests: a real llama.cpp OpenAI-compatible server on loopback."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.errors import ModelUnavailableError
from bot.models import DEFAULT_SLM, assemble

STARTUP_SECONDS = 120


def _cache_dir() -> Path:
    configured = os.environ.get("FIRSTLINE_TEST_CACHE")
    return Path(configured).expanduser() if configured else Path.home() / ".cache/firstline-test"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:]
            pytest.fail(f"llama_cpp.server exited with {process.returncode}:\n{tail}")
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    pytest.fail(f"llama_cpp.server did not answer {url}/models within {STARTUP_SECONDS}s")


@pytest.fixture(scope="session")
def llama_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL (ending in /v1) of an OpenAI-compatible llama.cpp server with the default GGUF.

    ``FIRSTLINE_TEST_LLAMA_SERVER_URL`` points at a running one; otherwise one is started on a
    free loopback port with the model assembled into ``FIRSTLINE_TEST_CACHE``
    (default ``~/.cache/firstline-test``) and stopped after the session.
    """
    external = os.environ.get("FIRSTLINE_TEST_LLAMA_SERVER_URL")
    if external:
        yield external.rstrip("/")
        return
    if importlib.util.find_spec("llama_cpp") is None or \
            importlib.util.find_spec("llama_cpp.server") is None:
        pytest.skip("llama-cpp-python[server] is not installed")
    try:
        model_path = assemble(DEFAULT_SLM, _cache_dir() / "models")
    except ModelUnavailableError as exc:
        pytest.skip(f"default GGUF unavailable: {exc}")
    port = _free_port()
    log_path = tmp_path_factory.mktemp("llama-server") / "server.log"
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path),
               "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048"]
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_until_up(url, process, log_path)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def sample_kb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, object]]:
    """(store, embeddings): the sample knowledge base indexed once into a temporary Chroma."""
    from bot.core import SAMPLES
    from knowledge.embeddings import LocalEmbeddings
    from knowledge.indexer import Indexer
    from knowledge.store import KnowledgeStore, open_client

    store = KnowledgeStore(open_client(tmp_path_factory.mktemp("sample-kb")), "samples")
    embeddings = LocalEmbeddings()
    Indexer(store, embeddings, 700, ()).index([SAMPLES])
    yield store, embeddings
