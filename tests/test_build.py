import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from indexer import IndexBusyError, open_index
from indexer.store.generations import current_generation, writer_lock

from .conftest import ROOT

ARTICLE = "Tiêu đề {n}: Mặt trận xã Tân Lập số {n}\n01/0{m}/2021\nNội dung bài số {n} về công tác Mặt trận ở khu dân cư thứ {n}.\nThu Hà\n"


def test_incremental_update_counts(corpus_dir, tmp_path):
    ix = open_index(tmp_path / "ix")
    first = ix.update([corpus_dir], jobs=1)
    assert (first.added, first.updated, first.removed, first.unchanged) == (12, 0, 0, 0)
    assert first.rebuilt and ix.count() == 12

    second = ix.update([corpus_dir], jobs=1)
    assert (second.added, second.updated, second.removed, second.unchanged) == (0, 0, 0, 12)
    assert not second.rebuilt

    (corpus_dir / "moi.txt").write_text(ARTICLE.format(n=1, m=1), encoding="utf-8")
    changed = corpus_dir / "002_bc0217ec24ab4b99.txt"
    changed.write_text(changed.read_text(encoding="utf-8").replace("Sơn Tây", "Sơn Tây Xanh", 1), encoding="utf-8")
    (corpus_dir / "004_b988110fdcdce38a.txt").unlink()
    third = ix.update([corpus_dir], jobs=1)
    assert (third.added, third.updated, third.removed, third.unchanged) == (1, 1, 1, 10)
    assert ix.count() == 12
    assert ix.get("004_b988110fdcdce38a.txt") is None
    assert ix.get("moi.txt").title.startswith("Tiêu đề 1")
    assert ix.search("Sơn Tây Xanh").hits[0].id == "002_bc0217ec24ab4b99.txt"


