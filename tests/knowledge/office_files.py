"""Small real Excel, PowerPoint, CSV and e-mail files for the loader and indexer tests, made with
the libraries the loaders read them with (openpyxl, python-pptx) and the stdlib."""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage
from pathlib import Path

from openpyxl import Workbook
from pptx import Presentation
from pptx.util import Inches

Rows = Sequence[Sequence[object]]


def make_xlsx(path: Path, sheets: dict[str, Rows], title: str = "") -> Path:
    """One worksheet per entry, its rows written from A1."""
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
    if title:
        book.properties.title = title
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def make_pptx(path: Path, slides: Sequence[tuple[str, Sequence[str], str]],
              table: Rows = ()) -> Path:
    """(title, bullet lines, speaker notes) per slide; ``table`` goes on the last slide."""
    deck = Presentation()
    for title, bullets, notes in slides:
        slide = deck.slides.add_slide(deck.slide_layouts[1])  # title and content
        slide.shapes.title.text = title
        body = slide.placeholders[1].text_frame
        body.text = bullets[0] if bullets else ""
        for line in bullets[1:]:
            body.add_paragraph().text = line
        if notes:
            slide.notes_slide.notes_text_frame.text = notes
    if table:
        shape = deck.slides[-1].shapes.add_table(len(table), len(table[0]), Inches(1),
                                                 Inches(4), Inches(8), Inches(2))
        for r, row in enumerate(table):
            for c, cell in enumerate(row):
                shape.table.cell(r, c).text = str(cell)
    path.parent.mkdir(parents=True, exist_ok=True)
    deck.save(str(path))
    return path


def make_csv(path: Path, rows: Rows, encoding: str = "utf-8", delimiter: str = ",") -> Path:
    text = "\r\n".join(delimiter.join(str(c) for c in row) for row in rows) + "\r\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def make_eml(path: Path, subject: str, plain: str = "", html: str = "",
             attachments: Sequence[tuple[str, bytes]] = (), charset: str = "utf-8") -> Path:
    """A message with a plain and/or HTML body and attachments (name, bytes)."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = "General Affairs <ga@northwind.example>"
    message["To"] = "all@northwind.example"
    message["Date"] = "Mon, 22 Apr 2024 09:00:00 +0900"
    if plain:
        message.set_content(plain, charset=charset)
    if html:
        if plain:
            message.add_alternative(html, subtype="html", charset=charset)
        else:
            message.set_content(html, subtype="html", charset=charset)
    for name, data in attachments:
        message.add_attachment(data, maintype="application", subtype="octet-stream",
                               filename=name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(message))
    return path
