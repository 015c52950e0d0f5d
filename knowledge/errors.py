"""The knowledge library's own errors (it does not know about the bot's)."""

from __future__ import annotations


class KnowledgeError(Exception):
    """Base of the knowledge library's errors; the message is written for an operator."""


class EmbeddingModelMissing(KnowledgeError):
    """The configured embedding model folder holds no model."""