def test_other_paths_are_left_alone(corpus_dir, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.txt").write_text(ARTICLE.format(n=9, m=2), encoding="utf-8")
    ix = open_index(tmp_path / "ix")
    ix.update([corpus_dir], jobs=1)
    report = ix.update([other], jobs=1)
    assert (report.added, report.removed) == (1, 0)
    assert ix.count() == 13


def test_malformed_files_are_reported_and_the_rest_indexed(corpus_dir, tmp_path):
    (corpus_dir / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (corpus_dir / "cp1258.txt").write_bytes("Tin H\u00e0 N\u00f4\u0323i\n01/01/2020\nN\u00f4\u0323i dung".encode("cp1258"))
    (corpus_dir / "empty.txt").write_bytes(b"")
    (corpus_dir / "chrome.txt").write_text("Các tin tức khác\ndanh mục tin tức\n", encoding="utf-8")
    (corpus_dir / "utf16.txt").write_bytes(ARTICLE.format(n=16, m=6).encode("utf-16"))
    (corpus_dir / "bad.jsonl").write_text('{"id": "ok1", "title": "Tốt", "body": "Bài tốt"}\n{broken\n', encoding="utf-8")
    ix = open_index(tmp_path / "ix")
    report = ix.update([corpus_dir], jobs=1)
    skipped = {os.path.basename(p.where.split(":")[0]): p.reason for p in report.skipped}
    assert set(skipped) == {"binary.txt", "empty.txt", "chrome.txt", "bad.jsonl"}
    assert "binary" in skipped["binary.txt"]
    warned = {os.path.basename(p.where): p.reason for p in report.warnings}
    assert set(warned) == {"ngay_sai.txt", "cp1258.txt"} and "Windows-1258" in warned["cp1258.txt"]
    assert report.added == 12 + 3  # utf16.txt, cp1258.txt and ok1
    assert ix.search("Nội dung").hits  # the Windows-1258 text reads as Vietnamese
    assert ix.search("Tiêu đề 16").hits[0].id == "utf16.txt"
    assert ix.get("ngay_sai.txt").date is None
    summary = report.summary()
    assert "binary.txt" in summary and "4 skipped" in summary


def test_a_file_that_turns_bad_keeps_its_old_version(corpus_dir, tmp_path):
    ix = open_index(tmp_path / "ix")
    ix.update([corpus_dir], jobs=1)
    (corpus_dir / "000_07d8e90914c7a84b.txt").write_bytes(b"\x00\x01\x02" * 100)
    report = ix.update([corpus_dir], jobs=1)
    assert report.removed == 0 and len(report.skipped) == 1
    assert ix.get("000_07d8e90914c7a84b.txt") is not None


def test_duplicate_ids_are_reported(tmp_path):
    src = tmp_path / "dup.jsonl"
    src.write_text('{"id": "a", "title": "Một", "body": "x"}\n{"id": "a", "title": "Hai", "body": "y"}\n', encoding="utf-8")
    report = open_index(tmp_path / "ix").update([src], jobs=1)
    assert report.added == 1 and "duplicate id" in report.skipped[0].reason


def test_rebuild_swaps_generation_and_keeps_searching(corpus_dir, tmp_path):
    ix = open_index(tmp_path / "ix")
    ix.update([corpus_dir], jobs=1)
    before = current_generation(tmp_path / "ix")
    assert ix.search("Sơn Tây").total >= 1
    report = ix.update([corpus_dir], rebuild=True, jobs=1)
    after = current_generation(tmp_path / "ix")
    assert report.rebuilt and after != before
    assert ix.search("Sơn Tây").total >= 1  # the same Index object follows the swap


def test_parallel_analysis_gives_the_same_index(corpus_dir, tmp_path):
    for n in range(80):
        (corpus_dir / f"gen{n:03d}.txt").write_text(ARTICLE.format(n=n, m=n % 9 + 1), encoding="utf-8")
    one = open_index(tmp_path / "one")
    two = open_index(tmp_path / "two")
    one.update([corpus_dir], jobs=1)
    two.update([corpus_dir], jobs=2)
    assert two.stats()["segments"] > 1  # really written by several workers
    for q in ("mat tran", "Tiêu đề 42", "khu dân cư"):
        # Same documents with the same scores (ties may be ordered differently:
        # they follow document numbers, which depend on the segment layout).
        a, b = one.search(q, per_page=100), two.search(q, per_page=100)
        assert a.total == b.total > 0
        assert sorted((h.score, h.id) for h in a.hits) == sorted((h.score, h.id) for h in b.hits)


def test_writer_lock_is_exclusive_and_released(tmp_path):
    with writer_lock(tmp_path):
        with pytest.raises(IndexBusyError):
            with writer_lock(tmp_path):
                pass
    with writer_lock(tmp_path):
        pass


def _spawn_index(args, cwd):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "indexer.cli", "index", *args, "-q"], cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_killed_rebuild_leaves_old_index_and_next_run_recovers(corpus_dir, tmp_path):
    ix_dir = tmp_path / "ix"
    ix = open_index(ix_dir)
    ix.update([corpus_dir], jobs=1)
    live = current_generation(ix_dir)
    big = tmp_path / "big"
    big.mkdir()
    for n in range(600):
        (big / f"a{n:04d}.txt").write_text(ARTICLE.format(n=n, m=n % 9 + 1) * 3, encoding="utf-8")
    proc = _spawn_index([str(big), "--rebuild", "--index-dir", str(ix_dir), "--jobs", "1"], tmp_path)
    deadline = time.time() + 60
    while time.time() < deadline:  # wait until the new generation is being written
        gens = [g for g in ix_dir.glob("gen-*") if (g != live and any(g.glob("*.seg"))) or
                (g != live and len(list(g.iterdir())) > 2)]
        if gens:
            break
        time.sleep(0.05)
    time.sleep(0.3)
    assert proc.poll() is None, "indexer finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert current_generation(ix_dir) == live
    assert ix.search("Sơn Tây").total >= 1 and ix.count() == 12
    report = ix.update([big], rebuild=True, jobs=2)
    assert report.added == 600 and ix.count() == 600
    assert [g.name for g in ix_dir.glob("gen-*")] and len(list(ix_dir.glob("gen-*"))) <= 2


def test_killed_incremental_update_leaves_old_index(corpus_dir, tmp_path):
    ix_dir = tmp_path / "ix"
    ix = open_index(ix_dir)
    ix.update([corpus_dir], jobs=1)
    for n in range(3000):  # enough work that the kill lands mid-run on a fast machine too
        (corpus_dir / f"a{n:04d}.txt").write_text(ARTICLE.format(n=n, m=n % 9 + 1) * 3, encoding="utf-8")
    proc = _spawn_index([str(corpus_dir), "--index-dir", str(ix_dir), "--jobs", "1"], tmp_path)
    time.sleep(3)
    assert proc.poll() is None, "indexer finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert ix.count() == 12 and ix.search("Sơn Tây").total >= 1
    report = ix.update([corpus_dir], jobs=2)
    assert report.added == 3000 and ix.count() == 3012


def _write_generated(folder, count, text=ARTICLE):
    for n in range(count):
        (folder / f"gen{n:03d}.txt").write_text(text.format(n=n, m=n % 9 + 1), encoding="utf-8")


def test_parallel_incremental_update_replaces_and_removes(corpus_dir, tmp_path):
    _write_generated(corpus_dir, 80)
    ix = open_index(tmp_path / "ix")
    assert ix.update([corpus_dir], jobs=2).added == 92
    _write_generated(corpus_dir, 70, ARTICLE.replace("khu dân cư", "tổ dân phố"))  # change 70
    for n in range(70, 80):
        (corpus_dir / f"gen{n:03d}.txt").unlink()
    report = ix.update([corpus_dir], jobs=2)
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 70, 10, 12)
    assert ix.count() == 82
    assert sum(h.id.startswith("gen") for h in ix.search('"tổ dân phố"', per_page=100).hits) == 70
    assert ix.search('"khu dân cư thứ"').total == 0
    assert ix.get("gen075.txt") is None


