"""Reading one setting's value: the :func:`setting` field with its environment variable and
checks, the conversion of text (environment) or TOML values to the field's type without
truncating or guessing, and the one-line problems (``source: expected ..., got ...``) that
:class:`bot.settings.SettingsBase` collects into one :class:`SettingsError`.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from bot.errors import UserFacingError


class SettingsError(UserFacingError):
    """Every problem found in the settings, one line each (``source: what was expected``)."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(dict.fromkeys(problems))  # one line per problem, in order
        super().__init__("\n".join(self.problems))


def setting(default: Any, env: str, doc: str, *, secret: bool = False,
            parse: Callable[[str, Any], Any] | None = None,
            check: Callable[[Any], str | None] | None = None) -> Any:
    """A settings field: its default, its environment variable, its line in the reference table,
    whether ``firstline config`` masks it, ``parse(source, raw value)`` for values that the type
    of the default alone cannot read (it raises :class:`UserFacingError`), and ``check(value)``,
    which returns what was expected when a read value is not acceptable."""
    meta = {"env": env, "doc": doc, "secret": secret, "parse": parse, "check": check}
    if isinstance(default, (list, dict, tuple)):
        return field(default_factory=lambda: default, metadata=meta)
    return field(default=default, metadata=meta)


def http_url(value: str) -> str | None:
    """``check`` for URL settings: empty, or http(s) with a host."""
    parts = urlparse(value)
    if not value or (parts.scheme in ("http", "https") and parts.netloc):
        return None
    return "an http(s) URL with a host such as http://localhost:8000"


def database_url(value: str) -> str | None:
    """``check`` for SQLAlchemy URLs: empty, or ``dialect[+driver]://...``."""
    if not value or re.match(r"^[A-Za-z][A-Za-z0-9+]*://", value):
        return None
    return "a SQLAlchemy URL, e.g. postgresql+psycopg://bot@db/firstline or sqlite:///ledger.db"


def one_of(*choices: str) -> Callable[[Any], str | None]:
    """``check`` for a value from a fixed list (case-insensitive)."""
    allowed = {c.lower() for c in choices}

    def check(value: Any) -> str | None:
        return None if str(value).lower() in allowed else f"one of {', '.join(choices)}"
    return check


def positive(value: float) -> str | None:
    """``check`` for durations and counts that must be greater than zero."""
    return None if value > 0 else "a number greater than 0"


def secret_key(value: str) -> str | None:
    """``check`` for tokens and signing keys: empty (off), or at least 16 characters."""
    if not value or len(value) >= 16:
        return None
    return "empty or at least 16 characters (e.g. openssl rand -hex 24)"


def port_number(value: int) -> str | None:
    return None if 0 <= value <= 65535 else "a port number from 0 to 65535"


def access_tables(where: str, raw: Any) -> tuple[dict[str, Any], ...]:
    """``[[access]]`` tables (a JSON list in the environment), checked here so that a wrong rule
    stops the start-up with its position rather than indexing with it."""
    try:
        tables = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError as exc:
        raise UserFacingError(f"{where}: expected a JSON list of rules ({exc})") from exc
    if isinstance(tables, dict):
        tables = [tables]
    out = []
    for n, table in enumerate(tables or [], 1):
        ok = isinstance(table, dict) and set(table) <= {"paths", "audience", "confidential"}
        paths = table.get("paths") if isinstance(table, dict) else None
        if not ok or not paths or not isinstance(table.get("confidential", False), bool):
            raise UserFacingError(
                f"{where}: rule {n} needs paths (a list of globs) and may have audience "
                f"(a list of groups) and confidential (true/false); got {table!r}")
        out.append({"paths": [paths] if isinstance(paths, str) else list(paths),
                    "audience": list(table.get("audience") or []),
                    "confidential": bool(table.get("confidential", False))})
    return tuple(out)


