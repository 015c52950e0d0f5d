"""Mask personal data before text leaves the machine (cloud requests, opt-in logs).

Matching runs on an NFKC-normalised shadow of the text (full-width digits, ``＠``, ``－`` and
Japanese dashes become ASCII) whose characters map back to the original, so only the matched
spans are replaced and the rest of the text is returned exactly as given.

Kinds, in priority order (an earlier kind wins an overlap):

* ``company_id`` → ``[ID]`` (the company's own patterns, ``FIRSTLINE_REDACT_PATTERNS``; by
  default ``EMP-004512`` and ``社員番号 204512``)
* ``email`` → ``[EMAIL]``
* ``ip`` → ``[IP]`` (IPv4)
* ``card`` → ``[CARD]`` (13–19 digits, plain or grouped, passing the Luhn check)
* ``my_number`` → ``[MY_NUMBER]`` (Japanese individual number: 12 digits, plain or 4-4-4,
  passing its check digit)
* ``ssn`` → ``[SSN]`` (US, ``123-45-6789`` or with spaces; impossible area/group/serial skipped)
* ``phone`` → ``[PHONE]`` (``+`` international; Japanese ``03-1234-5678``, ``090-1234-5678``,
  ``0120-123-456``, ``03(1234)5678``, bare ``0312345678`` and ``09012345678``; US
  ``(415) 555-2671``)
* ``number`` → ``[NUMBER]`` (any other 12 digits: a mistyped My Number is still personal)
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence

PLACEHOLDERS = {
    "email": "[EMAIL]",
    "ip": "[IP]",
    "card": "[CARD]",
    "my_number": "[MY_NUMBER]",
    "ssn": "[SSN]",
    "phone": "[PHONE]",
    "number": "[NUMBER]",
    "company_id": "[ID]",
}
#: Company identifiers masked by default (``FIRSTLINE_REDACT_PATTERNS`` replaces them).
DEFAULT_COMPANY_PATTERNS = (r"\bEMP-?\d+", r"社員番号\s*[:：]?\s*\d+")

# Dash-like characters people type in numbers (NFKC leaves these alone).
_DASHES = str.maketrans(dict.fromkeys("‐‑‒–—―−ー", "-"))
_NO_DIGIT_BEFORE = r"(?<![0-9])(?<![0-9][ -])"
_NO_DIGIT_AFTER = r"(?![0-9])(?![ -][0-9])"
_JP_SEP = r"(?:\)[ -]?|[ -]|\()"  # 03-1234-5678, (03)1234-5678, 03(1234)5678
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"

_PATTERNS: dict[str, re.Pattern[str]] = {
    "email": re.compile(
        r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"),
    "ip": re.compile(rf"(?<![0-9.]){_OCTET}(?:\.{_OCTET}){{3}}(?![0-9]|\.[0-9])"),
    "card": re.compile(
        _NO_DIGIT_BEFORE + r"(?:[0-9]{13,19}"
        r"|[0-9]{4}(?:[ -][0-9]{4}){2}[ -][0-9]{1,7}"  # 4-4-4-4 (up to 19 digits)
        r"|[0-9]{4}[ -][0-9]{6}[ -][0-9]{4,5})"  # 4-6-5 (Amex), 4-6-4 (Diners)
        r"(?![0-9])"),
    "my_number": re.compile(
        _NO_DIGIT_BEFORE + r"(?:[0-9]{12}|[0-9]{4}([ -])[0-9]{4}\1[0-9]{4})" + _NO_DIGIT_AFTER),
    "ssn": re.compile(
        _NO_DIGIT_BEFORE + r"(?!000|666|9)[0-9]{3}([ -])(?!00)[0-9]{2}\1(?!0000)[0-9]{4}"
        + _NO_DIGIT_AFTER),
    "phone": re.compile(
        r"(?<![0-9A-Za-z+])\+[0-9]{1,3}(?:[ .-]?\(?[0-9]{1,4}\)?){2,5}(?![0-9])"  # international
        r"|(?<![0-9])(?:"
        rf"\(?0[0-9]{{1,4}}{_JP_SEP}[0-9]{{1,4}}{_JP_SEP}[0-9]{{3,4}}"  # Japanese
        r"|0[0-9]{9,10}"  # Japanese numbers without separators (03…, 090…)
        r"|(?:1[ .-]?)?(?:\([2-9][0-9]{2}\)[ .-]?|[2-9][0-9]{2}[ .-])[0-9]{3}[ .-][0-9]{4}"  # US
        r")(?![0-9])"),
    # any other 12 digits (a My Number with a typo in it is still somebody's My Number)
    "number": re.compile(
        _NO_DIGIT_BEFORE + r"(?:[0-9]{12}|[0-9]{4}([ -])[0-9]{4}\1[0-9]{4})" + _NO_DIGIT_AFTER),
}


def company_patterns(patterns: Sequence[str]) -> tuple[re.Pattern[str], ...]:
    """Compiled company id patterns; raises ``re.error`` for a bad one."""
    return tuple(re.compile(p) for p in patterns)


DEFAULT_COMPANY = company_patterns(DEFAULT_COMPANY_PATTERNS)


def redact(text: str, company: Sequence[re.Pattern[str]] = DEFAULT_COMPANY
           ) -> tuple[str, dict[str, int]]:
    """``text`` with personal data replaced by placeholders, and how many of each kind;
    ``company`` are the company's own id patterns (employee numbers …)."""
    shadow, origin = _shadow(text)
    taken: list[tuple[int, int, str]] = []
    kinds = [*(("company_id", p) for p in company), *_PATTERNS.items()]
    for kind, pattern in kinds:
        for match in pattern.finditer(shadow):
            span = (origin[match.start()], origin[match.end() - 1] + 1)
            if _VALID[kind](match.group()) and not _overlaps(span, taken):
                taken.append((*span, kind))
    counts: dict[str, int] = {}
    pieces: list[str] = []
    position = 0
    for start, end, kind in sorted(taken):
        pieces += [text[position:start], PLACEHOLDERS[kind]]
        counts[kind] = counts.get(kind, 0) + 1
        position = end
    pieces.append(text[position:])
    return "".join(pieces), counts


