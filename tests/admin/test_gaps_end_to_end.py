"""End to end, everything real: the composition root's core (the packaged GGUF through
llama.cpp, all-MiniLM and the multilingual encoder, Chroma, a SQLite ledger) over the sample
facilities documents, its console in Debian's chromium. Three similar questions the documents
do not answer are declined; their gap appears on the Gaps page; the admin promotes it to an
approved answer in the browser; the next such question is answered from it (route approved,
cost 0, no model call)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from console_harness import TOKEN, Served, login, serving
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from bot.app.composition import build_firstline
from bot.settings import Settings
from bot.types import Question, Reply, Route
from knowledge import SAMPLES

pytestmark = pytest.mark.slm

UNANSWERABLE = ["Can I bring my dog to the office?", "Are dogs allowed in the office?",
                "Can I bring my dog to work with me?"]
NEXT = "Can I bring my dog into the office?"
ANSWER = "Dogs are not allowed in the offices, except assistance dogs."


@pytest.fixture
def real_console(tmp_path: Path, slm_path: Path) -> Iterator[Served]:
    kb = tmp_path / "kb"
    shutil.copytree(SAMPLES / "facilities", kb / "facilities")
    settings = Settings.load({"data_dir": tmp_path / "data", "knowledge_paths": (str(kb),),
                              "slm_model": str(slm_path), "admin_token": TOKEN},
                             environ={}, config_file=tmp_path / "none.toml")
    core = build_firstline(settings)
    assert not core.indexing.index().failed
    with serving(core) as served:
        yield served


def ask(console: Served, text: str) -> Reply:
    future = asyncio.run_coroutine_threadsafe(
        console.core.handle(Question(text, user="employee", channel="slack")), console.loop)
    return future.result(600)


def test_a_gap_promoted_in_the_browser_answers_the_next_such_question(
        real_console: Served, browser: Any) -> None:
    console = real_console
    login(browser, console.url)
    for text in UNANSWERABLE:
        reply = ask(console, text)
        assert reply.route is Route.DECLINED, (text, reply.reason, reply.text)

    browser.get(f"{console.url}/admin/gaps")
    gaps = browser.find_elements(By.CSS_SELECTOR, "section.gap")
    assert len(gaps) == 1, browser.page_source
    gap = gaps[0]
    assert gap.get_attribute("data-count") == "3" and "dog" in gap.text
    assert UNANSWERABLE[0] not in browser.page_source  # question text is not logged

    gap.find_element(By.TAG_NAME, "summary").click()
    form = gap.find_element(By.CLASS_NAME, "promote-form")
    for name, value in (("question", UNANSWERABLE[0]), ("answer", ANSWER),
                        ("owner", "facilities")):
        form.find_element(By.NAME, name).send_keys(value)
    form.find_element(By.CLASS_NAME, "promote-submit").click()
    WebDriverWait(browser, 10).until(lambda b: "added=" in b.current_url)
    assert ANSWER in browser.find_element(By.ID, "approved").text

    reply = ask(console, NEXT)
    assert (reply.route, reply.text, reply.cost_usd, reply.models) == (
        Route.APPROVED, ANSWER, 0.0, ())
    row = console.ledger.get(reply.answer_id)
    assert row is not None and (row.route, row.reason) == ("approved", "approved-answer")
    assert len([t for t in console.ledger.traced() if t.row.route == "declined"]) == 3
