"""Logging set-up: other libraries below WARNING stay out unless --verbose, even a library that
sets its own logger to DEBUG when it is imported (bm25s does); `firstline chat` logs to a file."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app.progress import logs_above_bars
from bot.ops.logs import setup_logging


class Screen:
    """What reached stderr (pytest's capsys, which is sys.stderr while a test runs)."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def getvalue(self) -> str:
        """Everything written since the last call."""
        return self.capsys.readouterr().err


@pytest.fixture
def stderr(capsys: pytest.CaptureFixture[str]) -> Iterator[Screen]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {n: logging.getLogger(n).level for n in ("bm25s", "chromadb", "bot")}
    yield Screen(capsys)
    root.handlers[:], root.level = handlers, level
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)


def emit_all() -> None:
    logging.getLogger("bm25s").setLevel(logging.DEBUG)  # what `import bm25s` does
    logging.getLogger("bm25s").debug("Building index from IDs objects")
    logging.getLogger("chromadb.telemetry").info("telemetry on")
    logging.getLogger("chromadb.api").warning("collection is large")
    logging.getLogger("bot.answering").debug("our own debug line")


def test_libraries_below_warning_are_left_out(stderr: Screen) -> None:
    setup_logging("DEBUG")
    emit_all()
    lines = stderr.getvalue().splitlines()
    assert [line.split(" ", 2)[2] for line in lines] == [
        "WARNING chromadb.api: collection is large", "DEBUG bot.answering: our own debug line"]


def test_verbose_shows_them(stderr: Screen) -> None:
    setup_logging("WARNING", verbose=True)
    emit_all()
    shown = stderr.getvalue()
    assert "DEBUG bm25s: Building index" in shown and "INFO chromadb.telemetry: telemetry" in shown


def test_a_log_file_takes_the_lines_instead_of_the_screen(stderr: Screen,
                                                          tmp_path: Path) -> None:
    setup_logging("INFO", log_file=tmp_path / "logs" / "chat.log")
    logging.getLogger("bot.answering").info("answer 1: local in 80 ms")
    logging.getLogger().handlers[0].flush()
    assert stderr.getvalue() == ""
    assert "INFO bot.answering: answer 1" in (tmp_path / "logs" / "chat.log").read_text()


def test_log_lines_go_above_a_progress_bar(stderr: Screen) -> None:
    setup_logging("INFO")
    with logs_above_bars():
        assert logging.getLogger().handlers[0].stream is not sys.stderr  # through tqdm.write
        logging.getLogger("bot.x").info("while indexing")
        logging.getLogger("bm25s").debug("still filtered")
    assert logging.getLogger().handlers[0].stream is sys.stderr
    shown = stderr.getvalue()
    assert shown.endswith("INFO bot.x: while indexing\n") and "still filtered" not in shown
