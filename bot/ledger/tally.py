"""What the admin console reads from the ledger: answers summed per day, route, models, vote and
hand-off mark (:class:`Tally`, with each model's prompt and completion tokens), and latency
quantiles — small results whatever the row count,
which :class:`bot.ledger.store.Ledger` works out in SQL and the in-memory ledger in Python."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.ledger.rows import LedgerRow, utc


@dataclass(frozen=True)
class ModelTokens:
    """One model's prompt and completion (output) tokens, summed over a tally's answers."""

    model: str
    prompt: int
    completion: int


TallyKey = tuple[str, str, tuple[str, ...], str | None, bool]


@dataclass(frozen=True)
class Tally:
    """The answers that share a UTC day, route, models, vote and hand-off mark, summed."""

    day: str  # YYYY-MM-DD (UTC)
    route: str
    models: tuple[str, ...]
    feedback: str | None  # "up", "down" or None
    handed_off: bool
    answers: int
    cost_usd: float
    all_cloud_cost_usd: float
    latency_ms: float  # the sum (divide by answers for the mean)
    tokens: tuple[ModelTokens, ...] = ()  # per model, sorted by model

    @property
    def prompt_tokens(self) -> int:
        return sum(t.prompt for t in self.tokens)

    @property
    def completion_tokens(self) -> int:
        return sum(t.completion for t in self.tokens)


def models_of(raw: str | Sequence[str]) -> tuple[str, ...]:
    """A row's ``models`` (JSON text in the database) as a tuple."""
    return tuple(json.loads(raw) if isinstance(raw, str) else raw)


def model_tokens(sums: Mapping[str, Sequence[int]]) -> tuple[ModelTokens, ...]:
    """``{model: (prompt, completion)}`` as :class:`ModelTokens`, sorted by model."""
    return tuple(ModelTokens(m, int(p), int(c)) for m, (p, c) in sorted(sums.items()))


def tally_rows(rows: Iterable[LedgerRow], *, tokens: bool = True) -> list[Tally]:
    """:class:`Tally` groups of ``rows`` (what the SQL queries return, in Python); without
    ``tokens``, no :class:`ModelTokens`."""
    groups: dict[TallyKey, list[float]] = {}
    used: dict[TallyKey, dict[str, list[int]]] = {}
    for row in rows:
        key = (utc(row.created_at).date().isoformat(), str(row.route), tuple(row.models),
               row.feedback, row.handed_off_at is not None)
        sums = groups.setdefault(key, [0, 0.0, 0.0, 0.0])
        for i, value in enumerate((1, row.cost_usd, row.all_cloud_cost_usd, row.latency_ms)):
            sums[i] += value
        for model, counts in (row.tokens.items() if tokens else ()):
            pair = used.setdefault(key, {}).setdefault(model, [0, 0])
            pair[0] += counts.get("prompt", 0)
            pair[1] += counts.get("completion", 0)
    tallies = [Tally(*key, int(s[0]), s[1], s[2], s[3], model_tokens(used.get(key, {})))
               for key, s in groups.items()]
    return sorted(tallies, key=lambda t: (t.day, t.route))


def rank(q: float, n: int) -> int:
    """The 0-based index of the ``q`` quantile among ``n`` sorted values (nearest rank)."""
    return min(n - 1, max(0, math.ceil(q * n) - 1))


def quantiles(values: Iterable[float], qs: Sequence[float]) -> list[float]:
    """Nearest-rank quantiles of ``values`` (0.0 each when there are none)."""
    ordered = sorted(values)
    return [ordered[rank(q, len(ordered))] if ordered else 0.0 for q in qs]