def test_article_failing_in_a_worker_is_reported_and_keeps_old_version(corpus_dir, tmp_path, monkeypatch):
    import indexer.build.update as build

    _write_generated(corpus_dir, 80)
    ix = open_index(tmp_path / "ix")
    ix.update([corpus_dir], jobs=2)
    _write_generated(corpus_dir, 80, ARTICLE.replace("khu dân cư", "tổ dân phố"))
    real = build.analyze_article

    def flaky(article):
        if article.id == "gen007.txt":
            raise RecursionError("pathological text")
        return real(article)

    monkeypatch.setattr(build, "analyze_article", flaky)
    report = ix.update([corpus_dir], jobs=2)
    assert report.updated == 79
    assert [(p.id, "RecursionError" in p.reason) for p in report.skipped] == [("gen007.txt", True)]
    assert "khu dân cư" in ix.get("gen007.txt").body  # the old version is still there
    assert "tổ dân phố" in ix.get("gen008.txt").body


def test_dying_worker_aborts_without_touching_the_index(corpus_dir, tmp_path, monkeypatch):
    import indexer.build.update as build
    from indexer.build.workers import WorkerFailed

    ix = open_index(tmp_path / "ix")
    ix.update([corpus_dir], jobs=1)
    _write_generated(corpus_dir, 80)
    real = build.analyze_article

    def dies(article):
        if article.id == "gen050.txt":
            os._exit(3)  # as if the OOM killer took the worker
        return real(article)

    monkeypatch.setattr(build, "analyze_article", dies)
    for rebuild in (False, True):
        with pytest.raises(WorkerFailed, match="died"):
            ix.update([corpus_dir], jobs=2, rebuild=rebuild)
        assert ix.count() == 12 and ix.search("Sơn Tây").total >= 1
    monkeypatch.setattr(build, "analyze_article", real)
    assert ix.update([corpus_dir], jobs=2).added == 80 and ix.count() == 92
    assert len(list((tmp_path / "ix").glob("gen-*"))) == 1


