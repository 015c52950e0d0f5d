"""E-mail messages (``.eml``, stdlib :mod:`email`): the subject is the title, the plain-text
body is preferred over the HTML one; attachments are not indexed, and their names are kept in
the metadata (``attachments``) so the index summary can say so."""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import cast

from knowledge.loaders.base import EmptyDocument, Loaded, LoadError, Section
from knowledge.loaders.text import html_document

_HEADERS = ("subject", "from", "to", "date", "message-id")


def load_eml(path: Path) -> Loaded:
    message = cast(EmailMessage, email.message_from_bytes(path.read_bytes(),
                                                          policy=policy.default))
    if not any(message.get(h) for h in _HEADERS):
        raise LoadError("not an e-mail message (no Subject, From, To or Date header)")
    meta = {k: str(message.get(k, "")).strip() for k in ("from", "date") if message.get(k)}
    attachments = [a.get_filename() or a.get_content_type() for a in message.iter_attachments()]
    if attachments:
        meta["attachments"] = ", ".join(attachments)
    title = " ".join(str(message.get("subject", "")).split())
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        if attachments:  # a mail that only carries files: say what was left out
            raise EmptyDocument(f"no text body; attachments not indexed: {meta['attachments']}")
        return title, [], meta
    try:
        content = cast(EmailMessage, body).get_content()
    except (LookupError, UnicodeError, KeyError) as exc:
        raise LoadError(f"unreadable e-mail body: {exc}") from exc
    if body.get_content_type() == "text/html":
        html_title, sections, _ = html_document(str(content))
        return title or html_title, sections, meta
    text = str(content).strip()
    return title, [Section((), text)] if text else [], meta
