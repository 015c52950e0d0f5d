"""Office and print formats: PDF (pypdf), Word (python-docx) and PowerPoint (python-pptx)."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from knowledge.loaders.base import (
    EmptyDocument,
    Loaded,
    LoadError,
    Section,
    sections_from_headed_lines,
)

# what a corrupt or mislabelled OOXML package raises inside python-docx / python-pptx
_PACKAGE_ERRORS = (zipfile.BadZipFile, KeyError, ValueError)


def load_pdf(path: Path) -> Loaded:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            raise LoadError("encrypted PDF")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = str(reader.metadata.title) if reader.metadata and reader.metadata.title else ""
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise LoadError(f"unreadable PDF: {exc}") from exc
    sections = [
        Section((f"page {n}",), text.strip()) for n, text in enumerate(pages, 1) if text.strip()
    ]
    if not sections:
        raise EmptyDocument("PDF has no extractable text (scanned image?)")
    if not title:
        title = sections[0].text.splitlines()[0].strip()
    return title, sections, {}


def load_docx(path: Path) -> Loaded:
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, *_PACKAGE_ERRORS) as exc:
        raise LoadError(f"unreadable DOCX: {exc}") from exc
    pairs: list[tuple[int, str]] = []
    title = document.core_properties.title or ""
    for block in document.iter_inner_content():  # paragraphs and tables in document order
        if isinstance(block, Table):
            for row in block.rows:
                pairs.append((0, " | ".join(cell.text.strip() for cell in row.cells)))
            continue
        style = (block.style.name if block.style is not None else "") or ""
        match = re.match(r"Heading (\d)", style)
        if style == "Title":
            title = title or block.text.strip()
            pairs.append((1, block.text))
        elif match and block.text.strip():
            pairs.append((int(match.group(1)), block.text))
        else:
            pairs.append((0, block.text))
    if not title:
        title = next((h for lvl, h in pairs if lvl), "")
    return title, sections_from_headed_lines(pairs), {}


def load_pptx(path: Path) -> Loaded:
    """Each slide a section under its title ("slide N" without one); text boxes, tables and the
    speaker notes are its text."""
    from pptx import Presentation
    from pptx.exc import PackageNotFoundError

    try:
        deck = Presentation(str(path))
    except (PackageNotFoundError, *_PACKAGE_ERRORS) as exc:
        raise LoadError(f"unreadable PPTX: {exc}") from exc
    pairs: list[tuple[int, str]] = []
    first_title = ""
    for n, slide in enumerate(deck.slides, 1):
        heading = _slide_title(slide)
        first_title = first_title or heading
        pairs.append((1, heading or f"slide {n}"))
        pairs.extend((0, text) for text in _slide_texts(slide))
    title = deck.core_properties.title or first_title
    return title, sections_from_headed_lines(pairs), {}


def _slide_title(slide: Any) -> str:
    shape = slide.shapes.title
    return " ".join(shape.text_frame.text.split()) if shape is not None else ""


def _slide_texts(slide: Any) -> Iterator[str]:
    """Paragraph blocks of a slide's shapes (not its title), then its notes."""
    title = slide.shapes.title
    for shape in _shapes(slide.shapes):
        if title is not None and shape.shape_id == title.shape_id:
            continue
        if getattr(shape, "has_text_frame", False) and shape.text_frame.text.strip():
            yield shape.text_frame.text.strip() + "\n"
        if getattr(shape, "has_table", False):
            rows = [" | ".join(c.text.strip() for c in row.cells) for row in shape.table.rows]
            yield "\n".join(rows) + "\n"
    if slide.has_notes_slide:
        notes = slide.notes_slide.notes_text_frame
        if notes is not None and notes.text.strip():
            yield f"Notes: {notes.text.strip()}\n"


def _shapes(shapes: Any) -> Iterator[Any]:
    """Shapes in reading order, grouped shapes flattened."""
    for shape in shapes:
        if hasattr(shape, "shapes"):  # a group
            yield from _shapes(shape.shapes)
        else:
            yield shape
