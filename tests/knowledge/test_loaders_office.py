"""The loaders for the documents companies keep besides text: Excel, PowerPoint, CSV and
e-mail, each on a small real file (English and Japanese), and the broken ones they refuse."""

from __future__ import annotations

from pathlib import Path

import pytest
from kb_files import truncate, zip_garbage_docx
from office_files import make_csv, make_eml, make_pptx, make_xlsx

from knowledge.loaders import Document, EmptyDocument, LoadError, load_document, supported


def load(path: Path) -> Document:
    return load_document(path, path.name)


# -- Excel --------------------------------------------------------------------------------------
def test_each_sheet_is_a_section_and_each_row_names_its_columns(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path / "limits.xlsx", {
        "Travel": [["Expense limits for travel"], [],
                   ["Item", "Limit", "Approval"],
                   ["Hotel per night", "180 dollars", "Manager"],
                   ["Taxi to the airport", 60.0, None]],
        "Empty": [],
        "Notes": [["Receipts are needed above 25 dollars."]],
    }, title="Expense limits")
    doc = load(path)
    assert doc.title == "Expense limits"
    assert [s.headings for s in doc.sections] == [("Travel",), ("Notes",)]
    assert doc.sections[0].text.split("\n\n") == [
        "Expense limits for travel",
        "Item: Hotel per night; Limit: 180 dollars; Approval: Manager",
        "Item: Taxi to the airport; Limit: 60",  # 60.0 shown as a person typed it, blanks left out
    ]
    assert doc.sections[1].text == "Receipts are needed above 25 dollars."


def test_a_japanese_sheet_keeps_its_dates_and_unnamed_columns(tmp_path: Path) -> None:
    from datetime import datetime

    path = make_xlsx(tmp_path / "経費規程.xlsx", {
        "日当": [["役職", "日当", "宿泊費上限", None],
                 ["部長", "4,000円", "15,000円", "改定予定"],
                 ["施行日", datetime(2024, 4, 1)]],
    })
    doc = load(path)
    assert doc.title == "経費規程"  # no title property: the file name
    assert doc.sections[0].text.split("\n\n") == [
        "役職: 部長; 日当: 4,000円; 宿泊費上限: 15,000円; column 4: 改定予定",
        "役職: 施行日; 日当: 2024-04-01",
    ]


def test_a_sheet_with_a_wrong_recorded_used_range_is_read_to_its_end(tmp_path: Path) -> None:
    """Some writers record the used range as A1; read-only openpyxl would then read one cell."""
    import re
    import zipfile

    made = make_xlsx(tmp_path / "made.xlsx", {"S": [["Item", "Limit"], ["Hotel", "180"]]})
    with zipfile.ZipFile(made) as source, zipfile.ZipFile(tmp_path / "a1.xlsx", "w") as out:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1"/>', data)
            out.writestr(item, data)
    assert load(tmp_path / "a1.xlsx").sections[0].text == "Item: Hotel; Limit: 180"


@pytest.mark.parametrize("kind", ["zip garbage", "truncated", "text"])
def test_a_broken_workbook_is_refused_with_one_line(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "broken.xlsx"
    if kind == "zip garbage":
        zip_garbage_docx(path)
    elif kind == "truncated":
        truncate(make_xlsx(path, {"A": [["a", "b"], ["1", "2"]] * 50}), 0.5)
    else:
        path.write_text("Item,Limit\nHotel,180\n")
    with pytest.raises(LoadError) as raised:
        load(path)
    assert "\n" not in str(raised.value) and len(str(raised.value)) <= 200


# -- PowerPoint ---------------------------------------------------------------------------------
def test_slide_titles_are_headings_and_notes_and_tables_are_text(tmp_path: Path) -> None:
    path = make_pptx(tmp_path / "security.pptx", [
        ("Security training", ["Northwind, 2024"], ""),
        ("Phishing drills", ["Report suspicious mail with the Report button."],
         "Clicking a drill link enrols you in a 10-minute refresher."),
    ], table=[["Drill", "Month"], ["Gift card", "March"]])
    doc = load(path)
    assert doc.title == "Security training"
    assert [s.headings for s in doc.sections] == [("Security training",), ("Phishing drills",)]
    drills = doc.sections[1].text
    assert "Report suspicious mail with the Report button." in drills
    assert "Notes: Clicking a drill link enrols you in a 10-minute refresher." in drills
    assert "Drill | Month\nGift card | March" in drills


def test_a_japanese_deck_and_a_slide_without_a_title(tmp_path: Path) -> None:
    path = make_pptx(tmp_path / "研修.pptx", [
        ("入館証", ["入館証は初日に総務部で受け取ってください。"], "紛失した場合は内線2200へ。"),
        ("", ["質疑応答"], ""),
    ])
    doc = load(path)
    assert doc.title == "入館証"
    assert doc.sections[0].text.endswith("Notes: 紛失した場合は内線2200へ。")
    assert doc.sections[1].headings == ("slide 2",)


def test_a_broken_deck_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="unreadable PPTX"):
        load(zip_garbage_docx(tmp_path / "deck.pptx"))


