"""``python -m bot.healthcheck [URL]``: exit 0 when URL answers 200, else 1.

The container image has no curl; this is its HEALTHCHECK (default: this bot's ``/healthz`` on
``FIRSTLINE_PORT``) and the compose health checks of the SLM and Chroma servers.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence


def healthy(url: str, timeout: float = 4.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    port = os.environ.get("FIRSTLINE_PORT", "3978")
    url = args[0] if args else f"http://127.0.0.1:{port}/healthz"
    return 0 if healthy(url) else 1


if __name__ == "__main__":
    sys.exit(main())
