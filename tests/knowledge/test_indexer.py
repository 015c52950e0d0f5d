"""Incremental indexing on the real engines: a small folder of documents in every format,
indexed into an embedded Chroma store with the real embedding model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from kb_files import KB, binary_txt, make_docx, make_pdf, truncate, write, zip_garbage_docx

from knowledge.indexer import discover

VPN_MD = """# VPN password reset

Your VPN password is your Northwind account password.

## Reset it yourself

Open the self-service portal at https://id.northwind.example/reset and choose a new password
of at least 14 characters.

## Locked out

After five failed attempts the account locks for 30 minutes. Call the IT Service Desk on
ext. 4357.

## Gateway

The Zanzibar gateway synchronises new passwords within 15 minutes.
"""

FILES: dict[str, str | bytes] = {
    "it/vpn-password-reset.md": VPN_MD,
    "hr/paid-time-off.md": (
        "# Paid time off\n\nUS employees get 15 days of paid time off per year in their first "
        "three years.\n\n## Carry over\n\nUp to 5 unused days carry over to the next year.\n"
    ),
    "facilities/badges.txt": (
        "Building badges\n\nWear your badge at all times. A lost badge is deactivated within "
        "one hour; call Facilities on ext. 2200.\n"
    ),
    "it/wifi.rst": "Wi-Fi\n=====\n\nVisitors use NW-Guest; the password is shown at reception.\n",
    "it/phishing.html": (
        "<html><title>Phishing</title><body><nav>Home</nav><main><h1>Phishing</h1>"
        "<p>Forward suspicious mail to phish@northwind.example.</p></main></body></html>"
    ),
}
ALL = sorted([*FILES, "expenses/per-diem.pdf", "expenses/corporate-card.docx"])


@pytest.fixture
def kb(tmp_path: Path, embeddings: Any) -> KB:
    kb = KB.create(tmp_path, embeddings, FILES)
    make_pdf(
        kb.root / "expenses/per-diem.pdf",
        ["Per diem: 75 dollars per full travel day.\nMileage: 0.70 dollars per mile."],
        title="Per diem and mileage",
    )
    make_docx(
        kb.root / "expenses/corporate-card.docx",
        [("Title", "Corporate card"), ("Heading 1", "Lost card"),
         ("", "Call the bank's 24-hour number on the back of the card.")],
    )
    return kb


def test_first_index_adds_every_file_in_every_format(kb: KB) -> None:
    summary = kb.index()
    assert sorted(summary.added) == ALL
    assert summary.updated == summary.removed == summary.unchanged == []
    assert summary.failed == {}
    assert summary.chunks_embedded == summary.chunks_total == len(kb.embeddings.texts) > len(ALL)
    assert summary.chunks_reused == 0
    assert kb.paths("How do I reset my VPN password?")[0] == "it/vpn-password-reset.md"
    assert kb.paths("What is the mileage rate?")[0] == "expenses/per-diem.pdf"
    assert kb.paths("I lost my corporate card")[0] == "expenses/corporate-card.docx"


def test_unchanged_files_are_left_alone_without_embedding(kb: KB) -> None:
    first = kb.index()
    second = kb.index()
    assert sorted(second.unchanged) == ALL
    assert second.added == second.updated == second.removed == []
    assert second.chunks_embedded == 0 and kb.embeddings.texts == []
    assert second.chunks_total == first.chunks_total


def test_editing_one_paragraph_reembeds_only_that_chunk(kb: KB) -> None:
    first = kb.index()
    before = kb.store.files()["it/vpn-password-reset.md"].chunk_ids
    path = kb.root / "it/vpn-password-reset.md"
    path.write_text(VPN_MD.replace("The Zanzibar gateway", "The Quokka gateway"))

    summary = kb.index()
    assert summary.updated == ["it/vpn-password-reset.md"]
    assert sorted(summary.unchanged) == sorted(set(ALL) - {"it/vpn-password-reset.md"})
    assert summary.chunks_embedded == 1
    assert kb.embeddings.texts == [
        "VPN password reset > Gateway\nThe Quokka gateway synchronises new passwords within "
        "15 minutes."
    ]
    assert summary.chunks_reused == len(before) - 1
    assert summary.chunks_total == first.chunks_total
    assert summary.orphans_swept == 1  # the old paragraph's chunk
    after = kb.store.files()["it/vpn-password-reset.md"].chunk_ids
    assert len(set(before) & set(after)) == len(before) - 1
    found = kb.texts("Which gateway synchronises new passwords?")
    assert "Quokka" in found and "Zanzibar" not in found


def test_deleting_a_file_removes_it_and_its_chunks(kb: KB) -> None:
    kb.index()
    gone = kb.store.files()["hr/paid-time-off.md"].chunk_ids
    assert kb.paths("How many days of paid time off carry over?")[0] == "hr/paid-time-off.md"
    (kb.root / "hr/paid-time-off.md").unlink()

    summary = kb.index()
    assert summary.removed == ["hr/paid-time-off.md"]
    assert summary.orphans_swept == len(gone)
    assert "hr/paid-time-off.md" not in kb.store.files()
    assert not set(gone) & kb.store.all_chunk_ids()
    assert "hr/paid-time-off.md" not in kb.paths("How many days of paid time off carry over?")


def test_full_reindex_reembeds_everything(kb: KB) -> None:
    first = kb.index()
    summary = kb.index(full=True)
    assert sorted(summary.updated) == ALL and summary.added == summary.unchanged == []
    assert summary.chunks_embedded == first.chunks_total == len(kb.embeddings.texts)
    assert summary.chunks_total == first.chunks_total and summary.chunks_reused == 0


def test_corrupt_files_are_reported_and_the_rest_indexed(kb: KB) -> None:
    broken = kb.root / "broken"
    truncate(make_pdf(broken / "truncated.pdf", ["Some policy text."] * 3), 0.5)
    make_pdf(broken / "encrypted.pdf", ["Salary bands."], password="hunter2")
    zip_garbage_docx(broken / "garbage.docx")
    binary_txt(broken / "photo.txt")
    write(broken / "empty.md", "---\ntitle: Nothing yet\n---\n")

    summary = kb.index()
    assert set(summary.failed) == {
        "broken/truncated.pdf", "broken/encrypted.pdf", "broken/garbage.docx",
        "broken/photo.txt",
    }
    assert "unreadable PDF" in summary.failed["broken/truncated.pdf"]
    assert summary.failed["broken/encrypted.pdf"] == "encrypted PDF"
    assert "unreadable DOCX" in summary.failed["broken/garbage.docx"]
    assert "binary" in summary.failed["broken/photo.txt"]
    assert summary.empty == {"broken/empty.md": ""}  # read fine, nothing in it: not "failed"
    assert sorted(summary.added) == ALL
    assert summary.as_dict()["failed"] == 4 and summary.as_dict()["failures"] == summary.failed
    assert "1 empty, 4 failed" in summary.line()
    assert not any(p.startswith("broken/") for p in kb.store.files())
    assert kb.paths("How do I reset my VPN password?")[0] == "it/vpn-password-reset.md"


def test_a_file_broken_after_indexing_keeps_its_last_good_version(kb: KB) -> None:
    kb.index()
    truncate(kb.root / "expenses/per-diem.pdf", 0.3)
    summary = kb.index()
    assert list(summary.failed) == ["expenses/per-diem.pdf"]
    assert summary.removed == []
    assert "expenses/per-diem.pdf" in kb.store.files()
    assert kb.paths("What is the mileage rate?")[0] == "expenses/per-diem.pdf"


def test_progress_reports_every_file(kb: KB) -> None:
    calls: list[tuple[int, int, str]] = []
    kb.indexer.index([kb.root], progress=lambda *call: calls.append(call))
    assert [c[0] for c in calls] == list(range(1, len(ALL) + 1))
    assert {c[1] for c in calls} == {len(ALL)}
    assert sorted(c[2] for c in calls) == ALL


def test_discover_skips_hidden_build_and_office_lock_files(tmp_path: Path) -> None:
    for name in ("a.md", "_build/b.md", ".git/c.md", "d/~$lock.docx", "d/.hidden.md",
                 "d/old.tar.gz", "d/e.TXT"):
        write(tmp_path / name, "text")
    skipped: dict[str, str] = {}
    assert [s.relative for s in discover([tmp_path], skipped=skipped)] == ["a.md", "d/e.TXT"]
    assert skipped == {"d/old.tar.gz": "unsupported type .gz"}  # hidden and lock files: silent
    with pytest.raises(FileNotFoundError):
        discover([tmp_path / "nope"])


def test_indexing_another_folder_leaves_the_first_alone(tmp_path: Path, embeddings: Any) -> None:
    kb = KB.create(tmp_path, embeddings)
    it, hr = tmp_path / "it", tmp_path / "hr"
    write(it / "vpn.md", VPN_MD)
    write(hr / "pto.md", FILES["hr/paid-time-off.md"])
    assert kb.indexer.index([it]).added == ["vpn.md"]
    second = kb.indexer.index([hr])
    assert second.added == ["pto.md"] and second.removed == []
    assert sorted(kb.store.files()) == ["pto.md", "vpn.md"]
    both = KB.create(tmp_path / "both", embeddings)
    assert sorted(both.indexer.index([it, hr]).added) == ["pto.md", "vpn.md"]
    write(hr / "vpn.md", "# HR VPN\n\nA different file with the same relative path.")
    assert sorted(both.indexer.index([it, hr]).added) == ["hr/vpn.md", "it/vpn.md"]


def test_a_folder_keeps_its_paths_whether_indexed_alone_or_with_others(
    tmp_path: Path, embeddings: Any
) -> None:
    kb = KB.create(tmp_path, embeddings)
    it, hr = tmp_path / "it", tmp_path / "hr"
    write(it / "vpn.md", VPN_MD)
    write(hr / "pto.md", FILES["hr/paid-time-off.md"])
    kb.indexer.index([it, hr])
    again = kb.indexer.index([it])  # the same folder, on its own this time
    assert again.removed == [] and again.added == [] and again.chunks_embedded == 0


def test_confidential_documents_are_marked_by_front_matter_or_glob(
    tmp_path: Path, embeddings: Any
) -> None:
    kb = KB.create(
        tmp_path,
        embeddings,
        {
            "hr/salary-bands.md": "---\nconfidential: true\n---\n# Salary bands\n\nL3: 145k-190k.",
            "hr/private/reviews.md": "# Reviews\n\nReview notes for the calibration meeting.",
            "hr/pto.md": FILES["hr/paid-time-off.md"],
        },
        confidential_globs=("hr/private/*",),
    )
    kb.index()
    flags = {p: r.confidential for p, r in kb.store.files().items()}
    assert flags == {"hr/salary-bands.md": True, "hr/private/reviews.md": True, "hr/pto.md": False}
    hit = kb.search("salary band for L3")[0]
    assert hit.path == "hr/salary-bands.md" and hit.confidential
