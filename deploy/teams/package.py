"""Build the Teams app package: ``manifest.json`` (from the template), the two icons and the
localization files the manifest names (``ja-jp.json``), zipped.

    MicrosoftAppId=<bot app id> FIRSTLINE_ORG_NAME="Contoso IT" \\
    FIRSTLINE_ORG_URL=https://intranet.contoso.com python deploy/teams/package.py

Placeholders are ``${NAME}``, filled from the environment; a missing one is an error (unlike
``envsubst``, which would also blank the manifest's ``$schema``). ``TEAMS_APP_ID`` defaults to
the bot's app id and ``TEAMS_APP_VERSION`` to 1.0.0 (raise it for every re-upload).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import zipfile
from collections.abc import Mapping
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE / "manifest.template.json"
ICONS = ("color.png", "outline.png")
PLACEHOLDER = re.compile(r"\$\{(\w+)\}")


def defaults(environ: Mapping[str, str]) -> dict[str, str]:
    values = {"TEAMS_APP_VERSION": "1.0.0", **environ}
    if "TEAMS_APP_ID" not in values and values.get("MicrosoftAppId"):
        values["TEAMS_APP_ID"] = values["MicrosoftAppId"]
    return values


def render(template: str, values: Mapping[str, str]) -> str:
    """The manifest with every ``${NAME}`` filled in; raises ValueError naming missing ones."""
    missing = sorted({m for m in PLACEHOLDER.findall(template) if not values.get(m)})
    if missing:
        raise ValueError(f"set these environment variables: {', '.join(missing)}")
    text = PLACEHOLDER.sub(lambda m: values[m.group(1)], template)
    json.loads(text)  # a value that broke the JSON fails here, not in Teams
    return text


def localizations(manifest: str) -> list[str]:
    """The translation files ``localizationInfo`` lists (each must be next to the template)."""
    info = json.loads(manifest).get("localizationInfo") or {}
    return [str(language["file"]) for language in info.get("additionalLanguages") or []]


def build(out: Path, values: Mapping[str, str]) -> Path:
    manifest = render(TEMPLATE.read_text(encoding="utf-8"), values)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", manifest)
        for name in (*ICONS, *localizations(manifest)):
            archive.write(HERE / name, name)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=Path("firstline-teams.zip"))
    args = parser.parse_args(argv)
    try:
        path = build(args.output, defaults(os.environ))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
