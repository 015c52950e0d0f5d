"""Logging set-up: plain lines by default, one JSON object per line when asked.

A record's ``extra={"fields": {...}}`` (the core's one line per answer) becomes top-level keys of
its JSON object, so a log pipeline can filter on route or latency without parsing the message.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname, "logger": record.name, "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update({k: v for k, v in fields.items() if k not in entry})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def setup_logging(level: str = "INFO", json_lines: bool = False) -> None:
    if json_lines:  # stderr must stay one JSON object per line: no model-loading progress bars
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # bm25s sets its own logger to DEBUG ("Building index from IDs objects" on every start)
    for noisy in ("httpx", "chromadb", "sentence_transformers", "urllib3", "posthog", "bm25s",
                  "transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
