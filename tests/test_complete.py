"""Type-ahead (issue 22): whole accented phrases the titles hold, most frequent first."""

from __future__ import annotations

import json

import pytest

from indexer import open_index

TITLES = (
    ["Hà Nội cấm xe máy giờ cao điểm", "Hà Nội mưa lớn", "Tin Hà Nội hôm nay", "Hà Nội: giá vàng tăng"]
    + ["Hà Nam khánh thành cầu mới", "Đoàn công tác về Hà Nam"]
    + ["Mặt trận Tổ quốc tỉnh họp", "Ủy ban Mặt trận Tổ quốc trao quà", "Mặt trời mọc sớm"]
    + ["Giá vàng giảm mạnh", "Giá vàng hôm nay", "Giá vé máy bay Tết"]
    + ["UBND tỉnh họp báo", "Chủ tịch UBND xã bị kỷ luật", "Hà nguyên tố"]
)


def build(tmp_path, titles):
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps({"id": f"a{i}", "title": t, "body": "Nội dung bài viết số " + str(i)},
                                       ensure_ascii=False) + "\n" for i, t in enumerate(titles)), encoding="utf-8")
    ix = open_index(tmp_path / "ix")
    ix.update([feed], jobs=1)
    return ix, feed


@pytest.mark.parametrize("typed", ["hà n", "ha n", "Hà N"])
def test_whole_accented_phrases_most_frequent_first_with_or_without_diacritics(tmp_path, typed):
    ix, _ = build(tmp_path, TITLES)
    found = ix.complete(typed)
    assert found[:2] == ["hà nội", "hà nam"], found  # 4 titles, then 2; never "ha noi" or "hà nguoi"
    assert all(c.startswith("hà n") for c in found)


def test_a_syllable_typed_with_diacritics_must_be_written_so(tmp_path):
    ix, _ = build(tmp_path, TITLES)
    found = ix.complete("giá v")
    assert found[0] == "giá vàng" and "giá vé máy bay" in found, found  # 3 titles, then 1
    assert ix.complete("mặt tr")[0] == "mặt trận tổ quốc"  # "mặt trận" only ever stands in it
    assert all(not c.startswith("mặt trời") for c in ix.complete("mặt trậ"))
    assert set(ix.complete("mat tr")[:2]) == {"mặt trận tổ quốc", "mặt trời mọc sớm"}  # 2 titles, then 1
    assert ix.complete("hà nộ x") == [] or all(c.startswith("hà nộ x") for c in ix.complete("hà nộ x"))


def test_acronyms_in_capitals_and_what_comes_before_the_phrase_kept_as_typed(tmp_path):
    ix, _ = build(tmp_path, TITLES)
    assert ix.complete("ubn")[0] == "UBND"
    assert ix.complete("Tin tức hà n")[0] == "Tin tức hà nội"
    assert ix.complete("giá vàng ") and all(c.startswith("giá vàng ") for c in ix.complete("giá vàng "))
    assert ix.complete("") == [] and ix.complete("   ") == [] and ix.complete("zzzz qqq") == []
    assert len(ix.complete("h", limit=3)) == 3 and ix.complete("h", limit=0) == []


def test_removed_articles_leave_the_completions_at_the_next_generation(tmp_path):
    ix, feed = build(tmp_path, TITLES)
    assert "hà nam" in ix.complete("hà n")
    kept = [t for t in TITLES if "Hà Nam" not in t]
    feed.write_text("".join(json.dumps({"id": f"b{i}", "title": t, "body": "Nội dung " + str(i)},
                                       ensure_ascii=False) + "\n" for i, t in enumerate(kept)), encoding="utf-8")
    ix.update([feed], jobs=1)
    assert "hà nam" not in ix.complete("hà n") and ix.complete("hà n")[0] == "hà nội"


def test_a_large_index_keeps_phrases_of_two_titles_or_more(tmp_path):
    from indexer.search.complete import build_phrases

    ix, _ = build(tmp_path, TITLES)
    snap = ix._snapshots.current()
    table = build_phrases(snap.segments, snap.doc_count, min_titles=2)
    assert "hà nội" in table.shown and "hà nam" in table.shown and "mặt trời" not in table.shown
    assert table.counts[table.shown.index("hà nội")] == 4