def test_killing_the_indexer_alone_leaves_no_lock_behind(corpus_dir, tmp_path):
    """Its orphaned workers must neither hold the index locks nor linger."""
    ix_dir = tmp_path / "ix"
    ix = open_index(ix_dir)
    ix.update([corpus_dir], jobs=1)
    n_new = 5000  # enough that the run is still writing a second after the workers start
    for n in range(n_new):
        (corpus_dir / f"a{n:04d}.txt").write_text(ARTICLE.format(n=n, m=n % 9 + 1) * 3, encoding="utf-8")
    proc = _spawn_index([str(corpus_dir), "--index-dir", str(ix_dir), "--jobs", "2"], tmp_path)
    deadline = time.time() + 60
    workers: list[str] = []
    while len(workers) < 2 and time.time() < deadline:  # until both writers are at work
        workers = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
        time.sleep(0.05)
    time.sleep(1.0)
    assert proc.poll() is None, "indexer finished before it could be killed"
    assert len(workers) == 2
    proc.send_signal(signal.SIGKILL)  # the parent only: its workers are orphaned mid-batch
    proc.wait()
    from whoosh import index as whoosh_index

    from indexer.store.schema import INDEX_NAME

    # At once, while the orphans may still be finishing their batch: neither lock is theirs.
    with writer_lock(ix_dir):
        whoosh_index.open_dir(str(current_generation(ix_dir)), indexname=INDEX_NAME).writer().cancel()
    report = ix.update([corpus_dir], jobs=2)  # no cleanup by hand
    assert report.added == n_new and ix.count() == n_new + 12

    def alive(pid):  # an exited orphan is reaped by init; a zombie would show state Z
        try:
            return Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0] != "Z"
        except FileNotFoundError:
            return False

    assert [pid for pid in workers if alive(pid)] == [], "orphaned workers still running"


def _jsonl(path, bodies: dict[str, str], extra: str = "") -> None:
    import json

    with open(path, "w", encoding="utf-8") as out:
        for doc_id, body in bodies.items():
            out.write(json.dumps({"id": doc_id, "title": f"Bài {doc_id} về Mặt trận", "date": "2021-03-05",
                                  "body": body}, ensure_ascii=False) + "\n")
        out.write(extra)


def test_an_update_does_not_parse_json_lines_it_read_before(tmp_path, monkeypatch):
    """Re-reading a large unchanged JSON-lines file is most of an update's work: a line
    read before, byte for byte, whose article the index holds, is not parsed again."""
    from indexer.ingest import jsonl as articles

    parsed = []
    real = articles.parse_json_record
    monkeypatch.setattr(articles, "parse_json_record", lambda record, *a: parsed.append(record["id"]) or real(record, *a))
    src = tmp_path / "news.jsonl"
    bodies = {f"a{i}": f"Nội dung bài {i} về công tác dân vận ở khu dân cư." for i in range(30)}
    warned = '{"id": "w1", "title": "Ngày sai", "date": "31/02/2020", "body": "Bài có ngày không hợp lệ."}\n'
    _jsonl(src, bodies, warned)
    ix = open_index(tmp_path / "ix")
    assert ix.update([src], jobs=1).added == 31 and len(parsed) == 31
    parsed.clear()
    bodies["a3"] = "Nội dung mới: hội nghị hiệp thương ở thôn Đông."
    del bodies["a5"]
    bodies["b1"] = "Bài mới về bầu cử đại biểu Hội đồng nhân dân."
    _jsonl(src, bodies, warned)
    report = ix.update([src], jobs=1)
    assert (report.added, report.updated, report.removed, report.unchanged) == (1, 1, 1, 29)
    assert sorted(parsed) == ["a3", "b1", "w1"]  # the changed, the new, and the one that warns
    assert any("31/02/2020" in p.reason for p in report.problems)  # warned again
    assert ix.search("hiệp thương thôn Đông").hits[0].id == "a3"
    parsed.clear()
    assert ix.update([src], jobs=1).unchanged == 31 and parsed == ["w1"]


