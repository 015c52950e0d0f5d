"""A tqdm progress bar for `firstline index` on a terminal; silent otherwise. While it runs, log
lines are written above it instead of tearing it."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Callable[[int, int, str], None] | None]:
    if not enabled:
        yield None
        return
    from tqdm import tqdm

    bar: Any = None

    def update(done: int, total: int, path: str) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit="file", desc="indexing", disable=False)
        bar.set_postfix_str(path[-40:], refresh=False)
        bar.update(done - bar.n)

    try:
        with logs_above_bars():
            yield update
    finally:
        if bar is not None:
            bar.close()


class _AboveBars(io.TextIOBase):
    """A stream that writes through ``tqdm.write``: the bars are cleared and redrawn below."""

    def write(self, text: str) -> int:
        from tqdm import tqdm

        tqdm.write(text, end="", file=sys.stderr)
        return len(text)


@contextmanager
def logs_above_bars() -> Iterator[None]:
    """The root logger's terminal handlers write through tqdm meanwhile (their filters and
    formats kept, unlike tqdm's own ``logging_redirect_tqdm``)."""
    handlers = [h for h in logging.getLogger().handlers
                if type(h) is logging.StreamHandler and h.stream in (sys.stderr, sys.stdout)]
    saved = [h.setStream(_AboveBars()) for h in handlers]
    try:
        yield
    finally:
        for handler, stream in zip(handlers, saved, strict=True):
            handler.setStream(stream)
