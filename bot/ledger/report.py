"""The costs report: ledger summaries as a terminal table, JSON or CSV, and the times it takes.

``render`` formats the rows of :meth:`bot.ledger.store.Ledger.summary`; ``parse_when`` reads the
``--since``/``--until`` style times an admin types ("7d", "24h", "today", "2024-05-01").
All times are UTC, as in the ledger.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from bot.errors import UserFacingError
from bot.ledger.pricing import Pricing

Format = Literal["table", "json", "csv"]
FIELDS = ("key", "answers", "escalated", "escalated_share", "cost_usd", "all_cloud_cost_usd",
          "saving_usd", "saving_share", "prompt_tokens", "completion_tokens", "p50_latency_ms",
          "thumbs_up", "thumbs_down")
_SUMMED = ("answers", "escalated", "cost_usd", "all_cloud_cost_usd", "saving_usd",
           "prompt_tokens", "completion_tokens", "thumbs_up", "thumbs_down")
_RELATIVE = re.compile(r"^(\d+)\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def _count(value: Any) -> str:
    return f"{int(value):,}"


def _money(value: Any) -> str:
    return f"{float(value):.4f}"


def _share(value: Any) -> str:
    return f"{100 * float(value):.1f}%"


def _ms(value: Any) -> str:
    return "-" if value is None else f"{float(value):,.0f}"


# (header, field, formatter); the first column is left-aligned, the rest right-aligned
_COLUMNS: tuple[tuple[str, str, Callable[[Any], str]], ...] = (
    ("answers", "answers", _count),
    ("cloud", "escalated", _count),
    ("cloud %", "escalated_share", _share),
    ("cost $", "cost_usd", _money),
    ("all-cloud $", "all_cloud_cost_usd", _money),
    ("saved $", "saving_usd", _money),
    ("saved %", "saving_share", _share),
    ("prompt tok", "prompt_tokens", _count),
    ("output tok", "completion_tokens", _count),
    ("p50 ms", "p50_latency_ms", _ms),
    ("up", "thumbs_up", _count),
    ("down", "thumbs_down", _count),
)


def render(
    summary_rows: Sequence[Mapping[str, Any]],
    fmt: Format,
    *,
    totals: Mapping[str, Any] | None = None,
    key_label: str = "key",
) -> str:
    """Format summary rows. Floats are rounded to 6 places in JSON and CSV.

    The table ends with a totals line: ``totals`` when given (pass the ungrouped summary: it has
    the true p50, and by-model groups overlap), else the sum of the rows without a p50.
    """
    if fmt == "json":
        return json.dumps([_rounded(r) for r in summary_rows], indent=2, ensure_ascii=False)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=FIELDS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(_rounded(r) for r in summary_rows)
        return out.getvalue()
    if fmt == "table":
        return _table(summary_rows, totals or total_of(summary_rows), key_label)
    raise ValueError(f"unknown format {fmt!r}")


def total_of(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Sum summary rows into one; shares are recomputed, the p50 is unknown (None)."""
    total: dict[str, Any] = {name: sum(r[name] for r in rows) for name in _SUMMED}
    total["key"] = "total"
    total["escalated_share"] = total["escalated"] / total["answers"] if total["answers"] else 0.0
    cloud = total["all_cloud_cost_usd"]
    total["saving_share"] = total["saving_usd"] / cloud if cloud else 0.0
    total["p50_latency_ms"] = None
    return total


def _rounded(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: round(v, 6) if isinstance(v, float) else v for k, v in row.items()}


def _cells(row: Mapping[str, Any], key: str) -> list[str]:
    return [key] + [fmt(row[name]) for _, name, fmt in _COLUMNS]


def _table(rows: Sequence[Mapping[str, Any]], total: Mapping[str, Any], key_label: str) -> str:
    header = [key_label] + [title for title, _, _ in _COLUMNS]
    body = [_cells(r, str(r["key"])) for r in rows]
    footer = _cells(total, "TOTAL")
    widths = [max(len(line[i]) for line in [header, *body, footer]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        return "  ".join([first, *(c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))])

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *map(line, body), rule, line(footer)])


def pricing_note(total: Mapping[str, Any], pricing: Pricing) -> str:
    """How the table's dollars are reckoned, under it: the on-prem rate and what it assumes, the
    cloud prices, and, for a negative saving, why (where on-prem answers break even)."""
    rate = pricing.onprem_usd_per_second
    lines = [
        f"On-prem time is counted as cost: ${rate:.6f} per second of local-model time "
        f"(${rate * 3600:.3f} an hour; FIRSTLINE_ONPREM_USD_PER_SECOND; the default 0.00002 "
        "assumes a 2-core VM at about $0.07 an hour, fully busy while it answers).",
        f"all-cloud $ is the same tokens at cloud prices (${pricing.input_per_mtok:g} / "
        f"${pricing.output_per_mtok:g} per million input / output tokens); saved = all-cloud "
        "minus cost.",
    ]
    if total["answers"] and rate > 0:
        lines.append(_break_even(total, pricing))
    if float(total["saving_usd"]) < 0:
        lines.append(
            "The saving is negative: at this rate the local model's time cost more than the "
            "same tokens in the cloud (an escalated answer pays for its local draft and the "
            "cloud). If the VM is paid for anyway (idle otherwise), set "
            "FIRSTLINE_ONPREM_USD_PER_SECOND=0: cost $ is then the cloud spend alone and saved $ "
            "the cloud spend avoided.")
    return "\n".join(lines)


def _break_even(total: Mapping[str, Any], pricing: Pricing) -> str:
    answers = int(total["answers"])
    prompt, output = total["prompt_tokens"] / answers, total["completion_tokens"] / answers
    cloud = pricing.cloud_cost(round(prompt), round(output))
    seconds = cloud / pricing.onprem_usd_per_second
    p50 = total.get("p50_latency_ms")
    took = f"; the answers' p50 latency was {float(p50) / 1000:.1f} s" if p50 else ""
    return (f"An average answer here ({prompt:,.0f} prompt + {output:,.0f} output tokens) costs "
            f"${cloud:.6f} in the cloud, so an on-prem answer is cheaper only under "
            f"{seconds:.1f} s of model time{took}.")


def parse_when(text: str, now: datetime | None = None) -> datetime:
    """An aware UTC datetime from "2024-05-01", an ISO datetime (naive means UTC), "7d",
    "24h", "30m", "2w", "today", "yesterday" or "now"."""
    now = _to_utc(now or datetime.now(UTC))
    word = text.strip().lower()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    named = {"now": now, "today": midnight, "yesterday": midnight - timedelta(days=1)}
    if word in named:
        return named[word]
    relative = _RELATIVE.match(word)
    if relative:
        return now - timedelta(**{_UNITS[relative[2]]: int(relative[1])})
    try:
        return _to_utc(datetime.fromisoformat(text.strip()))
    except ValueError:
        raise UserFacingError(
            f"Cannot read {text!r} as a time: use a date (2024-05-01), an ISO time "
            "(2024-05-01T09:00), a span back from now (7d, 24h, 30m, 2w), or today/yesterday."
        ) from None


def _to_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
