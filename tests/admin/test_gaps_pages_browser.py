"""The Knowledge gaps and Approved answers pages in a real browser (the console harness: a real
core on a real SQLite ledger and Chroma, the fast embedder and a fake chat model): a gap with its
count, trend, terms and closest documents, promoted to an approved answer that the core then
gives; adding, editing and withdrawing approved answers with one-line errors; EN and JA; a
forged form post without the CSRF token refused."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from datetime import UTC, date, datetime, timedelta
from typing import Any

from console_harness import Served, ledger_row, login
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from bot.app.admin.auth import SESSION_COOKIE
from bot.ledger.traces import make_trace
from bot.types import Question, Reply, Route

NOW = datetime.now(UTC) - timedelta(minutes=5)
PARKING = ["How do I get a parking permit?", "How do I get a parking permit for my car?",
           "how do I get a parking permit"]


def declined(console: Served, n: int, text: str, when: datetime) -> None:
    """A declined answer with its trace, made by the core's own question encoder."""
    encoder = console.core.question_encoder
    vector = encoder.encode([text])[0]
    console.ledger.record(ledger_row(n, when, route="declined", reason="weak-evidence"),
                          make_trace(f"a{n:06d}", when, "en", encoder.name, vector, text))


def ask(console: Served, text: str) -> Reply:
    future = asyncio.run_coroutine_threadsafe(console.core.handle(Question(text)), console.loop)
    return future.result(60)


def fill(form: Any, **values: str) -> None:
    for name, value in values.items():
        field = form.find_element(By.NAME, name)
        field.clear()
        field.send_keys(value)


def test_a_gap_is_shown_and_promoted_to_an_approved_answer(console: Served,
                                                            browser: Any) -> None:
    for n, text in enumerate(PARKING):
        declined(console, n, text, NOW - timedelta(minutes=n))
    declined(console, 9, "Where is the VPN reset portal?", NOW)  # alone: not a gap
    login(browser, console.url)
    browser.get(f"{console.url}/admin/gaps")
    gaps = browser.find_elements(By.CSS_SELECTOR, "section.gap")
    assert len(gaps) == 1
    gap = gaps[0]
    assert gap.get_attribute("data-count") == "3"
    assert "3 questions" in gap.text and "new" in gap.text and "declined × 3" in gap.text
    assert "parking" in gap.find_element(By.CLASS_NAME, "terms").text
    assert "(not logged)" in gap.find_element(By.CLASS_NAME, "examples").text
    assert "vpn.md" in gap.find_element(By.CLASS_NAME, "documents").text  # nearest of three
    assert PARKING[0] not in browser.page_source  # question text is not logged here

    gap.find_element(By.TAG_NAME, "summary").click()
    form = gap.find_element(By.CLASS_NAME, "promote-form")
    fill(form, question="How do I get a parking permit?",
         answer="Ask facilities at reception; permits are issued the same day.",
         owner="facilities")
    form.find_element(By.CLASS_NAME, "promote-submit").click()
    WebDriverWait(browser, 10).until(lambda b: "/admin/approved" in b.current_url)
    row = browser.find_element(By.CSS_SELECTOR, "#approved tbody tr[data-status=active]")
    assert "parking permit" in row.text and "facilities" in row.text
    assert row.get_attribute("data-id") in browser.find_element(By.ID, "done").text

    reply = ask(console, "How can I get a parking permit?")
    assert reply.route is Route.APPROVED and reply.text.startswith("Ask facilities")
    item = console.ledger.approved(str(reply.signals["approved_id"]))
    assert item is not None and item.origin.startswith("gap:")


def test_approved_answers_are_added_edited_and_withdrawn(console: Served,
                                                          browser: Any) -> None:
    login(browser, console.url)
    browser.get(f"{console.url}/admin/approved")
    assert browser.find_element(By.ID, "no-approved")
    form = browser.find_element(By.ID, "add-form")
    fill(form, question="How do I reset my VPN password?", answer="Use the portal.",
         owner="it-desk", cited="nope.md")
    form.find_element(By.ID, "add").click()
    error = WebDriverWait(browser, 10).until(
        lambda b: b.find_elements(By.ID, "form-error"))[0].text
    assert error == ("cited document 'nope.md' is not indexed (cite a document by the path "
                     "answers show as their source)")
    assert console.ledger.approved_list() == []

    form = browser.find_element(By.ID, "add-form")
    fill(form, question="How do I reset my VPN password?", answer="Use the portal.",
         owner="it-desk", cited="vpn.md")
    form.find_element(By.NAME, "review_on").send_keys("01012020")  # a past date: due
    form.find_element(By.ID, "add").click()
    WebDriverWait(browser, 10).until(lambda b: "added=" in b.current_url)
    (item,) = console.ledger.approved_list()
    assert item.review_on == date(2020, 1, 1) and [c.path for c in item.cited] == ["vpn.md"]
    row = browser.find_element(By.CSS_SELECTOR, f"tr[data-id='{item.id}']")
    assert "due for review" in row.text and "vpn.md" in row.text

    row.find_element(By.TAG_NAME, "summary").click()
    edit = row.find_element(By.CLASS_NAME, "edit-form")
    fill(edit, answer="Use the self-service portal.")
    edit.find_element(By.TAG_NAME, "button").click()
    WebDriverWait(browser, 10).until(lambda b: "edited=" in b.current_url)
    assert console.ledger.approved(item.id).answer == "Use the self-service portal."  # type: ignore[union-attr]

    row = browser.find_element(By.CSS_SELECTOR, f"tr[data-id='{item.id}']")
    withdraw = row.find_element(By.CLASS_NAME, "withdraw-form")
    fill(withdraw, why="portal replaced")
    withdraw.find_element(By.TAG_NAME, "button").click()
    WebDriverWait(browser, 10).until(lambda b: "withdrawn=" in b.current_url)
    row = browser.find_element(By.CSS_SELECTOR, f"tr[data-id='{item.id}']")
    assert row.get_attribute("data-status") == "withdrawn" and "portal replaced" in row.text

    browser.get(f"{console.url}/admin/approved?status=all&lang=ja")
    assert "承認済みの回答" in browser.find_element(By.TAG_NAME, "h1").text
    assert "取り下げ済み" in browser.page_source
    browser.get(f"{console.url}/admin/gaps?lang=ja")
    assert "知識のギャップ" in browser.find_element(By.TAG_NAME, "h1").text


def test_a_forged_promotion_without_the_csrf_token_is_refused(console: Served,
                                                               browser: Any) -> None:
    login(browser, console.url)
    cookie = browser.get_cookie(SESSION_COOKIE)
    assert cookie is not None
    request = urllib.request.Request(
        f"{console.url}/admin/approved/add", method="POST",
        data=b"question=Q&answer=A&language=en&owner=x",
        headers={"Cookie": f"{SESSION_COOKIE}={cookie['value']}"})
    try:
        urllib.request.urlopen(request, timeout=10)
        status = 200
    except urllib.error.HTTPError as exc:
        status = exc.code
    assert status == 403 and console.ledger.approved_list() == []
