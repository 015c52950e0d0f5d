"""The BM25 tokenizer (Latin words, CJK bigrams plus kanji/katakana unigrams) and the index."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from knowledge.lexical import LexicalCache, LexicalIndex, content_terms, tokenize


def test_latin_words_are_lowercased_without_stop_words() -> None:
    assert tokenize("How do I reset my VPN password?") == ["reset", "vpn", "password"]
    assert tokenize("NW-Guest's Wi-Fi ext. 4357") == ["nw-guest's", "wi-fi", "ext", "4357"]


def test_kanji_runs_become_unigrams_and_bigrams() -> None:
    assert tokenize("経費精算") == ["経", "費", "精", "算", "経費", "費精", "精算"]


def test_hiragana_alone_is_not_a_term() -> None:
    tokens = tokenize("経費精算の締め切りはいつですか?")
    assert "経費" in tokens and "精算" in tokens and "締め" in tokens
    assert not {"いつ", "つで", "です", "すか", "の", "は"} & set(tokens)


def test_width_and_case_are_normalised() -> None:
    assert tokenize("ＶＰＮのパスワード")[0] == "vpn"
    assert "パス" in tokenize("ＶＰＮのパスワード")
    assert tokenize("ﾒﾆｭｰ") == tokenize("メニュー")  # half-width katakana


def test_mixed_script_splits_at_the_script_boundary() -> None:
    # a lone particle between Latin words is dropped; kanji keep unigram and bigrams
    assert tokenize("Slackで@channelを使う") == ["slack", "channel", "使", "を使", "使う"]


def test_content_terms_keep_what_the_question_is_about() -> None:
    assert content_terms("経費精算の締め切りはいつですか?") == {"経費", "費精", "精算"}
    assert content_terms("How do I reset my VPN password?") == {"reset", "vpn", "password"}
    assert content_terms("a I 4") == set()


def test_japanese_query_finds_the_japanese_passage() -> None:
    index = LexicalIndex(
        ["deadline", "leave", "printer"],
        [
            "経費精算は毎月5営業日目の17:00までに申請します。",
            "年次有給休暇は入社6か月後に10日付与されます。",
            "カラー印刷は8階北側のプリンターのみです。",
        ],
    )
    assert index.search("経費精算の締め切りはいつですか?", 3)[0][0] == "deadline"
    assert index.search("有給休暇は何日?", 3)[0][0] == "leave"
    assert [i for i, _ in index.search("カラープリンター", 3)] == ["printer"]
    assert index.query_terms("有給休暇") == ["有", "給", "休", "暇", "有給", "給休", "休暇"]


def test_unknown_terms_and_empty_index_find_nothing() -> None:
    index = LexicalIndex(["a"], ["VPN password reset"])
    assert index.search("cafeteria menu", 5) == []
    assert index.search("", 5) == []
    empty = LexicalIndex([], [])
    assert len(empty) == 0 and empty.search("vpn", 5) == []


def test_scores_rank_best_first_and_k_limits() -> None:
    index = LexicalIndex(
        ["one", "two", "three"],
        ["vpn", "vpn vpn password reset", "password"],
    )
    hits = index.search("vpn password reset", 2)
    assert len(hits) == 2 and hits[0][0] == "two"
    assert hits[0][1] > hits[1][1] > 0
    assert {i for i, _ in index.search("vpn password reset", 10)} == {"one", "two", "three"}


def test_a_saved_index_loads_with_the_same_scores_paths_and_masks(tmp_path: Path) -> None:
    index = LexicalIndex(
        ["a1", "a2", "b1", "c1"],
        ["VPN password reset", "VPN client install", "経費精算の締め切り", "printer on floor 8"],
        ["it/vpn.md", "it/vpn.md", "ja/expense.md", "it/printer.md"],
    )
    index.save(tmp_path / "copy")
    loaded = LexicalIndex.load(tmp_path / "copy")
    for query in ("vpn password", "経費精算", "printer floor"):
        assert loaded.search(query, 4) == index.search(query, 4)
    assert [loaded.path(r) for r in range(4)] == [index.path(r) for r in range(4)] == [
        "it/vpn.md", "it/vpn.md", "ja/expense.md", "it/printer.md"]
    scores = loaded.scores("vpn")
    assert scores is not None
    assert loaded.top(loaded.masked(scores, frozenset({"it/vpn.md"})), 4) == []
    assert loaded.knows("経費") and not loaded.knows("cafeteria")


def test_an_empty_index_saves_and_loads(tmp_path: Path) -> None:
    LexicalIndex([], []).save(tmp_path / "empty")
    loaded = LexicalIndex.load(tmp_path / "empty")
    assert len(loaded) == 0 and loaded.search("vpn", 3) == []


def test_a_copy_from_another_format_is_refused(tmp_path: Path) -> None:
    LexicalIndex(["a"], ["VPN password reset"]).save(tmp_path / "copy")
    manifest = tmp_path / "copy" / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"format": 1', '"format": 0'))
    with pytest.raises(ValueError, match="format 0"):
        LexicalIndex.load(tmp_path / "copy")


def test_the_cache_keeps_the_newest_copy_of_each_store(tmp_path: Path) -> None:
    cache = LexicalCache(tmp_path)
    index = LexicalIndex(["a"], ["VPN password reset"])
    cache.put("kb@1", index, lambda name: name.startswith("kb@"))
    cache.put("other@1", index, lambda name: name.startswith("other@"))
    cache.put("kb@2", index, lambda name: name.startswith("kb@"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kb@2", "other@1"]
    crashed, writing = tmp_path / ".kb@3.1.1", tmp_path / ".kb@3.2.2"  # a writer died; one runs
    crashed.mkdir()
    writing.mkdir()
    os.utime(crashed, (time.time() - 7200, time.time() - 7200))
    cache.put("kb@2", index, lambda name: name.startswith("kb@"))  # another process won: fine
    assert not crashed.exists() and writing.exists()
    assert cache.get("kb@1") is None
    got = cache.get("kb@2")
    assert got is not None and got.search("vpn", 1) == [("a", index.search("vpn", 1)[0][1])]