def _shadow(text: str) -> tuple[str, list[int]]:
    """The text as matched, and for each of its characters the index it came from."""
    if text.isascii():
        return text, list(range(len(text)))
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        normal = unicodedata.normalize("NFKC", char).translate(_DASHES)
        chars.append(normal)
        origin += [index] * len(normal)
    return "".join(chars), origin


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int, str]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end, _ in taken)


def _digits(text: str) -> list[int]:
    return [int(ch) for ch in text if ch in "0123456789"]


def luhn_ok(number: str) -> bool:
    """Whether the digits of ``number`` pass the Luhn check (payment cards)."""
    total = 0
    for position, digit in enumerate(reversed(_digits(number))):
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def my_number_ok(number: str) -> bool:
    """Whether 12 digits carry a valid My Number check digit (the last one)."""
    digits = _digits(number)
    if len(digits) != 12:
        return False
    body = reversed(digits[:11])  # P1 is the digit next to the check digit
    total = sum(p * (n + 1 if n <= 6 else n - 5) for n, p in enumerate(body, start=1))
    remainder = total % 11
    return digits[11] == (0 if remainder <= 1 else 11 - remainder)


def _phone_ok(candidate: str) -> bool:
    count = len(_digits(candidate))
    # E.164 allows 15 digits; Japanese numbers have 10 or 11, US ones 10 (11 with the leading 1).
    return 8 <= count <= 15 if candidate.startswith("+") else count in (10, 11)


def _always(candidate: str) -> bool:
    return True


_VALID: dict[str, Callable[[str], bool]] = {
    "email": _always,
    "ip": _always,
    "card": luhn_ok,
    "my_number": my_number_ok,
    "ssn": _always,
    "phone": _phone_ok,
    "number": _always,
    "company_id": _always,
}
