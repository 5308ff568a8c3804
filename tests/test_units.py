"""Direct tests of the search layer's parts, each on its own: the parser, the planner,
the rescoring bonuses, the acronym table and BM25 (the rest of the suite tests them
through whole searches)."""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import pytest
from whoosh import query as wq

from indexer import DEFAULT
from indexer.search.bm25 import bm25, idf
from indexer.search.parser import And, DateRange, Not, Or, Phrase, Word, parse, parse_date_bound
from indexer.search.plan import QueryBuilder
from indexer.search.rescore import AdjacentPairs, LeadTerms
from indexer.text.acronyms import load_acronyms

from .conftest import build_index


# --- parser --------------------------------------------------------------------------------
@pytest.mark.parametrize("text,tree", [
    ("mặt trận", And([Word("mặt"), Word("trận")])),
    ('"tập huấn" -covid', And([Phrase("tập huấn"), Not(Word("covid"))])),
    ("a OR b c", Or([Word("a"), And([Word("b"), Word("c")])])),
    ("(a OR b) c", And([Or([Word("a"), Word("b")]), Word("c")])),
    ("title:hội nghị", And([Word("hội", "title"), Word("nghị")])),
    ("tieude:abc", Word("abc", "title")),  # Vietnamese field names, typed without marks
    ("mặt*", Word("mặt", prefix=True)),
    ("huấn~2", Word("huấn", fuzzy=2)),
    ("F -16", And([Word("F"), Word("-16")])),  # a minus before a digit is part of the number
    ("NOT x", Not(Word("x"))),
    ("date:>=2021", DateRange(datetime(2021, 1, 1), None)),
    ("date:[2019-01-01 to 2020-12-31]", DateRange(datetime(2019, 1, 1), datetime(2020, 12, 31, 23, 59, 59))),
])
def test_the_parser_reads_the_query_language(text, tree):
    assert parse(text) == (tree, [])


@pytest.mark.parametrize("text", ["((((", ")", "-", "OR", "AND OR NOT", "title:", "date:[", '"', "\x00"])
def test_the_parser_never_fails(text):
    node, notices = parse(text)
    assert node is None or isinstance(node, (Word, Phrase, Not, And, Or, DateRange))
    assert isinstance(notices, list)


def test_date_bounds_cover_the_period_named():
    assert parse_date_bound("2020-02", end=True) == datetime(2020, 2, 29, 23, 59, 59)
    assert parse_date_bound("17/05/2020") == datetime(2020, 5, 17)
    assert parse_date_bound("2020-13") is None and parse_date_bound("hôm qua") is None


# --- planner --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def lexicon(tmp_path_factory):
    ix = build_index(tmp_path_factory.mktemp("units"), {
        "a": "Ủy ban Mặt trận Tổ quốc xã họp bàn.", "b": "Mặt khác, trận đấu có tổ chức.", "c": "Giá vàng tăng."})
    yield ix._snapshots.current().lexicon
    ix.close()


def _terms(q) -> list:
    if isinstance(q, (wq.Term, wq.Phrase)):
        return [q]
    if isinstance(q, wq.BinaryQuery):
        return _terms(q.a) + _terms(q.b)
    return [t for c in getattr(q, "subqueries", []) for t in _terms(c)]


def test_an_accented_syllable_must_match_exactly_and_an_unaccented_one_folded(lexicon):
    plan = QueryBuilder(lexicon, load_acronyms(), accented=True).build(parse("trận")[0])
    assert {t.fieldname for t in _terms(plan.query)} == {"title", "body", "author"}
    plan = QueryBuilder(lexicon, load_acronyms()).build(parse("tran")[0])
    fields = {t.fieldname: t.boost for t in _terms(plan.query)}
    assert fields["body_fold"] == DEFAULT.ranking.fold_weight and fields["body"] == DEFAULT.ranking.exact_bonus
    assert plan.words == [("tran", "tran", True)]  # what did-you-mean may correct


def test_a_topics_words_score_every_match_and_marks_are_what_is_searched(lexicon):
    plan = QueryBuilder(lexicon, load_acronyms()).build(parse("mặt trận tổ quốc -vàng")[0])
    assert isinstance(plan.query, wq.AndNot)  # the excluded word filters ...
    assert all(("exact", "vàng") not in mark for mark in plan.marks)  # ... and is not marked
    # A short run: its pairs and itself are scored on every match, before the top is chosen,
    # exact (typed with marks), each with its own IDF; the acronym counts as the phrase.
    assert not [r for r in plan.rescore if isinstance(r, AdjacentPairs)]
    shingles = plan.proximity
    assert [p.field for p in shingles] == ["title", "body"]
    assert shingles[0].syllables == ["mặt", "trận", "tổ", "quốc"] and shingles[0].own_idf
    assert shingles[0].forms == [["mttq"]]
    assert shingles[0].boost == DEFAULT.ranking.field_weights["title"] * DEFAULT.ranking.shingle_weight
    compounds = [r for r in plan.rescore if isinstance(r, wq.Term) and r.fieldname.endswith("_word")]
    assert {r.text for r in compounds} >= {"mặt_trận", "tổ_quốc"}  # pyvi's words, as bonuses only
    folded = QueryBuilder(lexicon, load_acronyms()).build(parse("mat tran to quoc")[0]).proximity
    assert [p.field for p in folded] == ["title_fold", "body_fold"] and folded[0].forms == [["mttq"]]


