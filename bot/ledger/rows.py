"""One ledger row per answer, and the pseudonym users get in it."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

CLOUD_ROUTES = ("cloud",)  # routes whose cost_usd is cloud spend (budgets, "escalated")
GROUPINGS = (None, "day", "route", "channel", "model")


@dataclass
class LedgerRow:
    """One answer. ``user_hash`` comes from :func:`hash_user`; times are tz-aware UTC."""

    answer_id: str
    created_at: datetime
    channel: str
    user_hash: str
    conversation: str
    route: str
    reason: str
    signals: dict[str, Any]
    models: list[str]
    tokens: dict[str, dict[str, int]]  # model -> {"prompt": n, "completion": n}
    latency_ms: float
    cost_usd: float
    all_cloud_cost_usd: float
    sources: list[dict[str, Any]]  # [{path, title, score}]
    language: str = "en"
    question: str | None = None
    error: str | None = None
    feedback: str | None = None
    feedback_reason: str | None = None
    feedback_at: datetime | None = None
    handed_off_at: datetime | None = None  # "Ask a person": when, to which target, what it became
    handoff_target: str | None = None
    handoff_reference: str | None = None


def hash_user(user: str, salt: str = "") -> str:
    """A short stable pseudonym for a user id (HMAC-SHA256 keyed by ``salt``, 16 hex digits)."""
    return hmac.new(salt.encode(), user.encode(), hashlib.sha256).hexdigest()[:16]


def utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)
