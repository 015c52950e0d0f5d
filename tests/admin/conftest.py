"""Fixtures of the admin console tests: ``console`` (a served console over a real SQLite
ledger, :mod:`console_harness`) and ``browser`` (Debian's chromium, headless, through
chromium-driver and Selenium; no browser download); ``console_harness.login`` logs in."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from console_harness import Served, console_core, serving
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Served]:
    """The console of a fresh core (question text not logged), indexed, on loopback."""
    core = console_core(tmp_path)
    core.indexing.index()
    with serving(core) as served:
        yield served


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One headless chromium for the session."""
    if not CHROMEDRIVER.exists():
        if os.environ.get("FIRSTLINE_TEST_BROWSER") == "required":  # CI (.ci/run)
            pytest.fail("FIRSTLINE_TEST_BROWSER=required but /usr/bin/chromedriver is missing")
        pytest.skip("chromium-driver is not installed (apt-get install chromium chromium-driver;"
                    " deploy/run-tests.sh does it as root)")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,1000", "--lang=en-US"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def browser(chromium: Any) -> Iterator[Any]:
    """The session's chromium with no cookies (cookies of 127.0.0.1 outlive a test's port)."""
    chromium.delete_all_cookies()
    yield chromium
    chromium.delete_all_cookies()