def regex_list(where: str, raw: Any) -> tuple[str, ...]:
    """Regular expressions (``;;``-separated in the environment), each compiled once here."""
    items = raw.split(";;") if isinstance(raw, str) else list(raw)
    patterns = tuple(str(i).strip() for i in items if str(i).strip())
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise UserFacingError(
                f"{where}: expected regular expressions; {pattern!r} is not one ({exc})"
            ) from exc
    return patterns


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.75)
    return f" (did you mean {close[0]}?)" if close else ""


def unknown_key(name: str, source: str, known: Mapping[str, dataclasses.Field[Any]]) -> str:
    """``source: unknown setting``, with the key meant: by its environment variable's name
    (``FIRSTLINE_TOP_K = 3`` in the file) or by a close spelling (``topk``)."""
    by_env = {f.metadata["env"].lower(): key for key, f in known.items()}
    if name.lower() in by_env:
        return f"{source}: unknown setting (did you mean {by_env[name.lower()]}?)"
    return f"{source}: unknown setting{did_you_mean(name.lower(), list(known))}"


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


_URL_CREDENTIALS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/@\s]+)@")


def mask_url_credentials(text: str) -> str:
    """``postgresql+psycopg://bot:s3cret@db/x`` → ``postgresql+psycopg://bot:***@db/x`` (a
    user without a password, or a token as the user part, is masked whole)."""
    def mask(m: re.Match[str]) -> str:
        user, sep, _password = m["userinfo"].partition(":")
        return f"{m['scheme']}{user}:***@" if sep else f"{m['scheme']}***@"

    return _URL_CREDENTIALS.sub(mask, text)


_EXPECTED = {int: "a whole number", float: "a number", bool: "true or false", str: "text",
             tuple: "a list (comma-separated in the environment)", Path: "a path"}


def read_value(f: dataclasses.Field[Any], raw: Any, source: str, problems: list[str]) -> Any:
    """``raw`` as the field's type, or None with a line in ``problems`` (``source: expected
    ..., got ...``)."""
    if f.metadata.get("parse") is not None:
        try:
            return f.metadata["parse"](source, raw)
        except UserFacingError as exc:
            problems.append(str(exc))
            return None
    kind = type(f.default) if f.default is not dataclasses.MISSING else tuple
    kind = Path if issubclass(kind, Path) else kind
    value = _convert(kind, raw)
    expected = _EXPECTED[kind] if value is None else _check(f, value)
    if expected:
        shown = "a secret" if f.metadata["secret"] else mask_url_credentials(repr(raw))
        problems.append(f"{source}: expected {expected}, got {shown}")
    return value


def _check(f: dataclasses.Field[Any], value: Any) -> str | None:
    check = f.metadata.get("check")
    return check(value) if check is not None else None


def _convert(kind: type, raw: Any) -> Any:
    """``raw`` (text from the environment, or a TOML value) as ``kind``; None if it is not one.
    No silent truncation: 3978.5 is not a whole number, ``true`` is not a number."""
    if isinstance(raw, str) and kind is not str:
        return _from_text(kind, raw.strip())
    if kind is Path:  # an explicit argument may already be a Path
        return Path(raw).expanduser() if isinstance(raw, Path) else None
    if kind is bool or isinstance(raw, bool):
        return raw if kind is bool and isinstance(raw, bool) else None
    if kind is int:
        return raw if isinstance(raw, int) else None
    if kind is float:
        return float(raw) if isinstance(raw, (int, float)) else None
    if kind is tuple:
        return tuple(str(i).strip() for i in raw if str(i).strip()) \
            if isinstance(raw, (list, tuple)) else None
    if isinstance(raw, os.PathLike):  # an explicit argument: a path for a text setting
        return os.fspath(raw)
    return raw if isinstance(raw, str) else None


def _from_text(kind: type, text: str) -> Any:
    if kind is bool:
        word = text.lower()
        return word in _TRUE if word in _TRUE | _FALSE else None
    if kind is tuple:
        return tuple(i.strip() for i in text.split(",") if i.strip())
    if kind is Path:
        return Path(text).expanduser()
    try:
        return kind(text)
    except ValueError:
        return None


