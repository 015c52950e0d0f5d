"""Excel, PowerPoint, CSV and e-mail documents indexed into a real Chroma store with the real
embedding model, then found for questions in English and Japanese; and what the summary says
of files it cannot use (unsupported, empty, corrupt), in its text line and its JSON alike."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from kb_files import KB, write, zip_garbage_docx
from office_files import make_csv, make_eml, make_pptx, make_xlsx

from knowledge.summary import STATES

PTO = "# Paid time off\n\nEmployees get 15 days of paid time off per year.\n"


def office_kb(tmp_path: Path, embeddings: Any) -> KB:
    kb = KB.create(tmp_path, embeddings, {"hr/paid-time-off.md": PTO})
    make_xlsx(kb.root / "expenses/expense-limits.xlsx", {
        "Travel": [["Item", "Limit", "Approval"],
                   ["Hotel per night", "180 dollars", "Manager"],
                   ["Taxi to the airport", "60 dollars", "none"],
                   ["Team dinner", "45 dollars per person", "Director"]],
    }, title="Expense limits")
    make_xlsx(kb.root / "expenses/経費規程.xlsx", {
        "国内出張": [["国内出張の日当と宿泊費"], ["役職", "日当", "宿泊費上限"],
                     ["一般社員", "2,000円", "10,000円"], ["課長", "3,000円", "12,000円"],
                     ["部長", "4,000円", "15,000円"], ["施行日", datetime(2024, 4, 1)]],
    })
    make_pptx(kb.root / "it/security-training.pptx", [
        ("Security training", ["Northwind IT, 2024"], ""),
        ("Phishing drills", ["Report suspicious mail with the Report button in Outlook."],
         "Clicking a drill link enrols you in a 10-minute refresher course."),
    ])
    make_pptx(kb.root / "facilities/入社研修.pptx", [
        ("入館証", ["入館証は初日に総務部で受け取ってください。"],
         "入館証を紛失した場合は、すぐに総務部の内線2200に連絡してください。"),
    ])
    make_csv(kb.root / "it/printers.csv", [["Floor", "Printer", "Queue"],
                                           ["3", "HP LaserJet M607", "print01-f3"],
                                           ["4", "Canon imageRUNNER C3226", "print01-f4"]])
    make_csv(kb.root / "it/内線一覧.csv", [["部署", "内線", "受付時間"],
                                            ["情報システム部", "4357", "8時から20時まで"],
                                            ["人事部", "2300", "9時から17時まで"]], "cp932")
    make_eml(kb.root / "facilities/osaka-closure.eml", "Osaka office closed on 3 May",
             plain="The Osaka office is closed on 3 May for electrical maintenance. Please "
             "work from home that day.", attachments=[("floorplan.pdf", b"%PDF-1.4")])
    make_eml(kb.root / "facilities/年末年始.eml", "年末年始の休業について",
             html="<p>本社は12月29日から1月3日まで休業します。</p>", charset="iso-2022-jp")
    return kb


NEW = ["expenses/expense-limits.xlsx", "expenses/経費規程.xlsx", "facilities/osaka-closure.eml",
       "facilities/年末年始.eml", "facilities/入社研修.pptx", "it/printers.csv",
       "it/security-training.pptx", "it/内線一覧.csv"]


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory, embeddings: Any) -> KB:
    kb = office_kb(tmp_path_factory.mktemp("office"), embeddings)
    summary = kb.index()
    assert sorted(summary.added) == sorted([*NEW, "hr/paid-time-off.md"]), summary
    assert summary.notes == {"facilities/osaka-closure.eml":
                             "attachments not indexed: floorplan.pdf"}
    return kb


@pytest.mark.parametrize(("question", "path", "passage"), [
    ("How much can I spend on a hotel per night?", "expenses/expense-limits.xlsx",
     "Item: Hotel per night; Limit: 180 dollars; Approval: Manager"),
    ("What happens if I click a phishing drill link?", "it/security-training.pptx",
     "10-minute refresher"),
    ("Which print queue is on floor 4?", "it/printers.csv",
     "Floor: 4; Printer: Canon imageRUNNER C3226; Queue: print01-f4"),
    ("Is the Osaka office open on 3 May?", "facilities/osaka-closure.eml",
     "closed on 3 May for electrical maintenance"),
])
def test_english_questions_find_the_row_slide_or_mail(
    kb: KB, question: str, path: str, passage: str
) -> None:
    hits = kb.search(question, 3)
    assert hits[0].path == path, [h.path for h in hits]
    assert passage in hits[0].text


@pytest.mark.parametrize(("question", "path", "passage"), [
    ("部長の宿泊費の上限はいくらですか？", "expenses/経費規程.xlsx",
     "役職: 部長; 日当: 4,000円; 宿泊費上限: 15,000円"),
    ("入館証をなくしたらどうすればいいですか？", "facilities/入社研修.pptx", "内線2200"),
    ("情報システム部の内線番号は？", "it/内線一覧.csv", "部署: 情報システム部; 内線: 4357"),
    ("年末年始の休みはいつからですか？", "facilities/年末年始.eml", "12月29日から1月3日まで"),
])
def test_japanese_questions_find_the_row_slide_or_mail(
    kb: KB, question: str, path: str, passage: str
) -> None:
    hits = kb.search(question, 3, "ja")
    assert hits[0].path == path, [h.path for h in hits]
    assert passage in hits[0].text


def test_a_sheet_row_is_indexed_under_the_sheet_with_its_title(kb: KB) -> None:
    hit = kb.search("部長の宿泊費の上限はいくらですか？", 1, "ja")[0]
    assert (hit.title, hit.heading) == ("経費規程", "国内出張")


# -- what the summary says -------------------------------------------------------------------------
def test_unsupported_empty_and_corrupt_files_are_each_named_once(
    tmp_path: Path, embeddings: Any
) -> None:
    kb = KB.create(tmp_path, embeddings, {"hr/paid-time-off.md": PTO,
                                          "archive/old-policies.tar.gz": b"\x1f\x8b\x08\x00",
                                          "legacy/limits.xls": b"\xd0\xcf\x11\xe0",
                                          "README": "no extension",
                                          "empty/blank.md": "",
                                          "empty/spaces.txt": "  \n\n ",
                                          "~$lock.xlsx": b"lock"})
    make_xlsx(kb.root / "empty/no-rows.xlsx", {"Sheet1": []})
    zip_garbage_docx(kb.root / "broken/limits.xlsx")
    write(kb.root / "broken/deck.pptx", b"PK\x03\x04 cut short")
    summary = kb.index()
    assert summary.added == ["hr/paid-time-off.md"]
    assert summary.skipped == {"README": "unsupported type (no extension)",
                               "archive/old-policies.tar.gz": "unsupported type .gz",
                               "legacy/limits.xls": "unsupported type .xls"}
    assert summary.empty == {"empty/blank.md": "", "empty/no-rows.xlsx": "",
                             "empty/spaces.txt": ""}
    assert set(summary.failed) == {"broken/limits.xlsx", "broken/deck.pptx"}
    assert summary.failed["broken/limits.xlsx"].startswith("unreadable Excel workbook: ")
    assert all("\n" not in why for why in summary.failed.values())

    line = summary.line()
    assert line.startswith("1 added, 0 updated, 0 removed, 0 unchanged, 3 empty, 3 skipped, "
                           "2 failed; ")
    assert "  ".join(summary.detail_lines()).count("skipped: ") == 3
    assert "skipped: archive/old-policies.tar.gz: unsupported type .gz" in summary.detail_lines()
    assert "empty: empty/blank.md" in summary.detail_lines()

    data = json.loads(json.dumps(summary.as_dict()))
    for state in STATES:  # every count the JSON gives, the text line gives in the same word
        assert data[state] == summary.count(state)
        assert f"{data[state]} {state}" in line or data[state] == 0
    assert {(d["state"], d["path"]) for d in data["details"]} == {
        *(("skipped", p) for p in summary.skipped), *(("empty", p) for p in summary.empty),
        *(("failed", p) for p in summary.failed)}

    again = kb.index()  # the second run says the same of them, and the rest is "unchanged"
    assert again.line().startswith("0 added, 0 updated, 0 removed, 1 unchanged, 3 empty, "
                                   "3 skipped, 2 failed; ")


def test_replace_drops_every_document_not_under_the_given_folders(
    tmp_path: Path, embeddings: Any
) -> None:
    kb = office_kb(tmp_path, embeddings)
    samples, mine = kb.root, tmp_path / "mine"
    kb.indexer.index([samples])
    write(mine / "vpn.md", "# VPN\n\nReset your VPN password at https://id.example/reset.\n")
    kept = kb.indexer.index([mine])
    assert kept.removed == [] and len(kb.store.files()) == len(NEW) + 2
    replaced = kb.indexer.index([mine], replace=True)
    assert sorted(replaced.removed) == sorted([*NEW, "hr/paid-time-off.md"])
    assert list(kb.store.files()) == ["vpn.md"]
    assert {h.path for h in kb.search("hotel limit per night", 5)} == {"vpn.md"}
