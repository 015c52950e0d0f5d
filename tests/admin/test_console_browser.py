"""The console in a real browser (Debian's chromium, headless, through Selenium): log in through
the form, read the overview's figures against a ledger filled with known rows, log out and see
the old cookie refused, and a forged form post fail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from console_harness import Served, ledger_row, login
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

# (route, feedback, cost, all-cloud cost): ten questions and one admin command
ROWS = [("local", None, 0.0, 0.001), ("local", "up", 0.0, 0.001), ("local", "down", 0.0, 0.001),
        ("local", None, 0.0, 0.001), ("cloud", None, 0.002, 0.002), ("cloud", None, 0.002, 0.002),
        ("cache", None, 0.0, 0.001), ("declined", None, 0.0, 0.0), ("declined", None, 0.0, 0.0),
        ("failed", None, 0.0, 0.0), ("command", None, 0.0, 0.0)]


def fill(served: Served) -> None:
    now = datetime.now(UTC) - timedelta(minutes=5)
    for n, (route, vote, cost, cloud) in enumerate(ROWS):
        served.ledger.record(ledger_row(n, now - timedelta(seconds=n), route=route, feedback=vote,
                                        cost_usd=cost, all_cloud_cost_usd=cloud,
                                        latency_ms=100.0 * (n + 1)))
    served.ledger.record(ledger_row(99, now - timedelta(days=40), route="cloud", cost_usd=0.5,
                                    all_cloud_cost_usd=0.5))


def wait(browser: Any) -> WebDriverWait[Any]:
    return WebDriverWait(browser, 10)


def text(browser: Any, element_id: str) -> str:
    return str(browser.find_element(By.ID, element_id).text)


def test_the_overview_shows_the_ledgers_numbers(console: Served, browser: Any) -> None:
    fill(console)
    browser.get(f"{console.url}/admin/overview")
    assert "/admin/login" in browser.current_url  # not logged in: the form
    login(browser, console.url)
    assert browser.current_url.endswith("/admin/overview")
    assert text(browser, "answers") == "10"
    assert text(browser, "deflection") == "60.0%"  # 3 local (one 👎 off), 2 cloud, 1 cache
    assert text(browser, "escalation") == "20.0%"
    assert text(browser, "spend") == "$0.0040"
    assert text(browser, "all-cloud") == "$0.0090"
    assert (text(browser, "p50"), text(browser, "p95")) == ("600", "1100")  # of 100..1100 ms
    assert (text(browser, "thumbs-up"), text(browser, "thumbs-down")) == ("1", "1")
    bars = browser.find_elements(By.CSS_SELECTOR, "svg.chart rect")
    assert sorted(b.find_element(By.TAG_NAME, "title").get_attribute("textContent")
                  .split(" ", 1)[1] for b in bars) == [
        "cache: 1", "cloud: 2", "command: 1", "declined: 2", "failed: 1", "local: 4"]
    browser.find_element(By.LINK_TEXT, "90 days").click()
    wait(browser).until(lambda b: b.current_url.endswith("?days=90"))
    assert text(browser, "answers") == "11" and text(browser, "spend") == "$0.5040"


def test_logging_out_ends_the_session(console: Served, browser: Any) -> None:
    login(browser, console.url)
    cookie = browser.get_cookie("firstline_admin")
    assert cookie is not None and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    browser.find_element(By.ID, "logout").click()
    wait(browser).until(lambda b: "/admin/login" in b.current_url)
    browser.add_cookie({"name": "firstline_admin", "value": cookie["value"], "path": "/admin/"})
    browser.get(f"{console.url}/admin/overview")  # the copied cookie no longer works
    assert "/admin/login" in browser.current_url


def test_a_forged_form_post_without_the_csrf_token_fails(console: Served, browser: Any) -> None:
    login(browser, console.url)
    browser.execute_script("""
        const form = document.querySelector("form[action$='/logout']");
        form.querySelector("input[name=csrf]").remove();
        form.submit();""")
    wait(browser).until(lambda b: "CSRF token missing or wrong" in b.find_element(
        By.TAG_NAME, "body").text)
    browser.get(f"{console.url}/admin/overview")  # still logged in
    assert browser.current_url.endswith("/admin/overview")


def test_the_console_speaks_japanese(console: Served, browser: Any) -> None:
    login(browser, console.url)
    browser.find_element(By.ID, "lang-switch").click()
    wait(browser).until(lambda b: "概要" in b.find_element(By.TAG_NAME, "h1").text)
    browser.get(f"{console.url}/admin/overview")  # remembered in a cookie
    assert "自己解決率" in browser.find_element(By.TAG_NAME, "body").text
