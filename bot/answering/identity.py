"""Step: the asker's groups, from the adapter and from a directory file.

A company's directory export maps people to groups: a CSV with ``user`` and ``groups`` columns
(groups separated by ``;``; an ``email`` column may stand beside ``user``) or JSON, either
``{"U0123": ["hr", "managers"]}`` or a list of ``{"user", "email", "groups"}``. Keys are matched
case-insensitively against the asker's user id (Slack user id, Teams AAD object id). The file is
re-read when its size or modification time changes (checked every ``check_seconds``). A missing,
unreadable or malformed file means **no groups** — public documents only, never everything —
and is logged once per change.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from bot.answering.record import AnswerRecord

log = logging.getLogger(__name__)


class Directory(Protocol):
    """Who is in which groups."""

    def groups(self, user: str) -> frozenset[str]: ...


class NoDirectory(Directory):
    def groups(self, user: str) -> frozenset[str]:
        return frozenset()


class FileDirectory(Directory):
    """A CSV or JSON export, re-read when it changes."""

    def __init__(self, path: str | Path, *, check_seconds: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.path = Path(path)
        self.check_seconds = check_seconds
        self._clock = clock
        self._stamp: tuple[int, int] | None = None  # of the file last read well
        self._failed: tuple[int, int] | str | None = None  # of the failure last logged
        self._checked = -float("inf")
        self._table: dict[str, frozenset[str]] = {}
        self._lock = threading.Lock()

    def groups(self, user: str) -> frozenset[str]:
        with self._lock:
            if self._clock() - self._checked >= self.check_seconds:
                self._checked = self._clock()
                self._reload()
            return self._table.get(user.strip().lower(), frozenset())

    def _reload(self) -> None:
        try:
            stat = self.path.stat()
        except OSError as exc:
            self._fail("missing", f"cannot read it ({exc.strerror or exc})")
            return
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self._stamp:
            return
        try:
            self._table = parse_directory(self.path.read_text(encoding="utf-8-sig"),
                                          self.path.suffix.lower())
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            self._fail(stamp, str(exc))
            return
        self._stamp, self._failed = stamp, None
        log.info("directory %s: %d users", self.path, len(self._table))

    def _fail(self, stamp: tuple[int, int] | str, why: str) -> None:
        if self._failed != stamp:
            log.warning("directory %s: %s; askers get public documents only", self.path, why)
        self._table, self._stamp, self._failed = {}, None, stamp


def parse_directory(text: str, suffix: str) -> dict[str, frozenset[str]]:
    """``{user or e-mail (lower case): groups}`` from a CSV or JSON export."""
    entries = _json_entries(text) if suffix == ".json" else _csv_entries(text)
    table: dict[str, frozenset[str]] = {}
    for keys, groups in entries:
        names = frozenset(g.strip().lower() for g in groups if g.strip())
        for key in keys:
            if key.strip():
                table[key.strip().lower()] = table.get(key.strip().lower(), frozenset()) | names
    return table


def _csv_entries(text: str) -> list[tuple[list[str], list[str]]]:
    reader = csv.DictReader(io.StringIO(text))
    fields = {f.strip().lower() for f in reader.fieldnames or []}
    if "groups" not in fields or not fields & {"user", "email"}:
        raise ValueError("a CSV directory needs a groups column and a user or email column")
    out = []
    for row in reader:
        row = {str(k).strip().lower(): (v or "") for k, v in row.items() if k}
        out.append(([row.get("user", ""), row.get("email", "")], row["groups"].split(";")))
    return out


def _json_entries(text: str) -> list[tuple[list[str], list[str]]]:
    data: Any = json.loads(text)
    if isinstance(data, Mapping):
        return [([str(k)], _names(v)) for k, v in data.items()]
    if isinstance(data, list) and all(isinstance(d, Mapping) for d in data):
        return [([str(d.get("user", "")), str(d.get("email", ""))], _names(d.get("groups")))
                for d in data]
    raise ValueError("a JSON directory is {user: [groups]} or a list of {user, email, groups}")


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return value.split(";")
    if isinstance(value, list):
        return [str(v) for v in value]
    raise ValueError(f"groups must be a list or a ;-separated string, not {value!r}")


class Identify:
    """Adds the directory's groups for the asker to the ones the adapter gave."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory

    async def __call__(self, answer: AnswerRecord) -> None:
        q = answer.question
        found = self.directory.groups(q.user) | (self.directory.groups(q.email) if q.email
                                                  else frozenset())
        if found - q.groups:
            answer.question = replace(q, groups=q.groups | found)
