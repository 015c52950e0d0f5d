"""What `firstline index PATH` says about documents still indexed from elsewhere (the samples,
most often): they keep answering until dropped."""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path

from knowledge import SAMPLES


def others_hint(others: Mapping[str, int], paths: Sequence[str]) -> str:
    """Which other folders still answer questions, and the command that drops them."""
    folders = ", ".join(f"{_name(root)} ({count} document{'s' if count != 1 else ''})"
                        for root, count in sorted(others.items()))
    command = " ".join(["firstline", "index", *map(shlex.quote, paths), "--replace"])
    return (f"Still indexed and answering questions: {folders}.\n"
            f"To answer from {' '.join(paths)} only, run: {command}")


def _name(root: str) -> str:
    return "the sample knowledge base" if Path(root) == SAMPLES else root
