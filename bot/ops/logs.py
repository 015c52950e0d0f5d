"""Logging set-up: plain lines by default, one JSON object per line when asked; other
libraries' records only from WARNING unless ``--verbose``, and no Hugging Face progress bars.

A record's ``extra={"fields": {...}}`` (the core's one line per answer) becomes top-level keys of
its JSON object, so a log pipeline can filter on route or latency without parsing the message.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
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


# Loggers of other libraries: WARNING and above unless --verbose. Some reset their own level
# when imported (bm25s sets DEBUG), so the handler filters them too.
OWN_LOGGERS = frozenset({"bot", "knowledge", "adapters", "firstline", "__main__"})
LIBRARIES = ("bm25s", "chromadb", "sentence_transformers", "transformers", "huggingface_hub",
             "httpx", "httpcore", "urllib3", "posthog", "filelock", "aiohttp", "slack_bolt",
             "slack_sdk", "botbuilder", "msal", "asyncio", "llama_cpp", "sqlalchemy", "torch")


class QuietLibraries(logging.Filter):
    """Lets other libraries' records through at WARNING and above only."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or record.name.split(".")[0] in OWN_LOGGERS


def setup_logging(level: str = "INFO", json_lines: bool = False, *, verbose: bool = False,
                  log_file: Path | None = None) -> None:
    """One handler on the root logger: stderr, or ``log_file`` (`firstline chat`). ``verbose``:
    DEBUG, with other libraries' records below WARNING."""
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
    handler: logging.Handler = (logging.FileHandler(log_file, encoding="utf-8") if log_file
                                else logging.StreamHandler(sys.stderr))
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    if not verbose:
        handler.addFilter(QuietLibraries())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel("DEBUG" if verbose else level.upper())
    for name in LIBRARIES:
        logging.getLogger(name).setLevel(logging.NOTSET if verbose else logging.WARNING)
    if not verbose:
        quiet_progress_bars()


def quiet_progress_bars() -> None:
    """No model-loading bars from Hugging Face's libraries ("Loading weights", downloads):
    set before they are imported, and switched off in those already imported."""
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    if "huggingface_hub" in sys.modules:
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()
    if "transformers" in sys.modules:
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