def test_a_stale_or_damaged_line_cache_only_costs_a_reread(tmp_path):
    """The cache is trusted only where the index holds the very article it names: an
    update killed between its commit and the cache write, or a damaged cache, must not
    keep an old version."""
    from indexer.build.linecache import LINE_CACHE

    src = tmp_path / "news.jsonl"
    bodies = {f"a{i}": f"Nội dung bài {i} về công tác dân vận." for i in range(10)}
    _jsonl(src, bodies)
    ix = open_index(tmp_path / "ix")
    ix.update([src], jobs=1)
    cache = current_generation(tmp_path / "ix") / LINE_CACHE
    first = cache.read_bytes()
    _jsonl(src, dict(bodies, a2="Phiên bản hai: tổ hòa giải ở cơ sở."))
    assert ix.update([src], jobs=1).updated == 1
    cache.write_bytes(first)  # as if the second update died before writing its cache
    _jsonl(src, bodies)       # the first version, byte for byte, is back
    report = ix.update([src], jobs=1)
    assert (report.updated, report.unchanged) == (1, 9)
    assert ix.search("tổ hòa giải").total == 0 and ix.get("a2").body.startswith("Nội dung bài 2")
    cache.write_bytes(b"\x00garbage")
    (cache.parent / f"{LINE_CACHE}.tmp99999").write_bytes(b"")  # a run killed while writing it
    assert ix.update([src], jobs=1).unchanged == 10
    assert [p.name for p in cache.parent.glob(f"{LINE_CACHE}*")] == [LINE_CACHE]
    assert ix.update([src], jobs=1).unchanged == 10  # and the cache is whole again


def test_the_manifest_holds_every_live_article_and_no_deleted_one(corpus_dir, tmp_path):
    """What an update compares against: read column by column across segments, with
    deleted documents still in them (the write below asks Whoosh not to merge)."""
    from whoosh import index as whoosh_index

    from indexer.store.documents import read_manifest
    from indexer.store.schema import INDEX_NAME

    _write_generated(corpus_dir, 80)
    ix = open_index(tmp_path / "ix")
    ix.update([corpus_dir], jobs=2)                                # two worker segments
    raw = whoosh_index.open_dir(str(current_generation(tmp_path / "ix")), indexname=INDEX_NAME)
    writer = raw.writer()
    for doc_id in ("gen003.txt", "gen041.txt", "gen079.txt"):
        writer.delete_by_term("id", doc_id)
    writer.commit(merge=False)
    with raw.reader() as reader:
        assert reader.has_deletions() and len(list(reader.leaf_readers())) >= 2
        expected = {f["id"]: (f["hash"], f["origin"]) for _, f in reader.iter_docs()}
    manifest = read_manifest(raw)
    assert manifest == expected and len(manifest) == 92 - 3 and "gen041.txt" not in manifest


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_update_that_replaces_every_article_leaves_no_dead_segment(tmp_path, jobs):
    """Whoosh counts deleted documents in its statistics until their segment is merged
    away: segments left with no live document are dropped at the commit, so scores after
    replacing everything are those of a fresh build, and the index does not double."""
    from whoosh import index as whoosh_index

    from indexer.store.schema import INDEX_NAME

    folder = tmp_path / "articles"
    folder.mkdir()
    _write_generated(folder, 80)
    ix = open_index(tmp_path / "ix")
    ix.update([folder], jobs=2)                          # two worker segments
    _write_generated(folder, 80, ARTICLE.replace("khu dân cư", "tổ dân phố"))
    report = ix.update([folder], jobs=jobs)              # every article changed
    assert (report.updated, report.unchanged) == (80, 0)
    raw = whoosh_index.open_dir(str(current_generation(tmp_path / "ix")), indexname=INDEX_NAME)
    with raw.reader() as reader:
        assert reader.doc_count() == reader.doc_count_all() == 80
    fresh = open_index(tmp_path / "fresh")
    fresh.update([folder], jobs=1)
    for query in ("tổ dân phố", "Mặt trận xã Tân Lập", "công tác"):
        ours = sorted((h.id, h.score) for h in ix.search(query, per_page=100).hits)
        assert ours and ours == sorted((h.id, h.score) for h in fresh.search(query, per_page=100).hits), query


