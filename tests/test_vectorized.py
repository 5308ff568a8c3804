"""The vectorised search path (posting arrays + NumPy) against Whoosh's own matchers.

Both paths run on the same real index on disk; every query must give the
same documents in the same order with the same scores, the same totals and
the same facets.  The index is built from the seeds and fixtures cut into
many short articles with varied lengths, dates, categories, decomposed
Unicode and old tone placement, in several segments, with deletions.
"""

from __future__ import annotations

import random

import numpy as np
import shutil
import unicodedata
from pathlib import Path

import pytest

from indexer import open_index
from indexer.store.arrays_read import SegmentArrays
from indexer.store.arrays_write import build_missing
from indexer.search.engine import Index
from indexer.store.generations import current_generation

from .conftest import FIXTURES, SEEDS

QUERIES = [
    "mặt trận", "mat tran", "Mặt trận Tổ quốc", "mat tran to quoc", "MTTQ", "UBND tỉnh", "uỷ ban", "ủy ban",
    "hoà giải", "hoa giai", '"mặt trận tổ quốc"', '"mat tran"', "đại hội -huyện", "nhân dân date:2021",
    "cán bộ date:[2020-01-01 to 2020-12-31]", "xã", "ban", "bàn", "covid-19", "tổ chức hội nghị",
    "title:mặt", "đoàn kết OR hoà giải", "hội*", "thanh nien~", "khu dân cư chuyenmuc:thoi-su",
    "tp.hcm", "đại đoàn kết toàn dân tộc", "không có từ này xyzzy", "-xã", "date:2021", '"mat tr*"', '"đoàn k*"',
]


def _articles(target: Path, n: int = 160, seed: int = 7) -> None:
    """Short articles cut from the shipped texts, with the spellings readers meet."""
    sentences = []
    for f in sorted(list(SEEDS.glob("*.txt")) + list((FIXTURES / "articles").glob("*.txt"))):
        lines = f.read_text(encoding="utf-8").splitlines()[2:]
        for line in lines:
            sentences += [s.strip() for s in line.split(".") if len(s.split()) >= 4]
    rng = random.Random(seed)
    target.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        body = ". ".join(rng.sample(sentences, rng.randint(1, 12))) + "."
        if i % 7 == 0:
            body = unicodedata.normalize("NFD", body)
        if i % 5 == 0:
            body = body.replace("Ủy ban", "Uỷ ban").replace("hòa", "hoà")
        title = " ".join(rng.choice(sentences).split()[:8])
        date = f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.choice([2019, 2020, 2021])}"
        (target / f"a{i:03d}.txt").write_text(f"{title}\n{date}\n{body}\nPV\n", encoding="utf-8")


def _same(fast: Index, slow: Index, query: str, **kwargs) -> None:
    a = fast.search(query, facets=True, per_page=20, **kwargs)
    b = slow.search(query, facets=True, per_page=20, **kwargs)
    assert [h.id for h in a.hits] == [h.id for h in b.hits], query
    assert [h.score for h in a.hits] == pytest.approx([h.score for h in b.hits], rel=1e-6, abs=1e-3), query
    assert [h.snippet for h in a.hits] == [h.snippet for h in b.hits], query
    if b.total_relation == "eq":
        assert (a.total, a.total_relation) == (b.total, "eq"), query
        assert a.facets == b.facets, query
    assert (a.suggestion, a.notice) == (b.suggestion, b.notice), query


@pytest.fixture(scope="module")
def two_paths(tmp_path_factory):
    base = tmp_path_factory.mktemp("vec")
    articles = base / "articles"
    _articles(articles)
    index_dir = base / "index"
    open_index(index_dir).update([articles], jobs=2)           # two worker segments
    extra = base / "extra"
    _articles(extra, n=30, seed=8)
    for f in list(extra.iterdir())[:10]:
        f.rename(f.with_name("x" + f.name))
    (articles / "a001.txt").unlink()                            # a deletion
    open_index(index_dir).update([articles, extra], jobs=1)     # an update: one more segment
    # Small segments are merged by updates (which drops deletions); a big segment keeps
    # its deleted documents, as Whoosh does here when asked not to merge.
    from whoosh import index as whoosh_index

    ix = whoosh_index.open_dir(str(current_generation(index_dir)), indexname="MAIN")
    writer = ix.writer()
    assert writer.delete_by_term("id", "a002.txt") == 1
    writer.commit(merge=False)
    ix.close()
    fast, slow = Index(index_dir), Index(index_dir, vectorized=False)
    yield fast, slow, index_dir
    fast.close()
    slow.close()


