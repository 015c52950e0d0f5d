"""The README stays in step with the code: its configuration table is generated from Settings,
and its two opening commands are the scripts CI runs."""

from __future__ import annotations

import re
from pathlib import Path

from bot.settings import reference_markdown

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_configuration_reference_matches_settings() -> None:
    assert reference_markdown() in README, "run `firstline config --markdown` and paste it"


def test_first_two_commands_are_setup_and_tests() -> None:
    commands = re.findall(r"^(bash \S+)", README.split("```sh", 1)[1], re.M)[:2]
    assert commands == ["bash deploy/quickstart.sh", "bash deploy/run-tests.sh"]
    for command in commands:
        assert (ROOT / command.split()[1]).is_file()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "bash deploy/run-tests.sh" in ci
