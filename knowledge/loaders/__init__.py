"""Turn files into sections of text with a title and heading path.

One small loader per format, each built on a maintained library: markdown-it-py for Markdown,
docutils-free heading detection for reStructuredText, BeautifulSoup + html2text for HTML, pypdf
for PDF, python-docx for Word, python-pptx for PowerPoint, openpyxl for Excel, the stdlib for
CSV and e-mail (``.eml``). A loader raises :class:`LoadError` for a file it cannot read
(:class:`EmptyDocument` for one without text); the indexer reports it and carries on.
"""

from __future__ import annotations

from pathlib import Path

from knowledge.loaders.base import Document, EmptyDocument, Loader, LoadError, Section
from knowledge.loaders.mail import load_eml
from knowledge.loaders.office import load_docx, load_pdf, load_pptx
from knowledge.loaders.tables import load_csv, load_xlsx
from knowledge.loaders.text import load_html, load_markdown, load_rst, load_text

__all__ = ["LOADERS", "Document", "EmptyDocument", "LoadError", "Section", "load_document",
           "supported"]

LOADERS: dict[str, Loader] = {
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".txt": load_text,
    ".rst": load_rst,
    ".html": load_html,
    ".htm": load_html,
    ".pdf": load_pdf,
    ".docx": load_docx,
    ".pptx": load_pptx,
    ".xlsx": load_xlsx,
    ".xlsm": load_xlsx,
    ".csv": load_csv,
    ".tsv": load_csv,
    ".eml": load_eml,
}


def supported(path: Path) -> bool:
    return path.suffix.lower() in LOADERS


def load_document(path: Path, relative: str) -> Document:
    """Load one file; raises :class:`LoadError` (with a one-line reason) when it cannot."""
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise LoadError(f"unsupported file type {path.suffix!r}")
    try:
        title, sections, meta = loader(path)
    except LoadError as exc:
        raise type(exc)(_one_line(str(exc))) from exc
    except OSError as exc:
        raise LoadError(f"cannot read: {exc.strerror or exc}") from exc
    except Exception as exc:  # a parser library choking on a corrupt file
        raise LoadError(_one_line(f"cannot parse: {type(exc).__name__}: {exc}")) from exc
    title = title.strip() or path.stem.replace("-", " ").replace("_", " ")
    return Document(relative, title, sections, meta)


def _one_line(text: str, limit: int = 200) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
