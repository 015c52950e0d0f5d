"""Every label the console shows exists in English and Japanese, and the language a request
gets: ?lang=, then the cookie, then Accept-Language."""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp.test_utils import make_mocked_request

from bot.app.admin.costs import GROUPINGS
from bot.app.admin.i18n import LABELS, LANG_COOKIE, pick_language, translator
from bot.app.admin.registry import PAGES

TEMPLATES = Path(__file__).resolve().parents[2] / "bot/app/admin/templates"
ADMIN = TEMPLATES.parent


def used_keys() -> set[str]:
    modules = [p for p in ADMIN.glob("*.py") if p.name != "__init__.py"]  # (its example)
    sources = [*TEMPLATES.glob("*.html"), *modules]
    keys = {k for path in sources
            for k in re.findall(r"""\bt\(["']([a-z_0-9]+)["']\s*[,)]""", path.read_text("utf-8"))}
    keys |= {f"by_{g}" for g in GROUPINGS}  # t("by_" + g)
    keys |= {k for path in ADMIN.glob("*.py")
             for k in re.findall(r"""label\(request, ["']([a-z_0-9]+)["']""", path.read_text())}
    return keys | {page.label for page in PAGES}


def test_every_label_in_use_has_english_and_japanese() -> None:
    missing = used_keys() - set(LABELS)
    assert missing == set()
    for key, (en, ja) in LABELS.items():
        assert en.strip() and ja.strip(), key
    assert translator("ja")("last_n_days", n=7) == "過去 7 日"


def test_the_language_comes_from_the_query_the_cookie_or_the_browser() -> None:
    def lang(path: str = "/admin/", **headers: str) -> str:
        return pick_language(make_mocked_request("GET", path, headers=headers))
    assert lang() == "en"
    assert lang(**{"Accept-Language": "ja-JP,ja;q=0.9,en;q=0.8"}) == "ja"
    assert lang(**{"Accept-Language": "fr-FR,en;q=0.5"}) == "en"
    assert lang(Cookie=f"{LANG_COOKIE}=ja") == "ja"
    assert lang("/admin/?lang=en", Cookie=f"{LANG_COOKIE}=ja") == "en"
    assert lang("/admin/?lang=xx", **{"Accept-Language": "ja"}) == "ja"