def test_a_headline_adjacency_only_rescores_the_top(lexicon):
    plan = QueryBuilder(lexicon, load_acronyms(), any_terms=True).build(
        parse("giá vàng hôm nay tăng mạnh trên thị trường thế giới")[0])
    assert not plan.proximity
    pairs = [r for r in plan.rescore if isinstance(r, AdjacentPairs)]
    assert [p.field for p in pairs] == ["title_fold", "body_fold"] and not pairs[0].own_idf
    assert pairs[0].syllables[:3] == ["gia", "vang", "hom"]
    assert pairs[0].boost == DEFAULT.ranking.field_weights["title"] * DEFAULT.ranking.pair_weight


def test_an_acronym_and_its_expansion_are_alternatives_weighed_as_the_typed_form(lexicon):
    plan = QueryBuilder(lexicon, load_acronyms(), accented=True).build(parse("MTTQ")[0])
    phrases = [t for t in _terms(plan.query) if isinstance(t, wq.Phrase)]
    assert {tuple(p.words) for p in phrases} == {("mặt", "trận", "tổ", "quốc")}
    # Scaled by the typed form's IDF mass over the expansion's: one concept.
    scale = phrases[0].boost / DEFAULT.ranking.field_weights[phrases[0].fieldname]
    assert scale == pytest.approx(lexicon.idf("body", "mttq") / sum(
        lexicon.idf("body", s) for s in ("mặt", "trận", "tổ", "quốc")))
    assert plan.marks[0] == (("exact", "mttq"),)


def test_limits_come_from_the_config(lexicon):
    from dataclasses import replace

    config = replace(DEFAULT, limits=replace(DEFAULT.limits, max_words=2))
    plan = QueryBuilder(lexicon, load_acronyms(), config=config).build(parse("a b c d")[0])
    assert len(plan.words) == 2 and plan.notices == ["Truy vấn quá dài: chỉ dùng 2 từ đầu tiên."]


# --- rescoring ------------------------------------------------------------------------------
def test_adjacent_pairs_count_syllables_next_to_each_other_in_order(tmp_path):
    ix = build_index(tmp_path, {"near": "Giá vàng tăng mạnh.", "far": "Trị giá lô vàng này.", "rev": "Vàng giá rẻ."})
    snap = ix._snapshots.current()
    docs = {snap.searcher.stored_fields(d)["id"]: d for d in range(snap.searcher.doc_count_all())}
    pairs = AdjacentPairs("body_fold", ["gia", "vang"], boost=1.0)
    found = pairs.scores(snap.lexicon, snap.segments, sorted(docs.values()), DEFAULT.ranking)
    assert set(found) == {docs["near.txt"]}  # "trị giá ... vàng" and "vàng giá" are not the pair
    lead = LeadTerms("body_fold", ["vang"], lead=2, boost=1.0)  # only the first two syllables count
    early = lead.scores(snap.lexicon, snap.segments, sorted(docs.values()), DEFAULT.ranking)
    assert set(early) == {docs["near.txt"], docs["rev.txt"]}
    ix.close()


# --- acronyms and BM25 ----------------------------------------------------------------------
def test_the_acronym_table_matches_both_ways(tmp_path):
    table = load_acronyms()
    assert table.match(["mttq"], 0) == (1, (("mttq",), ("mặt", "trận", "tổ", "quốc")))
    assert table.match(["uy", "ban", "nhan", "dan", "xa"], 0)[0] == 4  # the longest form wins
    assert table.match(["xa"], 0) is None
    own = tmp_path / "acronyms.txt"
    own.write_text("# ours\nBQL = Ban quản lý\n", encoding="utf-8")
    assert set(load_acronyms(own).match(["bql"], 0)[1]) == {("bql",), ("ban", "quản", "lý")}
    assert load_acronyms(own).match(["ban", "quan", "ly"], 0)[0] == 3  # the expansion finds the acronym


def test_bm25_is_whooshs():
    from whoosh.scoring import bm25 as whoosh_bm25

    tf, length = np.array([1.0, 3.0]), np.array([10.0, 40.0])
    got = bm25(2.5, tf, length, 20.0, 0.75, 1.2)
    assert got.tolist() == [whoosh_bm25(2.5, t, fl, 20.0, 0.75, 1.2) for t, fl in zip(tf, length)]
    assert idf(100, 9) == math.log(100 / 10) + 1 and idf(0, 0) == 1.0  # an empty index still plans


def test_a_reading_scores_the_shingles_written_so_again(tmp_path):
    ix = build_index(tmp_path, {"right": "Giá vàng tăng.", "other": "Gia vang tăng.", "far": "Giá cả và vàng."})
    snap = ix._snapshots.current()
    docs = {snap.searcher.stored_fields(d)["id"]: d for d in range(snap.searcher.doc_count_all())}
    candidates = sorted(docs.values())
    plain = AdjacentPairs("body_fold", ["gia", "vang"], boost=0.0, phrase_boost=1.0, own_idf=True)
    read = AdjacentPairs("body_fold", ["gia", "vang"], boost=0.0, phrase_boost=1.0, own_idf=True,
                         readings=[(("giá", "vàng"), 0.5)])
    before = plain.scores(snap.lexicon, snap.segments, candidates, DEFAULT.ranking)
    after = read.scores(snap.lexicon, snap.segments, candidates, DEFAULT.ranking)
    assert set(before) == set(after) == {docs["right.txt"], docs["other.txt"]}  # "giá cả và vàng": no pair
    assert before[docs["right.txt"]] == pytest.approx(before[docs["other.txt"]])
    assert after[docs["other.txt"]] == pytest.approx(before[docs["other.txt"]])  # written otherwise: as before
    assert after[docs["right.txt"]] > before[docs["right.txt"]]  # written so: half as much again (own IDF)
    ix.close()
