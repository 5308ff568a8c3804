"""The derived ``*_fold`` fields answer what real folded postings would.

The index here is written the way the indexer wrote it before schema 4, with
real postings in the folded fields, so Whoosh's own statistics and matchers
over them are the reference.  ``search.lexicon.Lexicon`` derives the same from
the exact fields' posting arrays: frequencies, lengths, term lists; the engine's
evaluation and the oracle's Whoosh matchers (``tests/oracle.py``) give the
documents and scores of folded terms and phrases, in a two-segment index with a
deleted document.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz.distance import OSA
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.support.levenshtein import distance as whoosh_distance

from indexer.config import DEFAULT
from indexer.ingest import Article, iter_articles
from indexer.search.evaluate import Segment, evaluate
from indexer.search.lexicon import Lexicon
from indexer.store.arrays_read import SegmentArrays
from indexer.store.documents import analyze_article
from indexer.store.fields import TermListText
from indexer.store.schema import INDEX_NAME, DerivedFoldText, make_schema
from indexer.store.segment_writer import FastSegmentWriter
from indexer.text.normalize import fold
from indexer.text.syllables import tone_last

from .conftest import FIXTURES, SEEDS
from .oracle import FoldPhrase, FoldTerm, weighting

FOLDED = ("title_fold", "body_fold")
# Spellings that fold together, in one article each (and a few together).
EXTRA = ["Hoà bình hòa giải hoá học Hóa đơn", "thanh niên thành phố thánh thần Thạnh Mỹ", "ban bàn bán bạn bản bận",
         "Mặt trận mát mẻ mật ong mắt sáng", "hoa hoà hoá hỏa hóa thành thanh"]


def _real_fold_schema():
    schema = make_schema()
    for name in schema.names():
        field = schema[name]
        if isinstance(field, DerivedFoldText):
            schema._fields[name] = TermListText(analyzer=field.analyzer, phrase=True)
    return schema


def _documents() -> list[dict]:
    articles = [a for a in iter_articles([SEEDS, FIXTURES / "articles"]) if isinstance(a, Article)]
    articles += [Article(id=f"extra{i}", title=t.split()[0], body=t) for i, t in enumerate(EXTRA)]
    docs = []
    for a in articles:
        doc = analyze_article(a)
        for name in ("title", "body", "author"):
            doc[name + "_fold"] = [fold(s) for s in doc[name]]
        docs.append(doc)
    return docs


@pytest.fixture(scope="module")
def real_folds(tmp_path_factory):
    path = tmp_path_factory.mktemp("folds")
    ix = whoosh_index.create_in(path, _real_fold_schema(), indexname=INDEX_NAME)
    docs = _documents()
    half = len(docs) // 2
    for part in (docs[:half], docs[half:]):  # two segments, each with its posting arrays
        writer = FastSegmentWriter(ix, arrays=True, compound=False)
        for doc in part:
            writer.add_document(**doc)
        writer.commit(merge=False)
    writer = ix.writer()
    assert writer.delete_by_term("id", "extra4") == 1
    writer.commit(merge=False)
    searcher = ix.searcher(weighting=weighting())
    reader = searcher.reader()
    segments = []
    for leaf, offset in reader.leaf_readers():
        arrays = SegmentArrays.open(path, leaf.segment().segid)
        assert arrays is not None
        live = None
        if leaf.has_deletions():
            live = np.zeros(arrays.doc_count, dtype=bool)
            live[list(leaf.all_doc_ids())] = True
        segments.append(Segment(arrays, offset, live))
    assert len(segments) == 2 and any(s.live is not None for s in segments)
    yield searcher, segments
    searcher.close()


@pytest.fixture
def lexicon(real_folds):
    searcher, segments = real_folds
    return Lexicon(searcher.reader(), segments)


def _real_terms(reader, field: str, prefix: str = "") -> list[str]:
    return [b.decode("utf-8") for b in reader.expand_prefix(field, prefix)]


def test_frequencies_lengths_and_terms_equal_real_folded_postings(real_folds, lexicon):
    searcher, _ = real_folds
    reader = searcher.reader()
    for field in FOLDED:
        terms = _real_terms(reader, field)
        assert len(terms) > 100
        assert list(lexicon.expand_prefix(field, "")) == terms
        for prefix in ("t", "th", "hoa", "ng", "zz"):
            assert list(lexicon.expand_prefix(field, prefix)) == _real_terms(reader, field, prefix)
        for t in terms:
            assert lexicon.doc_frequency(field, t) == reader.doc_frequency(field, t), t
            assert lexicon.idf(field, t) == pytest.approx(searcher.idf(field, t)), t
            assert all(fold(v) == t for v in lexicon.variants(field, t))
        assert lexicon.field_length(field) == reader.field_length(field)
        assert lexicon.avg_field_length(field) == pytest.approx(searcher.avg_field_length(field))
        for word in ("thanh", "hoa", "mat", "nhan"):
            assert sorted(lexicon.terms_within(field, word, 1, prefix=1)) == \
                sorted(reader.terms_within(field, word, 1, prefix=1))
    # Several variants in one document count it once (the union's frequency).
    assert lexicon.variants("body_fold", "hoa") == ["hoà", "hoá", "hỏa"] or \
        set(lexicon.variants("body_fold", "hoa")) >= {"hoà", "hoá"}
    assert lexicon.doc_frequency("body_fold", "hoa") < sum(
        reader.doc_frequency("body", v) for v in lexicon.variants("body_fold", "hoa"))


def test_terms_within_equal_whoosh_pure_python_distance(real_folds, lexicon):
    """Did-you-mean and fuzzy words read ``terms_within``: the arrays' term tables with
    rapidfuzz's distance give Whoosh's terms, in Whoosh's order, on every field."""
    searcher, _ = real_folds
    reader = searcher.reader()
    words = ["thanh", "hoa", "mat", "nhan", "thnah", "tâp", "huấn", "mặt", "trậm", "ahnh", "xyz", "t"]
    for field in ("title", "body", "author") + FOLDED:
        real = field if field not in FOLDED else None
        checked = 0
        for word in words:
            for maxdist in (1, 2):
                got = list(lexicon.terms_within(field, word, maxdist, prefix=1))
                if real:
                    terms = [b.decode("utf-8") for b in reader.expand_prefix(field, word[:1])]
                else:
                    terms = _real_terms(reader, field, word[:1])
                want = [t for t in terms if whoosh_distance(t, word, limit=maxdist) <= maxdist]
                assert got == want, (field, word, maxdist)
                checked += len(want)
        assert checked > 20, field


