"""Cost summaries of ledger rows: totals by day, route, channel or model."""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.ledger.rows import CLOUD_ROUTES, utc

SUMMARY_COLUMNS = ("created_at", "route", "channel", "models", "tokens", "latency_ms",
                   "cost_usd", "all_cloud_cost_usd", "feedback")


@dataclass
class _Bucket:
    answers: int = 0
    escalated: int = 0
    cost_usd: float = 0.0
    all_cloud_cost_usd: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    thumbs_up: int = 0
    thumbs_down: int = 0
    latencies: list[float] = field(default_factory=list)

    def add(self, row: Mapping[Any, Any], tokens: list[dict[str, int]]) -> None:
        self.answers += 1
        self.escalated += row["route"] in CLOUD_ROUTES
        self.cost_usd += row["cost_usd"]
        self.all_cloud_cost_usd += row["all_cloud_cost_usd"]
        self.prompt_tokens += sum(t.get("prompt", 0) for t in tokens)
        self.completion_tokens += sum(t.get("completion", 0) for t in tokens)
        self.thumbs_up += row["feedback"] == "up"
        self.thumbs_down += row["feedback"] == "down"
        self.latencies.append(row["latency_ms"])

    def as_dict(self, key: str) -> dict[str, Any]:
        saving = self.all_cloud_cost_usd - self.cost_usd
        return {
            "key": key, "answers": self.answers, "escalated": self.escalated,
            "escalated_share": self.escalated / self.answers if self.answers else 0.0,
            "cost_usd": self.cost_usd, "all_cloud_cost_usd": self.all_cloud_cost_usd,
            "saving_usd": saving,
            "saving_share": saving / self.all_cloud_cost_usd if self.all_cloud_cost_usd else 0.0,
            "prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
            "p50_latency_ms": statistics.median(self.latencies) if self.latencies else 0.0,
            "thumbs_up": self.thumbs_up, "thumbs_down": self.thumbs_down,
        }


def _groups(row: Mapping[Any, Any], by: str | None) -> list[tuple[str, list[dict[str, int]]]]:
    """The keys a row counts toward, each with the token counts that belong to that key."""
    tokens: dict[str, dict[str, int]] = json.loads(row["tokens"])
    if by == "model":  # a row counts toward every model it used, with that model's tokens
        models = list(dict.fromkeys([*json.loads(row["models"]), *tokens]))
        return [(m, [tokens.get(m, {})]) for m in models] or [("(none)", [])]
    if by == "day":
        key = utc(row["created_at"]).date().isoformat()
    else:
        key = "total" if by is None else str(row[by])
    return [(key, list(tokens.values()))]


def summarise(rows: Iterable[Mapping[Any, Any]], by: str | None) -> list[dict[str, Any]]:
    """Aggregate ledger rows by UTC day, route, channel or model (None: one "total" row).

    Days come out in order; other groups by answers, most first. With ``by="model"`` groups
    overlap (an answer that used two models counts in both), tokens are per model.
    """
    buckets: dict[str, _Bucket] = {"total": _Bucket()} if by is None else {}
    for row in rows:
        for key, tokens in _groups(row, by):
            buckets.setdefault(key, _Bucket()).add(row, tokens)
    out = [bucket.as_dict(key) for key, bucket in buckets.items()]
    if by == "day":
        return sorted(out, key=lambda d: d["key"])
    return sorted(out, key=lambda d: (-d["answers"], d["key"]))
