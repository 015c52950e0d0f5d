"""Fixtures for the bot tests: a real llama.cpp OpenAI-compatible server on loopback."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from loopback import free_port, start, stop

STARTUP_SECONDS = 120


@pytest.fixture(scope="session")
def llama_server_url(tmp_path_factory: pytest.TempPathFactory,
                     request: pytest.FixtureRequest) -> Iterator[str]:
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
    slm_path: Path = request.getfixturevalue("slm_path")  # only when we start the server
    port = free_port()
    log_path = tmp_path_factory.mktemp("llama-server") / "server.log"
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(slm_path),
               "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048"]
    url = f"http://127.0.0.1:{port}/v1"
    process = start(command, log_path, f"{url}/models", seconds=STARTUP_SECONDS)
    try:
        yield url
    finally:
        stop(process)


@pytest.fixture(scope="session")
def sample_kb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, object]]:
    """(store, embeddings): the sample knowledge base indexed once into a temporary Chroma."""
    from knowledge import SAMPLES
    from knowledge.embeddings import LocalEmbeddings
    from knowledge.indexer import Indexer
    from knowledge.store import KnowledgeStore, open_client

    store = KnowledgeStore(open_client(tmp_path_factory.mktemp("sample-kb")), "samples")
    embeddings = LocalEmbeddings()
    Indexer(store, embeddings, 700, ()).index([SAMPLES])
    yield store, embeddings