def test_the_index_has_arrays_for_every_segment_and_search_uses_them(two_paths):
    fast, slow, index_dir = two_paths
    fast.search("xã")
    segments = fast._local.segments
    assert segments is not None and len(segments) >= 2
    assert any(seg.live is not None for seg in segments)  # the deleted article is masked
    gen = current_generation(index_dir)
    assert len(list(gen.glob("vec_*"))) == len(segments)
    assert slow.search("xã") and slow._local.segments is None


@pytest.mark.parametrize("query", QUERIES)
def test_vectorised_results_equal_whoosh_results(two_paths, query):
    fast, slow, _ = two_paths
    _same(fast, slow, query)
    _same(fast, slow, query, mode="any")


@pytest.mark.parametrize("query", ["mặt trận", "nhân dân", "xã"])
def test_date_sort_and_category_filter_equal_whoosh(two_paths, query):
    fast, slow, _ = two_paths
    _same(fast, slow, query, date_from="2020", date_to="2021-06")
    a = fast.search(query, sort="date", per_page=30)
    b = slow.search(query, sort="date", per_page=30)
    assert [h.date for h in a.hits] == sorted([h.date for h in a.hits], reverse=True)
    assert [h.date for h in a.hits] == [h.date for h in b.hits]
    category = next(iter(fast.search(query, facets=True).facets["category"]), None)
    if category:
        _same(fast, slow, query, category=category)


def test_long_questions_rescore_the_same(two_paths, monkeypatch):
    import indexer.search.plan as querybuild

    # Whoosh's path lets only the rarest MAX_ANY_CLAUSES words pick candidates (the
    # vectorised one scores them all); with no limit both evaluate the same plan.
    monkeypatch.setattr(querybuild, "MAX_ANY_CLAUSES", 64)
    fast, slow, _ = two_paths
    for query in ["Mặt trận Tổ quốc Việt Nam các cấp đã làm gì để đoàn kết nhân dân trong khu dân cư?",
                  "cong tac giam sat va phan bien xa hoi cua mat tran"]:
        _same(fast, slow, query, mode="any")


def test_a_segment_without_arrays_is_searched_by_whoosh(two_paths, tmp_path):
    _, slow, index_dir = two_paths
    copy = tmp_path / "copy"
    shutil.copytree(index_dir, copy)
    gen = current_generation(copy)
    victim = sorted(gen.glob("vec_*"))[0]
    shutil.rmtree(victim)
    ix = Index(copy)
    res = ix.search("mặt trận", per_page=20)
    assert ix._local.segments is None
    assert [h.id for h in res.hits] == [h.id for h in slow.search("mặt trận", per_page=20).hits]
    # The next update builds what is missing.
    assert build_missing(gen, "MAIN") == [victim.name[4:]]
    ix2 = Index(copy)
    ix2.search("mặt trận")
    assert ix2._local.segments is not None