def test_close_terms_count_a_tone_mark_as_one_letter(real_folds, lexicon):
    """Did-you-mean's candidates: the index spells "hoà" (tone on the a); a reader's
    "hhòa" is one edit from it once the tone is moved to the end, three as written."""
    searcher, _ = real_folds
    reader = searcher.reader()
    assert "hoà" in lexicon.close_terms("body", "hhòa", 1)
    assert "hoà" not in list(lexicon.terms_within("body", "hhòa", 1, prefix=1))
    assert "hoà" in lexicon.close_terms("body", "hoàà", 1)  # one edit as written, two tone-last
    for field in ("title", "body") + FOLDED:
        for word in ("hhòa", "thnah", "mặtt", "bạnn", "hoa", "hòòa"):
            terms = _real_terms(reader, field, word[:1])
            want = [t for t in terms if min(whoosh_distance(tone_last(t), tone_last(word), limit=1),
                                            whoosh_distance(t, word, limit=1)) <= 1]
            assert lexicon.close_terms(field, word, 1) == want, (field, word)


_LETTERS = st.text(alphabet="ahntgiuoàậấặơư", max_size=8)


@settings(max_examples=400, deadline=None)
@given(_LETTERS, _LETTERS, st.integers(min_value=1, max_value=3))
def test_rapidfuzz_osa_decides_as_whoosh_distance(a, b, limit):
    """Whoosh's early exit (``limit``) and transposition rule give rapidfuzz's OSA verdict."""
    assert (OSA.distance(a, b, score_cutoff=limit) <= limit) == (whoosh_distance(a, b, limit=limit) <= limit)
    assert OSA.distance(a, b) == whoosh_distance(a, b)


def _ranked(searcher, q) -> list[tuple[int, float]]:
    return [(h.docnum, h.score) for h in searcher.search(q, limit=None)]


def _same(a: list[tuple[int, float]], b: list[tuple[int, float]]) -> None:
    assert [d for d, _ in a] == [d for d, _ in b]
    assert [s for _, s in a] == pytest.approx([s for _, s in b], rel=1e-9)


