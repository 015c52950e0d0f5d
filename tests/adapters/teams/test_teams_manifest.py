"""The Teams app package built from deploy/teams/ is what Teams accepts."""

from __future__ import annotations

import importlib.util
import json
import struct
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

DEPLOY = Path(__file__).resolve().parents[3] / "deploy" / "teams"
BOT_APP_ID = "0b0b0b0b-1111-2222-3333-444455556666"
ENV = {"MicrosoftAppId": BOT_APP_ID, "FIRSTLINE_ORG_NAME": "Contoso IT",
       "FIRSTLINE_ORG_URL": "https://intranet.contoso.example"}


def _package() -> ModuleType:
    spec = importlib.util.spec_from_file_location("teams_package", DEPLOY / "package.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_the_package_has_the_manifest_and_icons(tmp_path: Path) -> None:
    package = _package()
    out = package.build(tmp_path / "app.zip", package.defaults(ENV))

    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == [
            "color.png", "ja-jp.json", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        japanese = json.loads(archive.read("ja-jp.json"))
        assert _png_size(archive.read("color.png")) == (192, 192)
        assert _png_size(archive.read("outline.png")) == (32, 32)

    assert manifest["id"] == BOT_APP_ID and manifest["version"] == "1.0.0"
    assert manifest["$schema"] == (
        "https://developer.microsoft.com/json-schemas/teams/v1.22/MicrosoftTeams.schema.json")
    assert manifest["manifestVersion"] == "1.22"
    bot = manifest["bots"][0]
    assert bot["botId"] == BOT_APP_ID
    assert set(bot["scopes"]) == {"personal", "team", "groupChat"}
    personal, shared = bot["commandLists"]
    assert personal["scopes"] == ["personal"] and set(shared["scopes"]) == {"team", "groupChat"}
    # 1:1 chats show prompt starters: questions to send as they are
    starters = [c["title"] for c in personal["commands"]]
    assert "How do I reset my VPN password?" in starters and "help" in starters
    assert {c["title"] for c in shared["commands"]} == {"help", "status", "costs", "reindex"}
    commands = personal["commands"] + shared["commands"]
    assert all(len(c["title"]) <= 32 and len(c["description"]) <= 128 for c in commands)
    assert manifest["localizationInfo"]["defaultLanguageTag"] == "en-us"
    assert japanese["$schema"].endswith("/v1.22/MicrosoftTeams.Localization.schema.json")
    first_starter = japanese["bots[0].commandLists[0].commands[0].title"]
    assert first_starter == "VPNのパスワードを再設定するには?"
    for key, text in japanese.items():  # every key names a manifest string, within its limit
        if key.startswith("bots["):
            assert _lookup(manifest, key), key
            assert len(text) <= (32 if key.endswith(".title") else 128), key
    assert {"name.short", "name.full", "description.short", "description.full"} <= set(japanese)
    assert len(manifest["description"]["short"]) <= 80


def _lookup(manifest: dict[str, object], key: str) -> object:
    """``bots[0].commandLists[1].commands[2].title`` in ``manifest`` (a localization key)."""
    node: object = manifest
    for part in key.split("."):
        name, _, index = part.partition("[")
        node = node[name]  # type: ignore[index]
        if index:
            node = node[int(index.rstrip("]"))]  # type: ignore[index]
    return node


def test_a_missing_placeholder_is_named() -> None:
    package = _package()
    with pytest.raises(ValueError, match="FIRSTLINE_ORG_URL, MicrosoftAppId"):
        package.render((DEPLOY / "manifest.template.json").read_text(),
                       package.defaults({"FIRSTLINE_ORG_NAME": "x"}))
