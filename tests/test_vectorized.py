"""The engine's one evaluation path (posting arrays + NumPy) against Whoosh's own matchers.

Both evaluate the same plans on the same real index on disk (``tests/oracle.py`` is
the Whoosh side): every query must match the same documents with the same scores,
every bonus must add the same to each candidate, the newest-first order and the
facet counts must be the same.  The index is built from the seeds and fixtures cut
into many short articles with varied lengths, dates, categories, decomposed Unicode
and old tone placement, in several segments, with deletions.
"""

from __future__ import annotations

import random
import shutil
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from indexer import Index, open_index
from indexer.search.collect import by_date, facets, per_doc
from indexer.search.evaluate import evaluate
from indexer.store.arrays_read import SegmentArrays
from indexer.store.arrays_write import build_missing
from indexer.store.generations import current_generation

from . import oracle
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


def _same(ix: Index, searcher, query: str, mode: str = "all", **kwargs) -> None:
    """The plan of ``query`` matches, scores, rescores, sorts by date and counts facets
    the same on the arrays as by Whoosh's matchers."""
    snap = ix._snapshots.current()
    plan = ix.plan(query, mode=mode, **kwargs)
    q = plan.whole()
    docs, scores, timed_out = evaluate(q, snap.lexicon, ix.config.ranking, snap.segments)
    ours = sorted(zip(docs.tolist(), scores.tolist()))
    theirs = oracle.evaluate(q, searcher, snap.lexicon)
    assert not timed_out and [d for d, _ in ours] == [d for d, _ in theirs], query
    assert [s for _, s in ours] == pytest.approx([s for _, s in theirs], rel=1e-6, abs=1e-9), query
    candidates = sorted(d for d, _ in sorted(ours, key=lambda ds: -ds[1])[:200])
    for bonus in plan.rescore:
        if hasattr(bonus, "scores"):
            got = bonus.scores(snap.lexicon, snap.segments, candidates, ix.config.ranking)
        else:
            found = dict(zip(*[a.tolist() for a in evaluate(bonus, snap.lexicon, ix.config.ranking,
                                                             snap.segments)[:2]]))
            got = {d: found[d] for d in candidates if d in found}
        want = oracle.rescore(bonus, searcher, snap.lexicon, candidates)
        assert sorted(got) == sorted(want), (query, bonus)
        assert [got[d] for d in sorted(got)] == pytest.approx([want[d] for d in sorted(want)], rel=1e-6), query
    matches = sorted(d for d, _ in ours)  # a short run's shingles score every match (own IDF)
    for shingles in plan.proximity:
        got = shingles.scores(snap.lexicon, snap.segments, matches, ix.config.ranking)
        want = oracle.rescore(shingles, searcher, snap.lexicon, matches)
        assert sorted(got) == sorted(want), (query, shingles)
        assert [got[d] for d in sorted(got)] == pytest.approx([want[d] for d in sorted(want)], rel=1e-6), query
    newest = by_date(docs, per_doc(snap.segments, docs, "date"), 20, ix._snapshots.id_order(snap))
    dates = [snap.searcher.stored_fields(d).get("date") for d in newest]
    assert dates == oracle.newest(q, searcher, snap.lexicon, 20), query
    assert facets(snap.segments, docs) == oracle.facets(q, searcher, snap.lexicon), query


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
    ix = Index(index_dir)
    searcher = oracle.open_searcher(index_dir)
    yield ix, searcher, index_dir
    ix.close()
    searcher.close()


def test_the_index_has_arrays_for_every_segment_and_search_uses_them(two_paths):
    ix, _, index_dir = two_paths
    ix.search("xã")
    segments = ix._snapshots.current().segments
    assert len(segments) >= 2
    assert any(seg.live is not None for seg in segments)  # the deleted article is masked
    assert len(list(current_generation(index_dir).glob("vec_*"))) == len(segments)


