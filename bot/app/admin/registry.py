"""The console's pages in nav order (the first is where ``/admin/`` leads).

To add a page, write its module (``PAGE = Page(...)``, see :mod:`bot.app.admin.pages`), its
template and its labels (:mod:`bot.app.admin.i18n`), and add it here.
"""

from __future__ import annotations

from bot.app.admin import approved, conversations, costs, documents, gaps, overview
from bot.app.admin.pages import Page

PAGES: tuple[Page, ...] = (
    overview.PAGE,
    gaps.PAGE,
    conversations.PAGE,
    documents.PAGE,
    approved.PAGE,
    costs.PAGE,
)
