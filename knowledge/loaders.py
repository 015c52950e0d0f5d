"""Turn files into sections of text with a title and heading path.

One small loader per format, each built on a maintained library: markdown-it-py for Markdown,
docutils-free heading detection for reStructuredText, BeautifulSoup + html2text for HTML, pypdf
for PDF, python-docx for DOCX. A loader raises :class:`LoadError` for a file it cannot read; the
indexer reports it and carries on.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.access import groups_of

log = logging.getLogger(__name__)


class LoadError(Exception):
    """A file could not be read or parsed (corrupt, encrypted, wrong encoding...)."""


@dataclass(frozen=True)
class Section:
    """A run of text under one heading path."""

    headings: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class Document:
    path: str  # relative to the indexed root, with forward slashes
    title: str
    sections: list[Section]
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def confidential(self) -> bool:
        return self.metadata.get("confidential", "").lower() in {"true", "yes", "1"}

    @property
    def audience(self) -> tuple[str, ...]:
        """Front matter ``audience: [hr, managers]``: the groups that may read the document.
        Only a bracketed list names groups; free text (``audience: All employees``) describes
        the readers and restricts nothing."""
        raw = self.metadata.get("audience", "").strip()
        return groups_of(raw) if raw.startswith("[") and raw.endswith("]") else ()


Loader = Callable[[Path], tuple[str, list[Section], dict[str, str]]]


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    if b"\x00" in raw[:4096]:
        raise LoadError("binary data in a text file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("cp932")
    except UnicodeDecodeError:
        raise LoadError("not UTF-8 or Shift_JIS text") from None
    if not _reads_as_japanese(text):  # cp932 decodes most byte soups into mojibake
        raise LoadError("not valid UTF-8, and not Japanese text in Shift_JIS either")
    return text


_HIRAGANA_CHAR = re.compile(r"[\u3041-\u309f]")
_HALFWIDTH_KANA = re.compile(r"[\uff61-\uff9f]")


def _reads_as_japanese(text: str) -> bool:
    """Shift_JIS text is real Japanese when it has hiragana (every Japanese sentence does) and
    little half-width katakana (what stray bytes 0xA1-0xDF decode to)."""
    wide = [c for c in text if ord(c) > 0x7F]
    if not wide:
        return True
    hiragana = sum(1 for c in wide if _HIRAGANA_CHAR.match(c))
    halfwidth = sum(1 for c in wide if _HALFWIDTH_KANA.match(c))
    return hiragana >= 0.05 * len(wide) and halfwidth <= 0.2 * len(wide)


_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    meta = {}
    for line in match.group(1).splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip():
            meta[key.strip().lower()] = value.strip().strip("\"'")
    return meta, text[match.end() :]


def _sections_from_headed_lines(
    lines: Iterator[tuple[int, str]] | list[tuple[int, str]],
) -> list[Section]:
    """Group (level, line) pairs, level > 0 meaning a heading, into sections."""
    stack: list[str] = []
    body: list[str] = []
    out: list[Section] = []

    def flush() -> None:
        text = "\n".join(body).strip()
        if text:
            out.append(Section(tuple(stack), text))
        body.clear()

    for level, line in lines:
        if level:
            flush()
            del stack[level - 1 :]
            stack.extend([""] * (level - 1 - len(stack)))
            stack.append(line.strip())
        else:
            body.append(line)
    flush()
    return out


def load_markdown(path: Path) -> tuple[str, list[Section], dict[str, str]]:
    from markdown_it import MarkdownIt

    meta, text = _front_matter(_read_text(path))
    lines = text.splitlines()
    md = MarkdownIt("commonmark")
    heading_at: dict[int, tuple[int, str]] = {}
    tokens = md.parse(text)
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and tok.map:
            heading_at[tok.map[0]] = (int(tok.tag[1]), tokens[i + 1].content)
    skip: set[int] = set()
    for start in heading_at:
        if start + 1 < len(lines) and re.fullmatch(r"\s*[=-]{2,}\s*", lines[start + 1]):
            skip.add(start + 1)  # setext underline
    pairs = []
    for n, line in enumerate(lines):
        if n in heading_at:
            pairs.append(heading_at[n])
        elif n not in skip:
            pairs.append((0, line))
    sections = _sections_from_headed_lines(pairs)
    title = meta.get("title") or next((h for lvl, h in heading_at.values() if lvl == 1), "")
    return title, sections, meta


_RST_ADORNMENT = re.compile(r"^([=\-~^\"'`#*+:.])\1{2,}\s*$")


def load_rst(path: Path) -> tuple[str, list[Section], dict[str, str]]:
    lines = _read_text(path).splitlines()
    levels: list[str] = []  # adornment characters in order of first appearance
    pairs: list[tuple[int, str]] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        over = _RST_ADORNMENT.match(line)
        if over and i + 2 < len(lines) and _RST_ADORNMENT.match(lines[i + 2]) and nxt.strip():
            char, title, i = "o" + line[0], nxt, i + 3  # overline + underline style
        elif line.strip() and not over and _RST_ADORNMENT.match(nxt):
            char, title, i = nxt[0], line, i + 2
        else:
            if not line.strip().startswith(".. "):
                pairs.append((0, line))
            i += 1
            continue
        if char not in levels:
            levels.append(char)
        pairs.append((levels.index(char) + 1, title.strip()))
    title = next((h for lvl, h in pairs if lvl == 1), "")
    return title, _sections_from_headed_lines(pairs), {}


def load_text(path: Path) -> tuple[str, list[Section], dict[str, str]]:
    text = _read_text(path).strip()
    title = text.splitlines()[0].strip() if text else ""
    return title, [Section((), text)] if text else [], {}


def load_html(path: Path) -> tuple[str, list[Section], dict[str, str]]:
    import html2text
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_read_text(path), "html.parser")
    title = soup.title.get_text(strip=True) if soup.title else ""
    for tag in soup(["script", "style", "nav", "header", "footer", "aside", "form", "noscript"]):
        tag.decompose()
    root = soup.find("main") or soup.find("article") or soup.body or soup
    converter = html2text.HTML2Text()
    converter.body_width = 0
    converter.ignore_images = True
    converter.ignore_links = True
    markdown = converter.handle(str(root))
    pairs = []
    for line in markdown.splitlines():
        match = re.match(r"^(#{1,6})\s+(.*)$", line)
        pairs.append((len(match.group(1)), match.group(2)) if match else (0, line))
    sections = _sections_from_headed_lines(pairs)
    if not title:
        title = next((h for lvl, h in pairs if lvl == 1), "")
    return title, sections, {}


def load_pdf(path: Path) -> tuple[str, list[Section], dict[str, str]]:
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
        raise LoadError("PDF has no extractable text (scanned image?)")
    if not title:
        title = sections[0].text.splitlines()[0].strip()
    return title, sections, {}


def load_docx(path: Path) -> tuple[str, list[Section], dict[str, str]]:
    import zipfile

    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
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
    return title, _sections_from_headed_lines(pairs), {}


LOADERS: dict[str, Loader] = {
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".txt": load_text,
    ".rst": load_rst,
    ".html": load_html,
    ".htm": load_html,
    ".pdf": load_pdf,
    ".docx": load_docx,
}


def supported(path: Path) -> bool:
    return path.suffix.lower() in LOADERS


def load_document(path: Path, relative: str) -> Document:
    """Load one file; raises :class:`LoadError` when it cannot be read."""
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise LoadError(f"unsupported file type {path.suffix!r}")
    try:
        title, sections, meta = loader(path)
    except LoadError:
        raise
    except OSError as exc:
        raise LoadError(f"cannot read: {exc.strerror or exc}") from exc
    except Exception as exc:  # a parser library choking on a corrupt file
        raise LoadError(f"cannot parse: {type(exc).__name__}: {exc}") from exc
    title = title.strip() or path.stem.replace("-", " ").replace("_", " ")
    return Document(relative, title, sections, meta)