@pytest.mark.parametrize("changed, reclaimed", [(30, True), (20, False)])
def test_a_segment_mostly_replaced_is_rewritten_with_its_live_documents(tmp_path, changed, reclaimed):
    """More than a third of a segment deleted: its live documents are merged into the
    commit's new segment, so deleted copies stop counting in document frequencies and
    lengths (scores are a fresh build's).  Fewer: the segment is left as it is, and an
    update only writes what changed."""
    from whoosh import index as whoosh_index

    from indexer.store.schema import INDEX_NAME

    folder = tmp_path / "articles"
    folder.mkdir()
    _write_generated(folder, 80)
    ix = open_index(tmp_path / "ix")
    ix.update([folder], jobs=1)                          # one segment of 80
    for n in range(changed):
        (folder / f"gen{n:03d}.txt").write_text(
            ARTICLE.replace("khu dân cư", "tổ dân phố").format(n=n, m=n % 9 + 1), encoding="utf-8")
    report = ix.update([folder], jobs=1)
    assert (report.updated, report.unchanged) == (changed, 80 - changed)
    raw = whoosh_index.open_dir(str(current_generation(tmp_path / "ix")), indexname=INDEX_NAME)
    with raw.reader() as reader:
        assert reader.doc_count() == 80
        assert reader.doc_count_all() == (80 if reclaimed else 80 + changed)
        assert len(list(reader.leaf_readers())) == (1 if reclaimed else 2)
    stats = ix.stats()
    assert (stats["articles"], stats["deleted"], stats["segments"]) == \
        ((80, 0, 1) if reclaimed else (80, changed, 2))
    fresh = open_index(tmp_path / "fresh")
    fresh.update([folder], jobs=1)
    for query in ("tổ dân phố", "khu dân cư", "Mặt trận xã Tân Lập"):
        ours = sorted((h.id, round(h.score, 9)) for h in ix.search(query, per_page=100).hits)
        theirs = sorted((h.id, round(h.score, 9)) for h in fresh.search(query, per_page=100).hits)
        assert ours and (ours == theirs) is reclaimed, query
    assert [h.id for h in ix.search("tổ dân phố", per_page=100).hits] == \
        [h.id for h in fresh.search("tổ dân phố", per_page=100).hits]


def _half_changed(tmp_path):
    """80 articles in two worker segments, then every other one changed: each segment is
    left half deleted, so the next commit rewrites both."""
    folder = tmp_path / "articles"
    folder.mkdir()
    _write_generated(folder, 80)
    ix = open_index(tmp_path / "ix")
    ix.update([folder], jobs=2)
    assert ix.stats()["segments"] == 2
    for n in range(0, 80, 2):
        (folder / f"gen{n:03d}.txt").write_text(
            ARTICLE.replace("khu dân cư", "tổ dân phố").format(n=n, m=n % 9 + 1), encoding="utf-8")
    return folder, ix