@pytest.mark.parametrize("query", QUERIES)
def test_plans_evaluate_as_whoosh_evaluates_them(two_paths, query):
    ix, searcher, _ = two_paths
    _same(ix, searcher, query)
    _same(ix, searcher, query, mode="any")


@pytest.mark.parametrize("query", ["mặt trận", "nhân dân", "xã"])
def test_dates_and_categories_filter_as_whoosh_filters(two_paths, query):
    from datetime import datetime

    ix, searcher, _ = two_paths
    _same(ix, searcher, query, date_from=datetime(2020, 1, 1), date_to=datetime(2021, 6, 30, 23, 59))
    res = ix.search(query, sort="date", per_page=30)
    assert [h.date for h in res.hits] == sorted([h.date for h in res.hits], reverse=True)
    category = next(iter(ix.search(query, facets=True).facets["category"]), None)
    if category:
        _same(ix, searcher, query, category=category)


def test_long_questions_rescore_the_same(two_paths):
    ix, searcher, _ = two_paths
    for query in ["Mặt trận Tổ quốc Việt Nam các cấp đã làm gì để đoàn kết nhân dân trong khu dân cư?",
                  "cong tac giam sat va phan bien xa hoi cua mat tran"]:
        _same(ix, searcher, query, mode="any")


def test_a_segment_without_arrays_gets_them_when_opened(two_paths, tmp_path):
    ix, _, index_dir = two_paths
    copy = tmp_path / "copy"
    shutil.copytree(index_dir, copy)
    gen = current_generation(copy)
    victim = sorted(gen.glob("vec_*"))[0]
    shutil.rmtree(victim)
    (victim.parent / (victim.name + ".tmp123")).mkdir()  # a killed build's leftover does not matter
    want = [(h.id, h.score) for h in ix.search("mặt trận", per_page=20).hits]
    again = Index(copy)
    assert [(h.id, h.score) for h in again.search("mặt trận", per_page=20).hits] == want
    assert (victim / "meta.json").exists()  # built beside the segment, for every later reader
    again.close()
    # A generation nobody may write to: built for this process alone (as root, run without
    # the capabilities that ignore folder modes).
    import json
    import os
    import subprocess
    import sys

    from .conftest import ROOT

    shutil.rmtree(victim)
    gen.chmod(0o555)
    prefix = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--inh-caps",
              "-dac_override,-dac_read_search"] if os.geteuid() == 0 else []
    try:
        out = subprocess.run([*prefix, sys.executable, "-m", "indexer.cli", "search", "mặt trận", "--index-dir",
                              str(copy), "--limit", "20", "--json"], capture_output=True, text=True, timeout=120,
                             env=dict(os.environ, PYTHONPATH=str(ROOT)))
        assert out.returncode == 0, out.stderr
        assert [(h["id"], h["score"]) for h in json.loads(out.stdout)["hits"]] == want
        assert not victim.exists()
    finally:
        gen.chmod(0o755)


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
    _, searcher, index_dir = two_paths
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

    ix, searcher, _ = two_paths
    monkeypatch.setattr(postings, "READ_GAP", 1)
    monkeypatch.setattr(postings, "READ_DENSITY", 0)
    calls = []
    real_read = postings._Column.read
    monkeypatch.setattr(postings._Column, "read", lambda self, lo, hi: calls.append(hi - lo) or real_read(self, lo, hi))
    for query in ['"mặt trận tổ quốc"', '"mat tran"', "đại đoàn kết toàn dân tộc", "cong tac giam sat"]:
        _same(ix, searcher, query)
        _same(ix, searcher, query, mode="any")
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
    in_flight = ix._snapshots.current().segments  # what a search running in this thread is holding
    ix.update([articles], rebuild=True, jobs=1)
    seen = []
    worker = threading.Thread(target=lambda: seen.append(ix.search("xã").total))
    worker.start()
    worker.join()
    assert seen and ix._snapshots._local.snapshot.segments is in_flight  # this thread has not refreshed yet
    arrays = in_flight[0].arrays
    assert len(arrays.postings(arrays.term_ids("body", "xã")).docs) == seen[0]
