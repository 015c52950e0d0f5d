"""Chunking: headings kept, the size budget held, ids stable and distinct, Japanese split at
sentence ends."""

from __future__ import annotations

import random
import re
from pathlib import Path

from knowledge.chunking import chunk_document, units
from knowledge.loaders import Document, Section, load_document


def doc(
    *sections: tuple[tuple[str, ...], str], title: str = "Guide", path: str = "g.md"
) -> Document:
    return Document(path, title, [Section(h, t) for h, t in sections])


def test_heading_path_is_kept_and_the_title_h1_dropped() -> None:
    chunks = chunk_document(
        doc(
            (("Guide",), "Intro."),
            (("Guide", "Reset"), "Open the portal."),
            (("Guide", "Reset", "Locked out"), "Call 4357."),
            (("Appendix",), "Glossary."),
        )
    )
    assert [(c.heading, c.text) for c in chunks] == [
        ("", "Intro."),
        ("Reset", "Open the portal."),
        ("Reset > Locked out", "Call 4357."),
        ("Appendix", "Glossary."),
    ]
    assert [c.ordinal for c in chunks] == [0, 1, 2, 3]
    locked = chunks[2]
    assert locked.embed_text == "Guide > Reset > Locked out\nCall 4357."
    assert locked.lexical_text == "Reset > Locked out\nCall 4357."  # no title: it drowns terms


def test_chunks_never_cross_a_heading() -> None:
    chunks = chunk_document(doc((("A",), "one."), (("B",), "two.")), budget=10_000)
    assert [c.text for c in chunks] == ["one.", "two."]


def test_paragraphs_are_packed_up_to_the_budget() -> None:
    paragraphs = [f"Paragraph {i} says something about laptops." for i in range(40)]
    chunks = chunk_document(doc((("Laptops",), "\n\n".join(paragraphs))), budget=200)
    assert len(chunks) > 5
    assert all(units(c.text) <= 200 for c in chunks)
    assert all(units(c.text) > 100 for c in chunks[:-1])  # packed, not one paragraph each
    rebuilt = "\n".join(c.text for c in chunks).split("\n")
    assert rebuilt == paragraphs  # nothing lost, order kept


def test_budget_holds_for_long_sentences_and_mixed_text() -> None:
    rnd = random.Random(7)
    words = ["alpha", "beta", "vpn", "reset", "portal", "password", "laptop", "badge", "4357"]
    for budget in (60, 150, 700):
        paragraphs = [
            " ".join(rnd.choice(words) for _ in range(rnd.randint(1, 400))) + "." for _ in range(5)
        ]
        paragraphs.append("経費精算は毎月5営業日目までに申請します。" * 40)
        paragraphs.append("句点のない長い日本語の文" * 60)
        chunks = chunk_document(doc((("H",), "\n\n".join(paragraphs))), budget=budget)
        # "at most about budget": a short remainder (under a quarter of the budget) joins the
        # chunk before it, and the space re-inserted between sentences may add one unit
        assert max(units(c.text) for c in chunks) <= budget + budget // 4 + 1


def test_units_count_cjk_twice() -> None:
    assert units("VPN") == 3
    assert units("経費") == 4
    assert units("ＶＰＮ 経費") == 11  # full-width letters are wide too


def test_japanese_paragraph_is_split_at_sentence_ends() -> None:
    sentences = [f"第{i}条では経費精算の締め切りについて定めています。" for i in range(1, 21)]
    chunks = chunk_document(doc((("経費",), "".join(sentences)), title="規程"), budget=120)
    assert len(chunks) > 3
    assert all(units(c.text) <= 120 for c in chunks)
    for chunk in chunks:
        assert chunk.text.endswith("。")  # cut between sentences, never inside one
    assert "".join(c.text for c in chunks) == "".join(sentences)


def test_ids_are_stable_across_runs(tmp_path: Path) -> None:
    source = tmp_path / "vpn.md"
    source.write_text("# VPN\n\nReset at the portal.\n\n## Locked out\n\nCall 4357.\n")
    first = [c.id for c in chunk_document(load_document(source, "it/vpn.md"))]
    second = [c.id for c in chunk_document(load_document(source, "it/vpn.md"))]
    assert first == second and len(set(first)) == 2
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in first)
    # the same text elsewhere is a different chunk
    other = [c.id for c in chunk_document(load_document(source, "it/vpn-copy.md"))]
    assert not set(first) & set(other)


def test_duplicate_passages_get_distinct_ids() -> None:
    repeated = "Ask the IT Service Desk on ext. 4357."
    chunks = chunk_document(
        doc(
            (("Reset",), "\n\n".join([repeated, "x" * 30, repeated])),
            (("Locked out",), repeated),
        ),
        budget=40,
    )
    same = [c for c in chunks if c.text == repeated]
    assert len(same) == 3
    assert len({c.id for c in chunks}) == len(chunks)


def test_editing_one_paragraph_changes_only_its_chunk() -> None:
    paragraphs = [f"Section text number {i} with enough words to fill a chunk." for i in range(6)]
    before = chunk_document(doc((("H",), "\n\n".join(paragraphs))), budget=70)
    paragraphs[3] = "Section text number 3 now says something different entirely."
    after = chunk_document(doc((("H",), "\n\n".join(paragraphs))), budget=70)
    changed = [a.id for a, b in zip(after, before, strict=True) if a.id != b.id]
    assert len(before) == 6 and len(changed) == 1