def test_arrays_written_with_a_segment_equal_arrays_read_back_from_it(two_paths, tmp_path):
    """Segment writers build the arrays from the postings they write (no read-back); the
    files must be byte for byte what reading the finished segment gives (build_missing)."""
    _, _, index_dir = two_paths
    copy = tmp_path / "copy"
    shutil.copytree(index_dir, copy)
    gen = current_generation(copy)
    from whoosh import index as whoosh_index

    # A deletion after writing (the fixture's last step) leaves the written arrays as they
    # were (searches mask the document); reading back skips it: compare the others.
    with whoosh_index.open_dir(str(gen), indexname="MAIN").reader() as reader:
        deleted = {leaf.segment().segid for leaf, _ in reader.leaf_readers() if leaf.has_deletions()}
    assert deleted
    written = {d.name: {f.name: f.read_bytes() for f in d.iterdir()} for d in gen.glob("vec_*")
               if d.name[4:] not in deleted}
    assert len(written) >= 2
    for name in written:
        shutil.rmtree(gen / name)
    assert sorted(build_missing(gen, "MAIN")) == sorted(name[4:] for name in written)
    read_back = {name: {f.name: f.read_bytes() for f in (gen / name).iterdir()} for name in written}
    assert read_back == written


def test_arrays_hold_what_whoosh_holds(two_paths):
    """Every term's postings and positions, read back from the arrays, equal Whoosh's."""
    _, slow, index_dir = two_paths
    searcher = slow._searcher()
    gen = current_generation(index_dir)
    checked = 0
    for leaf, _ in searcher.reader().leaf_readers():
        arrays = SegmentArrays.open(gen, leaf.segment().segid)
        assert arrays is not None and arrays.doc_count == leaf.doc_count_all()
        for field in ("title", "body", "body_word"):
            for i, btext in enumerate(leaf.lexicon(field)):
                if i % 7:
                    continue
                text = btext.decode("utf-8")
                m = leaf.postings(field, btext)
                expected = []
                while m.is_active():
                    poses = m.value_as("positions") if field != "body_word" else []
                    expected.append((m.id(), m.weight(), list(poses)))
                    m.next()
                p = arrays.postings(arrays.term_ids(field, text))
                got_pos = {}
                if field != "body_word":
                    owner, pos = p.positions(np.arange(len(p.docs)))
                    for o, q in zip(owner.tolist(), pos.tolist()):
                        got_pos.setdefault(int(p.docs[o]), []).append(q)
                got = [(int(d), float(t), got_pos.get(int(d), [])) for d, t in zip(p.docs, p.tfs)
                       if not leaf.is_deleted(int(d))]  # the arrays keep deleted documents; search masks them
                assert got == expected, (field, text)
                checked += 1
    assert checked > 200


def test_positions_read_in_runs_give_the_same_results(two_paths, monkeypatch):
    """Rescoring reads the positions of a few candidates spread over a common word's
    positions run by run (READ_GAP); with tiny runs every query must still agree."""
    import indexer.store.arrays_read as postings

    fast, slow, _ = two_paths
    monkeypatch.setattr(postings, "READ_GAP", 1)
    monkeypatch.setattr(postings, "READ_DENSITY", 0)
    calls = []
    real_read = postings._Column.read
    monkeypatch.setattr(postings._Column, "read", lambda self, lo, hi: calls.append(hi - lo) or real_read(self, lo, hi))
    for query in ['"mặt trận tổ quốc"', '"mat tran"', "đại đoàn kết toàn dân tộc", "cong tac giam sat"]:
        _same(fast, slow, query)
        _same(fast, slow, query, mode="any")
    assert calls and min(calls) == 1  # single entries were read on their own


def test_a_search_in_flight_keeps_its_arrays_when_another_thread_sees_a_rebuild(tmp_path):
    """Found by reliability/load.py: a thread that noticed a new generation closed the old
    generation's array files while another thread was still searching them (a 500)."""
    import threading

    articles = tmp_path / "articles"
    _articles(articles, n=20)
    ix = Index(tmp_path / "index")
    ix.update([articles], jobs=1)
    assert ix.search("xã").total >= 0
    in_flight = ix._local.segments  # what a search running in this thread is holding
    ix.update([articles], rebuild=True, jobs=1)
    seen = []
    worker = threading.Thread(target=lambda: seen.append(ix.search("xã").total))
    worker.start()
    worker.join()
    assert seen and ix._local.segments is in_flight  # this thread has not refreshed yet
    arrays = in_flight[0].arrays
    assert len(arrays.postings(arrays.term_ids("body", "xã")).docs) == seen[0]