# -- CSV ----------------------------------------------------------------------------------------
def test_csv_rows_name_their_columns(tmp_path: Path) -> None:
    path = make_csv(tmp_path / "printers.csv", [["Floor", "Printer", "Queue"],
                                                 ["3", "HP M607", "print01-f3"],
                                                 ["4", '"Canon C3226, colour"', "print01-f4"]])
    doc = load(path)
    assert doc.sections[0].text.split("\n\n") == [
        "Floor: 3; Printer: HP M607; Queue: print01-f3",
        "Floor: 4; Printer: Canon C3226, colour; Queue: print01-f4",
    ]


@pytest.mark.parametrize(("encoding", "delimiter"), [("cp932", ","), ("utf-8-sig", "\t"),
                                                     ("utf-8", ";")])
def test_japanese_csv_in_shift_jis_or_with_other_separators(
    tmp_path: Path, encoding: str, delimiter: str
) -> None:
    path = make_csv(tmp_path / "内線一覧.csv", [["部署", "内線", "受付時間"],
                                                ["情報システム部", "4357", "8時から20時まで"]],
                    encoding, delimiter)
    assert load(path).sections[0].text == (
        "部署: 情報システム部; 内線: 4357; 受付時間: 8時から20時まで")


def test_csv_that_is_not_text_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256)))
    with pytest.raises(LoadError, match="binary"):
        load(tmp_path / "x.csv")


# -- e-mail -------------------------------------------------------------------------------------
def test_mail_subject_is_the_title_plain_body_preferred_attachments_named(tmp_path: Path) -> None:
    path = make_eml(tmp_path / "closure.eml", "Office closure on 3 May",
                    plain="The Osaka office is closed on 3 May for electrical maintenance.",
                    html="<p>HTML version</p>",
                    attachments=[("floorplan.pdf", b"%PDF-1.4"), ("rota.xlsx", b"PK")])
    doc = load(path)
    assert doc.title == "Office closure on 3 May"
    assert [s.text for s in doc.sections] == [
        "The Osaka office is closed on 3 May for electrical maintenance."]
    assert doc.metadata["attachments"] == "floorplan.pdf, rota.xlsx"
    assert doc.metadata["from"] == "General Affairs <ga@northwind.example>"


def test_japanese_html_only_mail_in_iso_2022_jp(tmp_path: Path) -> None:
    path = make_eml(tmp_path / "holidays.eml", "年末年始の休業について",
                    html="<html><body><h2>休業期間</h2><p>本社は12月29日から1月3日まで休業します。"
                    "</p></body></html>", charset="iso-2022-jp")
    assert b"ISO-2022-JP" in path.read_bytes().upper()
    doc = load(path)
    assert doc.title == "年末年始の休業について"
    assert [(s.headings, s.text) for s in doc.sections] == [
        (("", "休業期間"), "本社は12月29日から1月3日まで休業します。")]
    assert "attachments" not in doc.metadata


def test_a_mail_that_only_carries_files_is_empty_and_says_which(tmp_path: Path) -> None:
    path = make_eml(tmp_path / "scan.eml", "Scanned contract",
                    attachments=[("contract.pdf", b"%PDF-1.4")])
    with pytest.raises(EmptyDocument, match="no text body; attachments not indexed: contract.pdf"):
        load(path)


def test_a_file_that_is_no_mail_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.eml").write_text("just some words\nno headers at all\n")
    with pytest.raises(LoadError, match="not an e-mail message"):
        load(tmp_path / "notes.eml")


# -- what is read at all --------------------------------------------------------------------------
def test_the_new_types_are_supported_and_archives_are_not() -> None:
    assert all(supported(Path(f"a{ext}")) for ext in (".xlsx", ".XLSX", ".pptx", ".csv", ".eml"))
    assert not any(supported(Path(f"a{ext}")) for ext in (".gz", ".xls", ".ppt", ".zip", ""))


def test_a_pdf_without_text_is_empty_not_broken(tmp_path: Path) -> None:
    from kb_files import make_pdf

    with pytest.raises(EmptyDocument, match="no extractable text"):
        load(make_pdf(tmp_path / "scan.pdf", [""]))
