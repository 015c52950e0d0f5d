"""Each loader on a small real file of its format, and the broken files it must refuse with
:class:`LoadError` (the indexer turns those into ``IndexSummary.failed``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from kb_files import binary_txt, make_docx, make_pdf, truncate, zip_garbage_docx

from knowledge.loaders import Document, LoadError, load_document, supported


def load(path: Path) -> Document:
    return load_document(path, path.name)


def headed(doc: Document) -> list[tuple[tuple[str, ...], str]]:
    return [(s.headings, s.text) for s in doc.sections]


# -- Markdown ---------------------------------------------------------------------------------
MARKDOWN = """---
title: "VPN Guide"
confidential: yes
owner: it
---
Resetting the VPN
=================

Intro paragraph about the VPN.

Self-service
------------

Open the portal.

Choose a new password.

## Locked out

Call ext. 4357.

### After hours
The on-call number.
"""


def test_markdown_front_matter_gives_title_and_metadata(tmp_path: Path) -> None:
    (tmp_path / "vpn.md").write_text(MARKDOWN)
    doc = load(tmp_path / "vpn.md")
    assert doc.title == "VPN Guide"
    assert doc.metadata == {"title": "VPN Guide", "confidential": "yes", "owner": "it"}
    assert doc.confidential
    assert all("---" not in s.text and "owner:" not in s.text for s in doc.sections)


def test_markdown_setext_and_atx_headings_nest(tmp_path: Path) -> None:
    (tmp_path / "vpn.md").write_text(MARKDOWN)
    assert headed(load(tmp_path / "vpn.md")) == [
        (("Resetting the VPN",), "Intro paragraph about the VPN."),
        (("Resetting the VPN", "Self-service"), "Open the portal.\n\nChoose a new password."),
        (("Resetting the VPN", "Locked out"), "Call ext. 4357."),
        (("Resetting the VPN", "Locked out", "After hours"), "The on-call number."),
    ]


def test_markdown_title_falls_back_to_h1_and_code_is_not_a_heading(tmp_path: Path) -> None:
    (tmp_path / "b.md").write_text(
        "# Badges\n\nWear it.\n\n## Lost\n\nCall 2200.\n\n```\n# not a heading\n```\n"
    )
    doc = load(tmp_path / "b.md")
    assert doc.title == "Badges" and not doc.confidential
    assert [s.headings for s in doc.sections] == [("Badges",), ("Badges", "Lost")]
    assert "# not a heading" in doc.sections[1].text


# -- plain text -------------------------------------------------------------------------------
def test_text_utf8_with_bom(tmp_path: Path) -> None:
    (tmp_path / "wifi.txt").write_bytes("\ufeffWi-Fi networks\n\nNW-Guest for visitors.\n".encode())
    doc = load(tmp_path / "wifi.txt")
    assert doc.title == "Wi-Fi networks"
    assert headed(doc) == [((), "Wi-Fi networks\n\nNW-Guest for visitors.")]


def test_text_in_shift_jis_is_decoded(tmp_path: Path) -> None:
    text = "落とし物について\n\n傘は2週間保管します。社員証は総務へ届けます。\n"
    (tmp_path / "lost.txt").write_bytes(text.encode("shift_jis"))
    doc = load(tmp_path / "lost.txt")
    assert doc.title == "落とし物について"
    assert "傘は2週間保管します。" in doc.sections[0].text


def test_binary_text_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="binary"):
        load(binary_txt(tmp_path / "photo.txt"))


def test_undecodable_text_is_refused(tmp_path: Path) -> None:
    (tmp_path / "latin1.txt").write_bytes(b"caf\xe9 \xff\xfe menu")
    with pytest.raises(LoadError, match="not UTF-8 or Shift_JIS"):
        load(tmp_path / "latin1.txt")


def test_empty_text_file_has_no_sections(tmp_path: Path) -> None:
    (tmp_path / "empty-notes.txt").write_text("  \n")
    doc = load(tmp_path / "empty-notes.txt")
    assert doc.sections == [] and doc.title == "empty notes"  # title from the file name


# -- reStructuredText -------------------------------------------------------------------------
def test_rst_heading_levels_follow_first_appearance(tmp_path: Path) -> None:
    (tmp_path / "sw.rst").write_text(
        "=================\nSoftware requests\n=================\n\n"
        ".. note:: a directive line is not content\n\n"
        "Use Self Service.\n\n"
        "Review\n======\n\nTakes 3 to 5 business days.\n\n"
        "Licenses\n--------\n\nOver $500 a year needs the department head.\n\n"
        "Other\n======\n\nAsk IT.\n"
    )
    doc = load(tmp_path / "sw.rst")
    assert doc.title == "Software requests"
    assert headed(doc) == [
        (("Software requests",), "Use Self Service."),
        (("Software requests", "Review"), "Takes 3 to 5 business days."),
        (
            ("Software requests", "Review", "Licenses"),
            "Over $500 a year needs the department head.",
        ),
        (("Software requests", "Other"), "Ask IT."),
    ]


# -- HTML -------------------------------------------------------------------------------------
def test_html_drops_navigation_footer_and_scripts(tmp_path: Path) -> None:
    (tmp_path / "phish.html").write_text(
        "<html><head><title>Phishing</title><script>var TRACKER=1;</script>"
        "<style>.x{color:red}</style></head><body>"
        "<header>Intranet HEADERTEXT</header><nav><a href='/'>Home NAVTEXT</a></nav>"
        "<aside>Related ASIDETEXT</aside>"
        "<main><h1>Report phishing</h1><p>Click <a href='https://x.example'>Report Phishing</a>"
        " in Outlook.</p><h2>If you clicked</h2><p>Call ext. 4357.</p></main>"
        "<footer>Copyright FOOTERTEXT</footer></body></html>"
    )
    doc = load(tmp_path / "phish.html")
    assert doc.title == "Phishing"
    assert headed(doc) == [
        (("Report phishing",), "Click Report Phishing in Outlook."),
        (("Report phishing", "If you clicked"), "Call ext. 4357."),
    ]
    everything = " ".join(s.text for s in doc.sections)
    noise = ("HEADERTEXT", "NAVTEXT", "ASIDETEXT", "FOOTERTEXT", "TRACKER", "color", "x.example")
    for word in noise:
        assert word not in everything


def test_html_without_title_uses_h1(tmp_path: Path) -> None:
    (tmp_path / "p.html").write_text("<body><h1>Printers</h1><p>Every floor.</p></body>")
    assert load(tmp_path / "p.html").title == "Printers"


# -- PDF --------------------------------------------------------------------------------------
def test_pdf_pages_become_sections(tmp_path: Path) -> None:
    make_pdf(
        tmp_path / "per-diem.pdf",
        ["Per diem is 75 dollars a day.\nMileage is 0.70 a mile.", "Hotels: 300 dollars a night."],
        title="Per Diem and Mileage",
    )
    doc = load(tmp_path / "per-diem.pdf")
    assert doc.title == "Per Diem and Mileage"
    assert [s.headings for s in doc.sections] == [("page 1",), ("page 2",)]
    assert "Mileage is 0.70 a mile." in doc.sections[0].text
    assert "300 dollars a night" in doc.sections[1].text


def test_pdf_without_metadata_title_uses_first_line(tmp_path: Path) -> None:
    make_pdf(tmp_path / "mail.pdf", ["Mail and packages\nPackages go to reception."])
    assert load(tmp_path / "mail.pdf").title == "Mail and packages"


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("truncated", "unreadable PDF"),
        ("header-only", "unreadable PDF"),
        ("encrypted", "encrypted PDF"),
        ("scanned", "no extractable text"),
    ],
)
def test_broken_pdfs_are_refused(tmp_path: Path, kind: str, reason: str) -> None:
    path = tmp_path / f"{kind}.pdf"
    if kind == "encrypted":
        make_pdf(path, ["Salary bands are secret."], password="hunter2")
    elif kind == "scanned":
        make_pdf(path, [""])  # a page with no text layer, as a scan has
    else:
        make_pdf(path, ["Some text on a page."] * 3)
        truncate(path, 0.5 if kind == "truncated" else 0.02)
    with pytest.raises(LoadError, match=reason):
        load(path)


# -- DOCX -------------------------------------------------------------------------------------
def test_docx_styles_become_headings_and_tables_rows(tmp_path: Path) -> None:
    make_docx(
        tmp_path / "card.docx",
        [
            ("Title", "Corporate Card"),
            ("", "Who gets a card."),
            ("Heading 1", "Lost card"),
            ("", "Call the bank's 24-hour number."),
            ("Heading 2", "Phone numbers"),
            ("table", "Region|Phone;US|+1 800-555-0123;Japan|0120-555-012"),
        ],
        title="Corporate Card Policy",
    )
    doc = load(tmp_path / "card.docx")
    assert doc.title == "Corporate Card Policy"  # core properties win over the Title style
    assert headed(doc) == [
        (("Corporate Card",), "Who gets a card."),
        (("Lost card",), "Call the bank's 24-hour number."),
        (
            ("Lost card", "Phone numbers"),
            "Region | Phone\nUS | +1 800-555-0123\nJapan | 0120-555-012",
        ),
    ]


def test_docx_title_style_is_the_title_without_core_properties(tmp_path: Path) -> None:
    make_docx(tmp_path / "laptops.docx", [("Title", "Laptops"), ("", "Replaced every 4 years.")])
    assert load(tmp_path / "laptops.docx").title == "Laptops"


def test_docx_table_stays_under_its_own_heading(tmp_path: Path) -> None:
    make_docx(
        tmp_path / "t.docx",
        [
            ("Heading 1", "Limits"),
            ("table", "City|Hotel;Boston|300"),
            ("Heading 1", "Booking"),
            ("", "Use NW Travel."),
        ],
    )
    sections = headed(load(tmp_path / "t.docx"))
    assert (("Limits",), "City | Hotel\nBoston | 300") in sections


@pytest.mark.parametrize("kind", ["zip-garbage", "not-a-zip"])
def test_broken_docx_is_refused(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "broken.docx"
    if kind == "zip-garbage":
        zip_garbage_docx(path)
    else:
        path.write_bytes(b"PK\x03\x04" * 50)
    with pytest.raises(LoadError, match="unreadable DOCX"):
        load(path)


def test_truncated_docx_is_refused(tmp_path: Path) -> None:
    path = make_docx(tmp_path / "cut.docx", [("", "text")] * 20)
    with pytest.raises(LoadError):
        load(truncate(path, 0.6))


# -- dispatch ---------------------------------------------------------------------------------
def test_unsupported_types_are_not_loaded(tmp_path: Path) -> None:
    (tmp_path / "policies.tar.gz").write_bytes(b"\x1f\x8b\x08\x00")
    assert not supported(tmp_path / "policies.tar.gz")
    assert supported(Path("A.MD")) and supported(Path("x.htm"))
    with pytest.raises(LoadError, match="unsupported"):
        load(tmp_path / "policies.tar.gz")


def test_missing_file_is_a_load_error(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="cannot read"):
        load(tmp_path / "gone.md")
