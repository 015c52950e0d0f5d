"""Approved answers: admin-curated question/answer pairs the bot gives verbatim (route
``approved``), stored in the ledger database beside the answers.

An approved answer cites zero or more documents, each with the SHA-256 it had when approved; it
is withdrawn (status ``withdrawn`` with the reason) when one of them changes or disappears. Its
audience is the cited documents' (checked against the current file records when it is served);
one that cites nothing has an explicit ``audience`` (groups; empty: everyone). Past its
``review_on`` date it is still served and shown as due for review.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from bot.ledger.rows import utcnow

Status = Literal["active", "withdrawn"]


@dataclass(frozen=True)
class CitedDocument:
    """A document an approved answer cites, with its SHA-256 at approval time."""

    path: str
    sha256: str
    title: str = ""


@dataclass(frozen=True)
class Approved:
    """One approved answer."""

    id: str
    question: str
    answer: str
    language: str
    owner: str
    review_on: date | None
    cited: tuple[CitedDocument, ...]
    audience: tuple[str, ...]  # used only when nothing is cited; () is everyone
    encoder: str
    vector: bytes  # the question's embedding, float16 (as the question traces)
    marks: tuple[str, ...] = ()  # the question's topic marks (Japanese)
    status: Status = "active"
    withdrawn_reason: str = ""
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    origin: str = ""  # where it came from: "cli", "console", "gap", "handoff:<answer id>"

    def due(self, today: date) -> bool:
        """Past its review date (still served; shown as due)."""
        return self.review_on is not None and self.review_on < today


def new_approved_id() -> str:
    return f"ap-{uuid.uuid4().hex[:12]}"
