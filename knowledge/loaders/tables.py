"""Tables: Excel workbooks (openpyxl) and CSV files.

A table's row means little without its column names ("2,000" of what?), so each row becomes
one self-contained line of ``Header: value`` pairs; each Excel sheet is a section. Lines above
the header row (a sheet's title, a note) are kept as they are.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from pathlib import Path

from knowledge.loaders.base import Loaded, LoadError, Section, read_text


def rows_as_blocks(rows: Iterable[Sequence[str]]) -> list[str]:
    """One text block per non-empty row: ``Header: value; Header: value`` after the header
    row (the first with two or more filled cells), the cells as they are before it."""
    filled = [list(r) for r in rows if any(r)]
    start = next((i for i, r in enumerate(filled) if sum(1 for c in r if c) >= 2), None)
    if start is None:
        return [" ".join(c for c in r if c) for r in filled]
    header = filled[start]
    blocks = [" ".join(c for c in r if c) for r in filled[:start]]
    for row in filled[start + 1 :]:
        pairs = [(_name(header, i), cell) for i, cell in enumerate(row) if cell]
        blocks.append("; ".join(f"{name}: {cell}" for name, cell in pairs))
    return blocks


def _name(header: Sequence[str], i: int) -> str:
    return header[i] if i < len(header) and header[i] else f"column {i + 1}"


def cell_text(value: object) -> str:
    """A cell as a reader would see it: whole numbers without ".0", dates as ISO dates."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        midnight = value.time() == time()
        return value.date().isoformat() if midnight else value.isoformat(" ", "minutes")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def load_xlsx(path: Path) -> Loaded:
    """Each sheet a section headed by its name."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise LoadError(f"unreadable Excel workbook: {exc}") from exc
    try:
        sections = []
        for sheet in book.worksheets:
            if hasattr(sheet, "reset_dimensions"):  # read-only sheets: some writers
                sheet.reset_dimensions()  # record a wrong used range (A1), so read to the end
            rows = ([cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True))
            blocks = rows_as_blocks(rows)
            if blocks:
                sections.append(Section((sheet.title,), "\n\n".join(blocks)))
        title = book.properties.title or ""
    finally:
        book.close()
    return title, sections, {}


def load_csv(path: Path) -> Loaded:
    """Comma, semicolon or tab separated; UTF-8 or Shift_JIS like any text file."""
    text = read_text(path)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], ",;\t")
    except csv.Error:
        dialect = csv.excel_tab if path.suffix.lower() == ".tsv" else csv.excel
    try:
        rows = [[" ".join(c.split()) for c in row] for row in csv.reader(io.StringIO(text),
                                                                         dialect)]
    except csv.Error as exc:
        raise LoadError(f"unreadable CSV: {exc}") from exc
    blocks = rows_as_blocks(rows)
    return "", [Section((), "\n\n".join(blocks))] if blocks else [], {}
