"""The README stays in step with the code: its configuration table is generated from the core's
and the adapters' settings classes, and its two opening commands are the scripts CI runs."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

from bot.app.cli import SETTINGS_CLASSES
from bot.settings import reference_markdown

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_configuration_reference_matches_settings() -> None:
    table = reference_markdown(*SETTINGS_CLASSES)
    assert table in README, "run `python deploy/update-readme-config.py`"


def test_the_toml_tables_of_the_adapters_are_documented() -> None:
    for cls in SETTINGS_CLASSES[1:]:
        assert f"`[{cls.section}]`" in README, cls.section
        for f in fields(cls):
            assert f"`{f.name}`" in README, f"{cls.section}.{f.name}"


def test_first_two_commands_are_setup_and_tests() -> None:
    commands = re.findall(r"^(bash \S+)", README.split("```sh", 1)[1], re.M)[:2]
    assert commands == ["bash deploy/quickstart.sh", "bash deploy/run-tests.sh"]
    for command in commands:
        assert (ROOT / command.split()[1]).is_file()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "bash deploy/run-tests.sh" in ci
