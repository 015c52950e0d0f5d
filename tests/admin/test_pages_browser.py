"""The console's pages in a real browser: Conversations (question text only where it was
logged, filters, paging), Documents (files, audiences, flags, the last run, Reindex with live
progress, one at a time across processes) and Costs (its table and CSV)."""

from __future__ import annotations

import csv
import io
import threading
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from console_harness import QUESTION_TEXT, TOKEN, Served, console_core, ledger_row, login, serving
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

NOW = datetime.now(UTC) - timedelta(minutes=5)


@pytest.fixture
def logged_console(tmp_path: Path) -> Iterator[Served]:
    """A console whose ledger keeps question text (FIRSTLINE_LOG_QUESTION_TEXT on)."""
    core = console_core(tmp_path, log_question_text=True)
    with serving(core) as served:
        yield served


def rows_on_page(browser: Any) -> list[Any]:
    return list(browser.find_elements(By.CSS_SELECTOR, "#conversations tbody tr[data-answer]"))


def test_conversations_hide_question_text_that_was_not_logged(console: Served,
                                                              browser: Any) -> None:
    console.ledger.record(ledger_row(1, NOW, question=QUESTION_TEXT, route="declined",
                                     reason="no-passages", language="ja"))
    login(browser, console.url)
    browser.get(f"{console.url}/admin/conversations")
    assert QUESTION_TEXT not in browser.page_source
    row = rows_on_page(browser)[0].text
    assert "(not logged)" in row and "declined" in row and "no-passages" in row and "ja" in row
    assert browser.find_element(By.ID, "text-note").is_displayed()


def test_conversations_show_logged_text_filter_and_page(logged_console: Served,
                                                        browser: Any) -> None:
    for n in range(60):
        logged_console.ledger.record(ledger_row(n, NOW - timedelta(seconds=n),
                                                question=f"question {n}",
                                                route="cloud" if n % 10 == 0 else "local"))
    login(browser, logged_console.url)
    browser.get(f"{logged_console.url}/admin/conversations")
    shown = rows_on_page(browser)
    assert len(shown) == 50 and "question 0" in shown[0].text  # newest first
    assert not browser.find_elements(By.ID, "text-note")
    browser.find_element(By.ID, "older").click()
    WebDriverWait(browser, 10).until(lambda b: "page=1" in b.current_url)
    assert [r.get_attribute("data-answer") for r in rows_on_page(browser)] == [
        f"a{n:06d}" for n in range(50, 60)]
    browser.get(f"{logged_console.url}/admin/conversations")
    browser.find_element(By.CSS_SELECTOR, "#route option[value=cloud]").click()
    browser.find_element(By.ID, "filter").click()
    WebDriverWait(browser, 10).until(lambda b: "route=cloud" in b.current_url)
    assert [r.get_attribute("data-answer") for r in rows_on_page(browser)] == [
        f"a{n:06d}" for n in range(0, 60, 10)]


def test_documents_list_files_and_reindex_with_live_progress(
        console: Served, browser: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    login(browser, console.url)
    browser.get(f"{console.url}/admin/documents")
    files = {r.get_attribute("data-path"): r.text
             for r in browser.find_elements(By.CSS_SELECTOR, "#files tbody tr")}
    assert set(files) == {"vpn.md", "hr/salary-bands.md", "odd.md"}
    assert "hr" in files["hr/salary-bands.md"] and "everyone" in files["vpn.md"]
    assert "instructions to the assistant" in files["odd.md"]
    assert "3 added" in browser.find_element(By.ID, "last-run").text
    assert "flagged" in browser.find_element(By.ID, "problems").text
    (Path(console.core.settings.knowledge_paths[0]) / "new.md").write_text("# New\n\nHello.\n")
    go = threading.Event()  # the real reindex, held back until the page has shown it running
    index = console.core.indexing.index
    monkeypatch.setattr(console.core.indexing, "index",
                        lambda *a, **k: go.wait(30) and index(*a, **k))
    browser.find_element(By.NAME, "full").click()
    browser.find_element(By.ID, "reindex").click()
    WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.ID, "reindex-notice"))
    assert browser.find_element(By.ID, "reindex-notice").text == "Reindex started."
    assert "Indexing… 0/0 files" in browser.find_element(By.ID, "reindex-status").text
    go.set()
    # the page polls the progress, then shows itself again once the reindex is done
    WebDriverWait(browser, 60).until(lambda b: not b.current_url.endswith("=started"))
    status = browser.find_element(By.CSS_SELECTOR, "#reindex-status .text").text
    assert "Reindex finished" in status and "1 added" in status
    assert "1 added" in browser.find_element(By.ID, "last-run").text
    assert "new.md" in browser.find_element(By.ID, "files").text


def test_a_reindex_running_elsewhere_is_not_started_twice(console: Served,
                                                          browser: Any) -> None:
    assert console.ledger.acquire_lock("reindex", "another-replica", 60)
    login(browser, console.url)
    browser.get(f"{console.url}/admin/documents")
    browser.find_element(By.ID, "reindex").click()
    WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.ID, "reindex-notice"))
    assert browser.find_element(By.ID, "reindex-notice").text == "A reindex is already running."


def test_costs_table_and_csv(console: Served, browser: Any) -> None:
    used = {"slm": {"prompt": 100, "completion": 20}, "gpt": {"prompt": 300, "completion": 30}}
    for n, (route, models, cost) in enumerate([("local", ["slm"], 0.0), ("cloud", ["slm", "gpt"],
                                               0.003), ("cloud", ["gpt"], 0.002)]):
        console.ledger.record(ledger_row(n, NOW, route=route, models=models, cost_usd=cost,
                                         all_cloud_cost_usd=0.003,
                                         tokens={m: used[m] for m in models}))
    login(browser, console.url)
    browser.get(f"{console.url}/admin/costs?by=route")
    table = [r.text for r in browser.find_elements(By.CSS_SELECTOR, "#costs tbody tr")]
    assert table == ["cloud 2 0.0050 0.0060 0.0010 700 80", "local 1 0.0000 0.0030 0.0030 100 20"]
    browser.find_element(By.ID, "by-model").click()
    WebDriverWait(browser, 10).until(lambda b: "by=model" in b.current_url)
    table = [r.text for r in browser.find_elements(By.CSS_SELECTOR, "#costs tbody tr")]
    assert table == ["gpt 2 0.0050 0.0060 0.0010 600 60", "slm 2 0.0030 0.0060 0.0030 200 40"]
    assert browser.find_element(By.ID, "costs-total").text == \
        "Total 3 0.0050 0.0090 0.0040 800 100"
    request = urllib.request.Request(f"{console.url}/admin/costs/costs.csv?days=7",
                                     headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request) as response:
        assert response.headers["Content-Type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.read().decode())))
    assert [(r["route"], r["models"], r["answers"], r["cost_usd"]) for r in rows] == [
        ("cloud", "gpt", "1", "0.002000"), ("cloud", "slm+gpt", "1", "0.003000"),
        ("local", "slm", "1", "0.000000")]
