"""The Costs page and costs.csv show prompt and output tokens, fetched over a real loopback
server: per route and day all of an answer's tokens, per model only that model's (an escalated
answer's local draft counts for the local model, its cloud answer for the cloud one)."""

from __future__ import annotations

import csv
import io
import urllib.request
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
from console_harness import TOKEN, Served, ledger_row

NOW = datetime.now(UTC).replace(microsecond=0)


class Cells(HTMLParser):
    """The text of each row of ``table#costs`` (body and footer), one list of cells a row."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.inside = ("id", "costs") in attrs
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag in ("td", "th") and self.rows:
            self.rows[-1].append("")

    def handle_endtag(self, tag: str) -> None:
        self.inside = self.inside and tag != "table"

    def handle_data(self, data: str) -> None:
        if self.inside and self.rows and self.rows[-1]:
            self.rows[-1][-1] += data.strip()


def fetch(console: Served, path: str) -> str:
    request = urllib.request.Request(f"{console.url}{path}",
                                     headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request) as response:
        return str(response.read().decode())


def table(console: Served, path: str) -> list[list[str]]:
    """Each row's key, answers and the two token cells (the header row left out)."""
    parser = Cells()
    parser.feed(fetch(console, path))
    return [[r[0], r[1], r[5], r[6]] for r in parser.rows[1:]]


@pytest.fixture
def answered(console: Served) -> Served:
    """A local answer (100 + 20 tokens), an escalated one (the local draft 900 + 100, the
    cloud answer 1000 + 200) and a cloud-only one (500 + 50)."""
    escalated = {"slm": {"prompt": 900, "completion": 100},
                 "gpt": {"prompt": 1000, "completion": 200}}
    for n, models, tokens in [(1, ["slm", "gpt"], escalated),
                              (2, ["gpt"], {"gpt": {"prompt": 500, "completion": 50}})]:
        console.ledger.record(ledger_row(n, NOW, route="cloud", models=models, tokens=tokens,
                                         cost_usd=0.001))
    console.ledger.record(ledger_row(3, NOW))
    return console


def test_tokens_per_route_and_day_count_every_model(answered: Served) -> None:
    assert table(answered, "/admin/costs?by=route") == [
        ["cloud", "2", "2,400", "350"], ["local", "1", "100", "20"], ["Total", "3", "2,500", "370"]]
    assert table(answered, "/admin/costs?by=day") == [
        [NOW.date().isoformat(), "3", "2,500", "370"], ["Total", "3", "2,500", "370"]]


def test_tokens_per_model_are_that_models_only(answered: Served) -> None:
    assert table(answered, "/admin/costs?by=model") == [
        ["gpt", "2", "1,500", "250"], ["slm", "2", "1,000", "120"], ["Total", "3", "2,500", "370"]]


def test_a_model_used_twice_in_an_answer_counts_once(console: Served) -> None:
    console.ledger.record(ledger_row(1, NOW, models=["slm", "slm"],
                                     tokens={"slm": {"prompt": 700, "completion": 70}}))
    assert table(console, "/admin/costs?by=model") == [
        ["slm", "1", "700", "70"], ["Total", "1", "700", "70"]]


def test_the_token_columns_are_labelled_in_japanese(answered: Served) -> None:
    page = fetch(answered, "/admin/costs?lang=ja")
    assert "入力トークン" in page and "出力トークン" in page


def test_csv_has_prompt_and_completion_tokens(answered: Served) -> None:
    rows = list(csv.DictReader(io.StringIO(fetch(answered, "/admin/costs/costs.csv?days=7"))))
    assert [(r["route"], r["models"], r["prompt_tokens"], r["completion_tokens"])
            for r in rows] == [("cloud", "gpt", "500", "50"), ("cloud", "slm+gpt", "1900", "300"),
                               ("local", "slm", "100", "20")]
