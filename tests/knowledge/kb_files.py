"""Small real documents for the knowledge tests: PDFs with fpdf2, DOCX with python-docx, and the
broken files a real share holds (truncated, encrypted, zip garbage, binary "text")."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docx
from fpdf import FPDF

from knowledge.indexer import Indexer, IndexSummary
from knowledge.retrieval import Hit, HybridRetriever
from knowledge.store import KnowledgeStore, open_client


def make_pdf(path: Path, pages: list[str], title: str = "", password: str = "") -> Path:
    pdf = FPDF()
    if title:
        pdf.set_title(title)
    if password:
        pdf.set_encryption(owner_password=f"{password}-owner", user_password=password)
    pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        if text:
            pdf.multi_cell(0, 8, text)
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))
    return path


def make_docx(
    path: Path, blocks: list[tuple[str, str]], title: str = ""
) -> Path:
    """``blocks`` are (style, text): "Title", "Heading 1", "Heading 2", "" (body) or
    "table:a|b;c|d" style rows given as ("table", "a|b;c|d")."""
    document = docx.Document()
    if title:
        document.core_properties.title = title
    for style, text in blocks:
        if style == "table":
            rows = [row.split("|") for row in text.split(";")]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
        elif style.startswith("Heading "):
            document.add_heading(text, level=int(style.split()[1]))
        elif style:
            document.add_paragraph(text, style=style)
        else:
            document.add_paragraph(text)
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


def truncate(path: Path, keep: float = 0.5) -> Path:
    """Cut a file short, as an interrupted copy leaves it."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def zip_garbage_docx(path: Path) -> Path:
    """A zip archive named .docx that holds no Word document."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "not a word document")
    return path


def binary_txt(path: Path) -> Path:
    """A .txt that is really binary (an image renamed by mistake)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    return path


# -- a small knowledge base on the real engines ------------------------------------------------
class CountingEmbeddings:
    """The real embedding model, counting the texts it is asked to encode."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.texts: list[str] = []

    def encode(self, texts: list[str]) -> Any:
        self.texts.extend(texts)
        return self.real.encode(texts)


@dataclass
class KB:
    """A folder of documents indexed into its own embedded Chroma store."""

    root: Path
    store: KnowledgeStore
    embeddings: CountingEmbeddings
    indexer: Indexer
    retriever: HybridRetriever

    @classmethod
    def create(cls, tmp: Path, embeddings: Any, files: dict[str, str | bytes] | None = None,
               **indexer_options: Any) -> KB:
        root = tmp / "docs"
        root.mkdir(parents=True, exist_ok=True)
        for relative, content in (files or {}).items():
            write(root / relative, content)
        store = KnowledgeStore(open_client(tmp / "data"), "testkb")
        counting = CountingEmbeddings(embeddings)
        model: Any = counting  # duck-typed LocalEmbeddings
        indexer = Indexer(store, model, **indexer_options)
        return cls(root, store, counting, indexer, HybridRetriever(store, model))

    def index(self, **options: Any) -> IndexSummary:
        """Index the folder; ``self.embeddings.texts`` then holds what this run embedded."""
        self.embeddings.texts.clear()
        return self.indexer.index([self.root], **options)

    def search(self, query: str, k: int = 5, language: str = "en") -> list[Hit]:
        return self.retriever.search(query, k, language).hits

    def paths(self, query: str, k: int = 5, language: str = "en") -> list[str]:
        return [h.path for h in self.search(query, k, language)]

    def texts(self, query: str, k: int = 5, language: str = "en") -> str:
        return "\n".join(h.text for h in self.search(query, k, language))


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path
