"""The costs report: a table for the terminal, JSON, CSV, and the times admins type."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from bot.errors import UserFacingError
from bot.ledger.report import FIELDS, parse_when, render, total_of

NOW = datetime(2024, 5, 10, 15, 30, 45, tzinfo=UTC)


def row(key: str, answers: int, escalated: int, cost: float, cloud: float,
        prompt: int, completion: int, p50: float, up: int, down: int) -> dict[str, Any]:
    return {
        "key": key, "answers": answers, "escalated": escalated,
        "escalated_share": escalated / answers, "cost_usd": cost, "all_cloud_cost_usd": cloud,
        "saving_usd": cloud - cost, "saving_share": (cloud - cost) / cloud,
        "prompt_tokens": prompt, "completion_tokens": completion, "p50_latency_ms": p50,
        "thumbs_up": up, "thumbs_down": down,
    }


DAYS = [
    row("2024-05-01", 3, 1, 0.021, 0.04, 3500, 350, 1000.0, 1, 1),
    row("2024-05-02", 2, 1, 0.013, 0.04, 4000, 400, 1750.0, 1, 0),
]
TOTAL = row("total", 5, 2, 0.034, 0.08, 7500, 750, 1500.0, 2, 1)


# --- table ------------------------------------------------------------------------------------
def test_table_has_aligned_columns_and_a_totals_line() -> None:
    lines = render(DAYS, "table", key_label="day").splitlines()
    assert len(lines) == 6  # header, rule, two days, rule, totals
    assert len({len(line) for line in lines}) == 1
    assert lines[0].split()[:3] == ["day", "answers", "cloud"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert lines[2].startswith("2024-05-01 ") and lines[5].startswith("TOTAL ")
    # numbers are right-aligned: every line's answers column ends at the same place
    end = lines[0].index("answers") + len("answers")
    assert [line[:end].split()[-1] for line in lines[2:] if "-" * 3 not in line] \
        == ["3", "2", "5"]


def test_table_totals_sum_the_rows_without_inventing_a_p50() -> None:
    cells = render(DAYS, "table").splitlines()[-1].split()
    assert cells == ["TOTAL", "5", "2", "40.0%", "0.0340", "0.0800", "0.0460", "57.5%",
                     "7,500", "750", "-", "2", "1"]


def test_table_uses_given_totals_for_overlapping_groups() -> None:
    models = [row("slm", 3, 1, 0.024, 0.06, 4500, 450, 1500.0, 1, 1),
              row("gpt", 2, 2, 0.03, 0.03, 3000, 300, 2500.0, 1, 1)]
    cells = render(models, "table", totals=TOTAL).splitlines()[-1].split()
    assert cells[:3] == ["TOTAL", "5", "2"] and cells[10] == "1,500"


def test_an_empty_table_still_has_a_header_and_zero_totals() -> None:
    lines = render([], "table").splitlines()
    assert len(lines) == 4
    assert lines[-1].split() == ["TOTAL", "0", "0", "0.0%", "0.0000", "0.0000", "0.0000",
                                 "0.0%", "0", "0", "-", "0", "0"]


def test_total_of_recomputes_shares() -> None:
    total = total_of(DAYS)
    assert total["answers"] == 5 and total["escalated_share"] == pytest.approx(0.4)
    assert total["saving_share"] == pytest.approx(0.575) and total["p50_latency_ms"] is None


# --- json and csv -------------------------------------------------------------------------------
def test_json_is_the_rows_with_floats_rounded() -> None:
    parsed = json.loads(render(DAYS, "json"))
    assert [r["key"] for r in parsed] == ["2024-05-01", "2024-05-02"]
    assert parsed[0]["saving_usd"] == 0.019  # 0.04 - 0.021 without float noise
    assert parsed[1]["escalated_share"] == 0.5 and parsed[1]["answers"] == 2
    assert list(parsed[0]) == list(FIELDS)


def test_csv_has_a_header_and_one_line_per_row() -> None:
    text = render(DAYS, "csv")
    records = list(csv.DictReader(io.StringIO(text)))
    assert text.splitlines()[0].split(",") == list(FIELDS)
    assert [r["key"] for r in records] == ["2024-05-01", "2024-05-02"]
    assert records[0]["prompt_tokens"] == "3500" and records[0]["saving_usd"] == "0.019"


def test_unknown_format_is_an_error() -> None:
    with pytest.raises(ValueError):
        render(DAYS, "xml")  # type: ignore[arg-type]


# --- parse_when ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "wanted"), [
    ("2024-05-01", datetime(2024, 5, 1, tzinfo=UTC)),
    ("2024-05-01T12:30", datetime(2024, 5, 1, 12, 30, tzinfo=UTC)),
    ("2024-05-01T12:30:00+09:00", datetime(2024, 5, 1, 3, 30, tzinfo=UTC)),
    ("2024-05-01T12:30:00Z", datetime(2024, 5, 1, 12, 30, tzinfo=UTC)),
    ("7d", NOW - timedelta(days=7)),
    (" 24h ", NOW - timedelta(hours=24)),
    ("30m", NOW - timedelta(minutes=30)),
    ("2w", NOW - timedelta(weeks=2)),
    ("today", datetime(2024, 5, 10, tzinfo=UTC)),
    ("Yesterday", datetime(2024, 5, 9, tzinfo=UTC)),
    ("now", NOW),
])
def test_parse_when(text: str, wanted: datetime) -> None:
    parsed = parse_when(text, now=NOW)
    assert parsed == wanted and parsed.tzinfo == UTC


def test_parse_when_today_is_the_utc_day() -> None:
    tokyo_morning = datetime(2024, 5, 11, 8, 0, tzinfo=timezone(timedelta(hours=9)))
    assert parse_when("today", now=tokyo_morning) == datetime(2024, 5, 10, tzinfo=UTC)


def test_parse_when_defaults_to_the_current_time() -> None:
    before = datetime.now(UTC)
    assert before - timedelta(days=1, seconds=1) <= parse_when("1d") <= datetime.now(UTC)


@pytest.mark.parametrize("text", ["", "last week", "7x", "-3d", "2024-13-01"])
def test_parse_when_rejects_nonsense_in_plain_words(text: str) -> None:
    with pytest.raises(UserFacingError, match="Cannot read"):
        parse_when(text, now=NOW)


# --- the note under the table -------------------------------------------------------------------
def test_the_note_gives_the_on_prem_rate_and_what_it_assumes() -> None:
    from bot.ledger.pricing import Pricing
    from bot.ledger.report import pricing_note

    note = pricing_note(TOTAL, Pricing())
    assert note.splitlines()[0] == (
        "On-prem time is counted as cost: $0.000020 per second of local-model time ($0.072 an "
        "hour; FIRSTLINE_ONPREM_USD_PER_SECOND; the default 0.00002 assumes a 2-core VM at "
        "about $0.07 an hour, fully busy while it answers).")
    assert "$0.15 / $0.6 per million input / output tokens" in note
    # 1,500 prompt + 150 output tokens: (1500 * 0.15 + 150 * 0.6) / 1e6 = $0.000315 = 15.8 s
    assert ("An average answer here (1,500 prompt + 150 output tokens) costs $0.000315 in the "
            "cloud, so an on-prem answer is cheaper only under 15.8 s of model time; the "
            "answers' p50 latency was 1.5 s.") in note
    assert "negative" not in note


def test_a_negative_saving_is_explained() -> None:
    from bot.ledger.pricing import Pricing
    from bot.ledger.report import pricing_note

    slow = row("total", 4, 0, 0.0008, 0.0004, 4000, 160, 9800.0, 0, 0)  # saved -100%
    note = pricing_note(slow, Pricing())
    # (1,000 * 0.15 + 40 * 0.60) / 1e6 = $0.000174 = 8.7 s at $0.00002 a second
    assert "cheaper only under 8.7 s of model time; the answers' p50 latency was 9.8 s" in note
    assert note.splitlines()[-1].startswith(
        "The saving is negative: at this rate the local model's time cost more than the same "
        "tokens in the cloud")
    assert "set FIRSTLINE_ONPREM_USD_PER_SECOND=0" in note
    free = pricing_note(slow, Pricing(onprem_usd_per_second=0.0))
    assert "$0.000000 per second" in free and "cheaper only under" not in free