@pytest.mark.parametrize("jobs", [1, 2])
def test_segments_to_rewrite_are_shared_out_among_processes(tmp_path, monkeypatch, jobs):
    """With two jobs each segment is rewritten by a forked worker of its own while the
    committing process writes its segment; the index is the same as with one job."""
    from indexer.build import merge as parallel

    started = []
    real = parallel.start_reclaim
    monkeypatch.setattr(parallel, "start_reclaim", lambda w, segs, n: started.append(len(segs)) or real(w, segs, n))
    folder, ix = _half_changed(tmp_path)
    report = ix.update([folder], jobs=jobs)
    assert report.updated == 40
    assert started == ([2] if jobs == 2 else [])
    stats = ix.stats()
    assert (stats["articles"], stats["deleted"]) == (80, 0)
    fresh = open_index(tmp_path / "fresh")
    fresh.update([folder], jobs=1)
    for query in ("tổ dân phố", "khu dân cư", "Mặt trận xã Tân Lập"):
        ours = sorted((h.id, round(h.score, 9)) for h in ix.search(query, per_page=100).hits)
        assert ours and ours == sorted((h.id, round(h.score, 9)) for h in fresh.search(query, per_page=100).hits)


def test_a_failing_rewrite_worker_aborts_the_commit(tmp_path, monkeypatch):
    from indexer.build.workers import WorkerFailed
    from indexer.store import segment_writer as writer_module

    folder, ix = _half_changed(tmp_path)
    parent = os.getpid()
    real = writer_module.FastSegmentWriter.add_reader

    def add_reader(self, reader):
        if os.getpid() != parent:
            raise OSError("disk full")
        return real(self, reader)

    monkeypatch.setattr(writer_module.FastSegmentWriter, "add_reader", add_reader)
    generation = current_generation(tmp_path / "ix")
    with pytest.raises(WorkerFailed, match="disk full"):
        ix.update([folder], jobs=2)
    monkeypatch.undo()
    assert current_generation(tmp_path / "ix") == generation
    assert ix.count() == 80 and ix.stats()["deleted"] == 0
    assert "khu dân cư" in ix.get("gen000.txt").body  # the old version, whole
    assert ix.update([folder], jobs=2).updated == 40  # and the next run does it
    assert "tổ dân phố" in ix.get("gen000.txt").body and ix.stats()["deleted"] == 0


@pytest.mark.parametrize("jobs", [1, 2])
def test_progress_counts_bytes_of_the_sources_then_says_when_the_commit_starts(corpus_dir, tmp_path, jobs):
    """update(on_progress=...) (issue 22): bytes read of the sources' size, then "committing" before the
    commit; progress(articles), the older callback, is still called as before."""
    import json

    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps({"id": f"f{i}", "title": f"Tin {i}", "body": "Hợp tác xã Phúc Thọ. " * 30},
                                       ensure_ascii=False) + "\n" for i in range(100)), encoding="utf-8")
    size = feed.stat().st_size + sum(f.stat().st_size for f in corpus_dir.iterdir()
                                     if f.name.endswith((".txt", ".jsonl")) and not f.name.startswith("."))
    ix = open_index(tmp_path / "ix")
    ix.update([corpus_dir], jobs=1)
    events, counts, live_at_commit = [], [], []

    def on_progress(where):
        events.append(where)
        if where.stage == "committing":
            live_at_commit.append(ix.count())

    report = ix.update([corpus_dir, feed], jobs=jobs, progress=counts.append, on_progress=on_progress)
    assert (report.added, report.unchanged) == (100, 12) and ix.count() == 112
    assert [e.stage for e in events] == ["reading"] * (len(events) - 1) + ["committing"]
    assert {e.bytes_total for e in events} == {size}
    assert [e.bytes_read for e in events] == sorted(e.bytes_read for e in events)
    assert [e.articles for e in events] == sorted(e.articles for e in events)
    assert events[-2].bytes_read == size and events[-2].fraction == 1.0 and events[-1].articles == 100
    assert live_at_commit == [12]  # said before the commit, not after
    assert counts == sorted(counts) and counts[-1] == 100
    assert len(events) >= 3 and events[0].articles == 0  # the first read is told at once