def test_folded_terms_and_phrases_match_and_score_as_real_postings(real_folds, lexicon):
    searcher, segments = real_folds
    reader = searcher.reader()
    words = _real_terms(reader, "body_fold")[::3] + ["hoa", "thanh", "ban", "mat"]
    for word in words:
        for boost in (1.0, 0.8):
            real = _ranked(searcher, wq.Term("body_fold", word, boost=boost))
            assert real, word
            _same(_ranked(searcher, FoldTerm("body_fold", word, lexicon, boost=boost)), real)
            docs, scores, _ = evaluate(wq.Term("body_fold", word, boost=boost), lexicon, DEFAULT.ranking, segments)
            got = sorted(zip(docs.tolist(), scores.tolist()))
            assert [d for d, _ in got] == sorted(d for d, _ in real)
            assert [s for _, s in got] == pytest.approx([s for _, s in sorted(real)], rel=1e-6)
    phrases = [["mat", "tran"], ["to", "quoc"], ["thanh", "pho"], ["hoa", "giai"], ["nhan", "dan", "viet"],
               ["mat", "zzz"], ["ban", "ban"]]
    for title in reader.all_stored_fields():
        syllables = [fold(s) for s in analyze_article(Article(id="x", title=title["title"], body="")).get("title")]
        if len(syllables) >= 3:
            phrases.append(syllables[:3])
    checked = 0
    for words in phrases:
        real = _ranked(searcher, wq.Phrase("body_fold", words))
        _same(_ranked(searcher, FoldPhrase("body_fold", words, lexicon)), real)
        docs, scores, _ = evaluate(wq.Phrase("body_fold", words), lexicon, DEFAULT.ranking, segments)
        assert sorted(docs.tolist()) == sorted(d for d, _ in real)
        checked += bool(real)
    assert checked >= 5


def test_a_folded_term_in_a_segment_with_deletions_skips_the_deleted_document(real_folds, lexicon):
    searcher, _ = real_folds
    deleted = [d for d in range(searcher.reader().doc_count_all()) if searcher.reader().is_deleted(d)]
    assert len(deleted) == 1
    found = {d for d, _ in _ranked(searcher, FoldTerm("body_fold", "hoa", lexicon))}
    assert found and deleted[0] not in found
    # ... while its frequency still counts it, as Whoosh counts a term's documents.
    assert lexicon.doc_frequency("body_fold", "hoa") == searcher.reader().doc_frequency("body_fold", "hoa")


def test_the_indexer_writes_no_folded_postings(tmp_path):
    from indexer import open_index

    ix = open_index(tmp_path / "ix")
    ix.update([SEEDS], jobs=1)
    reader = ix._snapshots.current().searcher.reader()
    assert list(reader.lexicon("body")) and not list(reader.lexicon("body_fold"))
    assert ix.search("mat tran to quoc").total == ix.search("Mặt trận Tổ quốc").total > 0
    with pytest.raises(ValueError):
        make_schema()["body_fold"].index(["mat"])


def test_a_full_page_prunes_folded_terms_by_a_true_bound(real_folds, lexicon):
    """Found by reliability/hostile.py: once a page is full, Whoosh's collector asks each
    matcher for the best score it could still give; folded terms must answer, and never
    below a score they give (the top of the ranking would change)."""
    searcher, _ = real_folds
    groups = [["thanh", "hoa", "mat", "ban"], ["nhan", "dan", "to", "quoc", "tran", "cong"]]
    for limit in (1, 2, 3):
        for boost in (1.0, 0.8, 3.0):  # an And of Ors, as "t* n*" expands to
            ours = wq.And([wq.Or([FoldTerm("body_fold", w, lexicon, boost=boost) for w in g]) for g in groups])
            real = wq.And([wq.Or([wq.Term("body_fold", w, boost=boost) for w in g]) for g in groups])
            _same([(h.docnum, h.score) for h in searcher.search(ours, limit=limit)],
                  [(h.docnum, h.score) for h in searcher.search(real, limit=limit)])
    # The bound holds for every document of every folded term, and is near the best score.
    ratios = []
    for word in _real_terms(searcher.reader(), "body_fold")[::5]:
        m = FoldTerm("body_fold", word, lexicon, boost=2.0).matcher(searcher)
        bound, best = m.max_quality(), 0.0
        while m.is_active():
            assert 0 < m.score() <= bound, word
            best = max(best, m.score())
            m.next()
        ratios.append(best / bound)
    assert max(ratios) > 0.5
