"""Answers from an Excel workbook, through the real core and the real GGUF: a row found on its
own carries its column names, so the local model can answer from it and cite the workbook."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from bot.types import Question

pytestmark = pytest.mark.slm

PTO = "# Paid time off\n\nEmployees get 15 days of paid time off per year.\n"


def workbook(path: Path, sheet: str, rows: list[list[str]]) -> None:
    book = Workbook()
    book.active.title = sheet
    for row in rows:
        book.active.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)


@pytest.fixture(scope="module")
def core(tmp_path_factory: pytest.TempPathFactory, slm_path: Path) -> Iterator[Any]:
    from bot.app.composition import build_firstline
    from bot.settings import Settings

    base = tmp_path_factory.mktemp("office-answers")
    docs = base / "docs"
    (docs / "hr").mkdir(parents=True)
    (docs / "hr/paid-time-off.md").write_text(PTO, encoding="utf-8")
    workbook(docs / "expenses/expense-limits.xlsx", "Travel", [
        ["Item", "Limit", "Approval"], ["Hotel per night", "180 dollars", "Manager"],
        ["Taxi to the airport", "60 dollars", "none"]])
    workbook(docs / "expenses/経費規程.xlsx", "国内出張", [
        ["役職", "日当", "宿泊費上限"], ["一般社員", "2,000円", "10,000円"],
        ["部長", "4,000円", "15,000円"]])
    settings = Settings.load({"data_dir": base / "data", "slm_model": str(slm_path),
                              "cache_ttl_seconds": 0, "knowledge_paths": str(docs)},
                             environ={}, config_file=base / "absent.toml")
    firstline = build_firstline(settings)
    assert len(firstline.indexing.index().added) == 3
    yield firstline
    asyncio.run(firstline.aclose())


@pytest.mark.parametrize(("question", "path", "figure"), [
    ("How much can I spend on a hotel per night?", "expenses/expense-limits.xlsx", "180"),
    ("部長の宿泊費の上限はいくらですか？", "expenses/経費規程.xlsx", "15,000"),
])
def test_a_row_of_a_workbook_answers_and_is_cited(
    core: Any, question: str, path: str, figure: str
) -> None:
    reply = asyncio.run(core.handle(Question(question, user="u1")))
    assert reply.covered, (reply.reason, reply.text)
    assert reply.cited_sources and reply.cited_sources[0].path == path
    assert figure in reply.text
