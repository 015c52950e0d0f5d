"""Text formats: Markdown (markdown-it-py, with front matter), reStructuredText (heading
detection without docutils), plain text and HTML (BeautifulSoup + html2text)."""

from __future__ import annotations

import re
from pathlib import Path

from knowledge.loaders.base import Loaded, Section, read_text, sections_from_headed_lines

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)


def front_matter(text: str) -> tuple[dict[str, str], str]:
    """``key: value`` lines between two ``---`` lines at the top, and the text after them."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    meta = {}
    for line in match.group(1).splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip():
            meta[key.strip().lower()] = value.strip().strip("\"'")
    return meta, text[match.end() :]


def load_markdown(path: Path) -> Loaded:
    from markdown_it import MarkdownIt

    meta, text = front_matter(read_text(path))
    lines = text.splitlines()
    heading_at: dict[int, tuple[int, str]] = {}
    tokens = MarkdownIt("commonmark").parse(text)
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
    sections = sections_from_headed_lines(pairs)
    title = meta.get("title") or next((h for lvl, h in heading_at.values() if lvl == 1), "")
    return title, sections, meta


_RST_ADORNMENT = re.compile(r"^([=\-~^\"'`#*+:.])\1{2,}\s*$")


def load_rst(path: Path) -> Loaded:
    lines = read_text(path).splitlines()
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
    return title, sections_from_headed_lines(pairs), {}


def load_text(path: Path) -> Loaded:
    text = read_text(path).strip()
    title = text.splitlines()[0].strip() if text else ""
    return title, [Section((), text)] if text else [], {}


def load_html(path: Path) -> Loaded:
    return html_document(read_text(path))


def html_document(html: str) -> Loaded:
    """Title and headed sections of an HTML page; navigation, headers and footers dropped."""
    import html2text
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    title = soup.title.get_text(strip=True) if soup.title else ""
    for tag in soup(["script", "style", "nav", "header", "footer", "aside", "form", "noscript"]):
        tag.decompose()
    root = soup.find("main") or soup.find("article") or soup.body or soup
    converter = html2text.HTML2Text()
    converter.body_width = 0
    converter.ignore_images = True
    converter.ignore_links = True
    pairs = []
    for line in converter.handle(str(root)).splitlines():
        match = re.match(r"^(#{1,6})\s+(.*)$", line)
        pairs.append((len(match.group(1)), match.group(2)) if match else (0, line))
    if not title:
        title = next((h for lvl, h in pairs if lvl == 1), "")
    return title, sections_from_headed_lines(pairs), {}
