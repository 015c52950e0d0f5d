"""Sortable answer ids: 12 hex digits of UTC milliseconds, then 8 random hex digits."""

from __future__ import annotations

import secrets
import time


def new_answer_id() -> str:
    return f"{int(time.time() * 1000):012x}{secrets.token_hex(4)}"
