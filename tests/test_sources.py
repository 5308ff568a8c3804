"""Issue 19: a source that cannot be read never costs the index an article, and bad
input costs bounded time and memory.  Real files, real indexes, the real CLI."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from indexer import open_index
from indexer.ingest import Problem, iter_articles
from indexer.ingest.decode import DecodeError, decode_bytes
from indexer.store.generations import current_generation

from .conftest import ROOT

ARTICLE = ("Tiêu đề {n}: Mặt trận xã Tân Lập số {n}\n01/0{m}/2021\nNội dung bài số {n} về công tác Mặt trận "
           "ở khu dân cư thứ {n}, mã {token}.\nThu Hà\n")
NOBODY = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"]


def vnsearch(*args, cwd=None, prefix=(), timeout=120):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([*prefix, sys.executable, "-m", "indexer.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def _records(n: int, start: int = 0) -> list[dict]:
    return [{"id": f"r{i:05d}", "title": f"Tin số {i} về Mặt trận Tổ quốc",
             "body": f"Ủy ban nhân dân xã tổ chức hội nghị lần thứ {i}, mã kiemtra{i:05d}. " * 3,
             "date": f"2021-05-0{i % 9 + 1}"} for i in range(start, start + n)]


def _jsonl(records: list[dict]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")


def _no_traceback(out: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in out.stderr and "Traceback" not in out.stdout, out.stderr


# --- a source that cannot be read whole keeps what it held --------------------------
def test_truncated_gzip_keeps_every_article_and_exits_3(tmp_path):
    feed = tmp_path / "feed.jsonl.gz"
    feed.write_bytes(gzip.compress(_jsonl(_records(300))))
    ix = str(tmp_path / "ix")
    assert vnsearch("index", str(feed), "--index-dir", ix, "-q").returncode == 0
    data = feed.read_bytes()
    feed.write_bytes(data[: len(data) // 2])
    out = vnsearch("index", str(feed), "--index-dir", ix, "-q", "--json")
    _no_traceback(out)
    assert out.returncode == 3 and out.stderr.strip().count("\n") == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["removed"] == 0 and report["unchanged"] > 0
    [failed] = report["failed_sources"]
    assert failed["source"] == str(feed) and "could not read further" in failed["reason"]
    assert failed["kept"] == 300 - report["unchanged"]
    assert open_index(ix).count() == 300


@pytest.mark.parametrize("damage", ["not gzip", "emptied", "deleted", "folder"])
def test_a_source_that_cannot_be_read_keeps_its_articles(tmp_path, damage):
    feed = tmp_path / "feed.jsonl.gz"
    feed.write_bytes(gzip.compress(_jsonl(_records(80))))
    ix = open_index(tmp_path / "ix")
    ix.update([feed], jobs=1)
    if damage == "not gzip":
        feed.write_bytes(_jsonl(_records(80)))
    elif damage == "emptied":  # zero bytes is not a gzip stream: an interrupted copy, not "no articles"
        feed.write_bytes(b"")
    elif damage == "deleted":
        feed.unlink()
    else:
        feed.unlink()
        feed.mkdir()
    report = ix.update([feed], jobs=1)
    assert report.removed == 0 and list(report.failed_sources) == [str(feed)], report.summary()
    assert report.kept[str(feed)] == 80 and ix.count() == 80
    assert "nothing it held was removed" in report.summary()


@pytest.mark.parametrize("damage", ["cut mid-line", "garbage", "json array", "folder to file", "blank lines",
                                    "one endless line"])
def test_a_source_that_is_no_longer_what_it_was_keeps_its_articles(tmp_path, damage, monkeypatch):
    import indexer.ingest.jsonl as articles

    records = _records(40)
    feed = tmp_path / ("src" if damage == "folder to file" else "feed.jsonl")
    if damage == "folder to file":
        feed.mkdir()
        (feed / "a.jsonl").write_bytes(_jsonl(records))
    else:
        feed.write_bytes(_jsonl(records))
    ix = open_index(tmp_path / "ix")
    ix.update([feed], jobs=1)
    if damage == "cut mid-line":  # a copy interrupted: the last line has no end
        data = feed.read_bytes()
        feed.write_bytes(data[: len(data) // 2 - 7])
    elif damage == "garbage":
        feed.write_bytes(os.urandom(50_000).replace(b"\0", b"x"))
    elif damage == "json array":
        feed.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    elif damage == "folder to file":
        shutil.rmtree(feed)
        feed.write_text(ARTICLE.format(n=1, m=1, token="x"), encoding="utf-8")
    elif damage == "blank lines":
        monkeypatch.setattr(articles, "MAX_LINES_WITHOUT_ARTICLE", 1000)
        feed.write_bytes(b"\n" * 5000 + _jsonl(records[:1]))
    else:  # a sparse file, or a file that never ends a line: not read to its end
        monkeypatch.setattr(articles, "MAX_SKIPPED_LINE", 2 << 20)
        monkeypatch.setattr(articles, "MAX_ARTICLE_BYTES", 1 << 20)
        with open(feed, "wb") as f:
            f.truncate(1 << 40)  # a terabyte of holes
    started = time.monotonic()
    report = ix.update([feed], jobs=1)
    assert time.monotonic() - started < 20
    assert report.removed == 0 and list(report.failed_sources) == [str(feed)], report.summary()
    assert ix.count() == 40


def test_a_plain_feed_emptied_on_purpose_removes_its_articles(tmp_path):
    """The other side: a source read whole that no longer holds articles loses them."""
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(_jsonl(_records(20)))
    ix = open_index(tmp_path / "ix")
    ix.update([feed], jobs=1)
    feed.write_bytes(b"")
    report = ix.update([feed], jobs=1)
    assert report.removed == 20 and not report.failed_sources and ix.count() == 0


def test_a_folder_that_vanished_keeps_its_articles_and_the_cli_says_so(corpus_dir, tmp_path):
    ix = str(tmp_path / "ix")
    vnsearch("index", str(corpus_dir), "--index-dir", ix, "-q")
    shutil.rmtree(corpus_dir)
    out = vnsearch("index", str(corpus_dir), "--index-dir", ix, "-q")
    _no_traceback(out)
    assert out.returncode == 3 and "no such file or folder" in out.stdout and "12 articles" in out.stdout
    assert out.stderr.startswith("Error: 1 source could not be read whole")
    assert open_index(ix).count() == 12
    missing = vnsearch("index", str(tmp_path / "never"), "--index-dir", str(tmp_path / "ix2"), "-q")
    assert missing.returncode == 3


def _world_dir() -> Path:
    """A folder a non-root user can work in (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="vnsearch-perm-", dir="/tmp"))
    path.chmod(0o777)
    return path


def _as_nobody_works() -> bool:
    try:
        return subprocess.run([*NOBODY, sys.executable, "-c", "import indexer"], env=dict(
            os.environ, PYTHONPATH=str(ROOT)), capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.parametrize("where", ["file", "subfolder", "article", "source"])
def test_permission_denied_keeps_articles(where):
    if not _as_nobody_works():
        pytest.skip("cannot run the indexer as an unprivileged user here (setpriv)")
    base = _world_dir()
    try:
        folder = base / "src"
        (folder / "sub").mkdir(parents=True)
        (folder / "a.jsonl").write_bytes(_jsonl(_records(30)))
        for n in range(5):
            (folder / "sub" / f"s{n}.txt").write_text(ARTICLE.format(n=n, m=1, token=f"sub{n}"), encoding="utf-8")
        for path in [base, *base.rglob("*")]:
            path.chmod(0o777 if path.is_dir() else 0o666)
        ix = str(base / "ix")
        first = vnsearch("index", str(folder), "--index-dir", ix, "-q", prefix=NOBODY)
        assert first.returncode == 0 and "35 added" in first.stdout, first.stderr
        denied = {"file": folder / "a.jsonl", "subfolder": folder / "sub", "article": folder / "sub" / "s1.txt",
                  "source": folder}[where]
        denied.chmod(0)
        out = vnsearch("index", str(folder), "--index-dir", ix, "-q", prefix=NOBODY)
        _no_traceback(out)
        assert out.returncode == 3 and "0 removed" in out.stdout and "Permission denied" in out.stdout, out.stdout
        assert open_index(ix).count() == 35
    finally:
        for path in [base, *base.rglob("*")]:
            path.chmod(0o777)
        shutil.rmtree(base, ignore_errors=True)


# --- identity ------------------------------------------------------------------------
def test_the_same_folder_spelled_differently_reindexes_nothing(corpus_dir, tmp_path):
    ix = open_index(tmp_path / "ix")
    ix.update([corpus_dir], jobs=1)
    link = tmp_path / "link"
    link.symlink_to(corpus_dir)
    for spelling, cwd in ((f"{corpus_dir}/", None), (str(corpus_dir) + "/./", None), (".", corpus_dir),
                          ("./articles/", tmp_path), (str(tmp_path / "link" / ".." / "articles"), None)):
        old = os.getcwd()
        os.chdir(cwd or old)
        try:
            report = ix.update([spelling], jobs=1)
        finally:
            os.chdir(old)
        assert (report.added, report.updated, report.removed, report.unchanged) == (0, 0, 0, 12), spelling


def test_a_source_switched_by_a_symlink_is_the_same_source(corpus_dir, tmp_path):
    """A deploy switching ``articles -> releases/r2`` updates the source ``articles``."""
    releases = tmp_path / "releases"
    releases.mkdir()
    shutil.move(corpus_dir, releases / "r1")
    corpus_dir.symlink_to(releases / "r1")
    ix = open_index(tmp_path / "ix")
    assert ix.update([corpus_dir], jobs=1).added == 12
    shutil.copytree(releases / "r1", releases / "r2")
    edited = releases / "r2" / "002_bc0217ec24ab4b99.txt"
    edited.write_text(edited.read_text(encoding="utf-8").replace("Sơn Tây", "Sơn Tây Xanh", 1), encoding="utf-8")
    (releases / "r2" / "004_b988110fdcdce38a.txt").unlink()
    corpus_dir.unlink()
    corpus_dir.symlink_to(releases / "r2")
    report = ix.update([corpus_dir], jobs=1)
    assert (report.updated, report.removed, report.unchanged, report.count(True)) == (1, 1, 10, 0), report.summary()
    assert ix.search("Sơn Tây Xanh").hits[0].id == "002_bc0217ec24ab4b99.txt"


def test_a_feed_rewritten_in_place_while_read_keeps_its_articles(tmp_path, monkeypatch):
    import indexer.ingest.jsonl as articles

    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(_jsonl(_records(40)))
    ix = open_index(tmp_path / "ix")
    ix.update([feed], jobs=1)
    feed.write_bytes(_jsonl(_records(1000, 500) + _records(40)))
    real = articles._parse_json_line

    def cut_after_the_first(path, raw, lineno, *args):  # a crawler truncating the feed as it is read
        if lineno == 1:
            os.truncate(feed, len(_jsonl(_records(1000, 500))))
        return real(path, raw, lineno, *args)

    monkeypatch.setattr(articles, "_parse_json_line", cut_after_the_first)
    report = ix.update([feed], jobs=1)
    assert report.removed == 0 and "changed while it was read" in report.failed_sources[str(feed)]
    assert all(ix.get(f"r{i:05d}") is not None for i in range(40))


def test_a_duplicate_id_across_sources_is_reported_and_removed_only_when_no_source_holds_it(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    shared = {"id": "x1", "title": "Bản của nguồn A", "body": "Nội dung nguồn A về hội nghị"}
    a.write_bytes(_jsonl([shared] + _records(2)))
    b.write_bytes(_jsonl([dict(shared, title="Bản của nguồn B", body="Nội dung nguồn B")] + _records(2, 10)))
    ix = open_index(tmp_path / "ix")
    ix.update([a], jobs=1)
    report = ix.update([b], jobs=1)
    assert report.added == 2 and report.updated == 0
    [dup] = [p for p in report.skipped if "duplicate id" in p.reason]
    assert dup.id == "x1" and str(a) in dup.reason
    assert ix.get("x1").title == "Bản của nguồn A"  # not silently overwritten

    b.write_bytes(_jsonl(_records(2, 10)))  # B drops it: A still holds it
    assert ix.update([b], jobs=1).removed == 0 and ix.get("x1").title == "Bản của nguồn A"

    b.write_bytes(_jsonl([dict(shared, title="Bản của nguồn B")] + _records(2, 10)))
    ix.update([b], jobs=1)
    a.write_bytes(_jsonl(_records(2)))  # A drops it while B holds it: kept, then B's version
    gone = ix.update([a], jobs=1)
    assert gone.removed == 0 and ix.get("x1").title == "Bản của nguồn A"
    assert any("x1" in p.reason and str(b) in p.reason for p in gone.warnings)
    taken = ix.update([b], jobs=1)
    assert taken.updated == 1 and ix.get("x1").title == "Bản của nguồn B"
    b.write_bytes(_jsonl(_records(2, 10)))  # and the last holder drops it: gone
    assert ix.update([b], jobs=1).removed == 1 and ix.get("x1") is None


def test_ids_the_web_cannot_serve_are_refused_at_indexing(tmp_path):
    feed = tmp_path / "ids.jsonl"
    bad = ["../../etc/passwd", "a\nb", "x" * 600, "/abs", "a\\b"]
    feed.write_bytes(_jsonl([{"id": i, "title": "Tiêu đề", "body": "Nội dung"} for i in bad]
                            + [{"id": "ok/1", "title": "Tiêu đề", "body": "Nội dung"}]))
    ix = open_index(tmp_path / "ix")
    report = ix.update([feed], jobs=1)
    assert report.added == 1 and len(report.skipped) == len(bad)
    assert all("cannot be an article id" in p.reason for p in report.skipped)
    assert [h.id for h in ix.search("nội dung").hits] == ["ok/1"]


# --- bounded resources ---------------------------------------------------------------
@pytest.mark.parametrize("kind", ["fifo", "zero", "urandom"])
def test_only_regular_files_are_read(tmp_path, kind):
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "good.txt").write_text(ARTICLE.format(n=1, m=1, token="tot"), encoding="utf-8")
    name = "pipe.txt" if kind == "fifo" else f"{kind}.jsonl"
    if kind == "fifo":
        os.mkfifo(folder / name)
    else:
        (folder / name).symlink_to(f"/dev/{kind}")
    started = time.monotonic()
    out = vnsearch("index", str(folder), "--index-dir", str(tmp_path / "ix"), "-q", timeout=60)
    assert time.monotonic() - started < 30
    _no_traceback(out)
    assert "1 added" in out.stdout and "not a regular file" in out.stdout
    # A .jsonl that cannot be read is a source not read whole; a .txt is one article kept as it was.
    assert out.returncode == (0 if kind == "fifo" else 3)


def test_an_oversized_line_is_skipped_without_being_held(tmp_path, monkeypatch):
    import indexer.ingest.jsonl as articles

    monkeypatch.setattr(articles, "MAX_ARTICLE_BYTES", 10_000)
    feed = tmp_path / "f.jsonl"
    big = {"id": "big", "title": "t", "body": "a" * 200_000}
    feed.write_bytes(_jsonl(_records(1) + [big] + _records(1, 5)))
    items = list(iter_articles([feed]))
    problems = [i for i in items if isinstance(i, Problem)]
    assert [i.id for i in items if not isinstance(i, Problem)] == ["r00000", "r00005"]
    assert len(problems) == 1 and "record too large" in problems[0].reason and "200,0" in problems[0].reason


def test_a_compression_bomb_stops_its_source(tmp_path, monkeypatch):
    import indexer.ingest.jsonl as articles

    monkeypatch.setattr(articles, "INFLATION_FLOOR", 1 << 20)
    feed = tmp_path / "bomb.jsonl.gz"
    feed.write_bytes(gzip.compress(_jsonl(_records(3)) + b" " * (50 << 20), 9))
    items = list(iter_articles([feed]))
    assert sum(not isinstance(i, Problem) for i in items) == 3
    assert items[-1].fails_source and "decompresses to over 100x" in items[-1].reason


def test_junk_lines_are_counted_not_listed_and_give_up_the_source(tmp_path):
    feed = tmp_path / "junk.jsonl.gz"
    feed.write_bytes(gzip.compress(b"x\n" * 200_000))
    every: list[Problem] = []
    ix = open_index(tmp_path / "ix")
    report = ix.update([feed], jobs=1, on_problem=every.append)
    assert len(every) == 10_001 and len(report.problems) == 11  # 10 examples + the give-up
    assert report.problem_counts[(str(feed), True, "invalid JSON")] == 10_000
    assert "… 9,990 more skipped" in report.summary() and report.failed_sources
    assert len(report.summary()) < 3000 and len(json.dumps(report.to_dict())) < 5000


def test_deeply_nested_json_skips_its_line_only(tmp_path):
    feed = tmp_path / "deep.jsonl"
    deep = '{"id": "d", "title": "t", "body": "b", "e": ' + "[" * 100_000 + "]" * 100_000 + "}\n"
    feed.write_bytes(deep.encode() + _jsonl(_records(2)))
    report = open_index(tmp_path / "ix").update([feed], jobs=1)
    assert report.added == 2 and [p.reason for p in report.skipped] == ["invalid JSON: nested too deeply"]


# --- encodings -----------------------------------------------------------------------
@pytest.mark.parametrize("text,encoding", [
    ("Москва — столица России, крупнейший по численности населения город страны.", "koi8_r"),
    ("中华人民共和国是工人阶级领导的、以工农联盟为基础的人民民主专政的社会主义国家。", "gb18030"),
])
def test_other_legacy_encodings_are_refused_not_indexed_as_garbage(text, encoding):
    with pytest.raises(DecodeError, match="unsupported legacy encoding"):
        decode_bytes((text + "\n") .replace("—", "-").encode(encoding) * 3)


def test_utf32_with_a_bom_is_read():
    assert decode_bytes("Mặt trận Tổ quốc\nNội dung".encode("utf-32")) == ("Mặt trận Tổ quốc\nNội dung", None)


def test_legacy_vietnamese_and_western_text_are_still_read():
    from .badinput import to_cp1258

    text, note = decode_bytes(to_cp1258("Mặt trận Tổ quốc Việt Nam tổ chức hội nghị tại Hà Nội"))
    assert text == "Mặt trận Tổ quốc Việt Nam tổ chức hội nghị tại Hà Nội" and "Windows-1258" in note
    text, note = decode_bytes("Le président a annoncé des mesures économiques".encode("cp1252"))
    assert text.startswith("Le président") and "Windows-1252" in note


# --- failing runs fail fast and clean ------------------------------------------------
def _leftovers(index_dir: Path) -> list[str]:
    from whoosh.filedb.filestore import FileStorage
    from whoosh.index import TOC

    gen = current_generation(index_dir)
    toc = TOC.read(FileStorage(str(gen)), "MAIN")
    live = {s.segment_id() for s in toc.segments}
    odd = [p.name for p in index_dir.iterdir() if p.name.startswith("gen-") and p != gen]
    for p in gen.iterdir():
        if ".tmp" in p.name or (p.name.startswith("MAIN_") and p.name != "MAIN_WRITELOCK"
                                and p.name.split(".")[0] not in live) or \
                (p.name.startswith("vec_") and p.name[4:] not in {s.segid for s in toc.segments}):
            odd.append(p.name)
    return odd


def _indexing_with_workers(tmp_path) -> tuple[subprocess.Popen, int, Path]:
    """A 10-article index, then a run adding 3,000 with two workers: (the run, one of its
    writer processes once it is writing, the index folder)."""
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "base.jsonl").write_bytes(_jsonl(_records(10)))
    ix_dir = tmp_path / "ix"
    assert vnsearch("index", str(folder), "--index-dir", str(ix_dir), "-q").returncode == 0
    (folder / "more.jsonl").write_bytes(_jsonl(_records(3000, 100)))
    proc = subprocess.Popen([sys.executable, "-m", "indexer.cli", "index", str(folder), "--index-dir", str(ix_dir),
                             "-q", "--jobs", "2"], env=dict(os.environ, PYTHONPATH=str(ROOT)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        kids = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
        # Forked writers run the parent's command line (not multiprocessing's resource tracker).
        writers = [int(k) for k in kids if "indexer.cli" in Path(f"/proc/{k}/cmdline").read_text(errors="replace")]
        if writers:
            time.sleep(0.5)  # let it write part of its segment
            return proc, writers[0], ix_dir
        time.sleep(0.05)
    raise AssertionError("no worker started")


def test_a_killed_worker_ends_the_run_at_once_and_cleanly(tmp_path):
    proc, worker, ix_dir = _indexing_with_workers(tmp_path)
    os.kill(worker, signal.SIGKILL)
    killed = time.monotonic()
    _, err = proc.communicate(timeout=60)
    assert time.monotonic() - killed < 10
    assert proc.returncode == 1 and err.startswith("Error: index writer vnsearch-writer-") \
        and err.endswith(" was killed by SIGKILL\n") and err.count("\n") == 1, err
    assert _leftovers(ix_dir) == []
    assert open_index(ix_dir).count() == 10
    assert vnsearch("index", str(tmp_path / "src"), "--index-dir", str(ix_dir), "-q").returncode == 0  # lock released
    assert open_index(ix_dir).count() == 3010


@pytest.fixture
def small_disk():
    path = Path(tempfile.mkdtemp(prefix="vnsearch-small-"))
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(path)],
                             capture_output=True).returncode == 0
    if not mounted:
        path.rmdir()
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    yield path
    if subprocess.run(["umount", str(path)], capture_output=True).returncode:
        subprocess.run(["umount", "--lazy", str(path)], check=False)  # a reader still open
    path.rmdir()


def test_a_full_disk_fails_fast_and_the_next_run_works(tmp_path, small_disk):
    few, many = tmp_path / "few.jsonl", tmp_path / "many.jsonl"
    few.write_bytes(_jsonl(_records(5)))
    many.write_bytes(_jsonl(_records(1500, 100)))
    ix_dir = small_disk / "ix"
    assert vnsearch("index", str(few), "--index-dir", str(ix_dir), "-q").returncode == 0
    for jobs in ("1", "2"):  # an update that fills the disk, written by the parent or by workers
        out = vnsearch("index", str(many), "--index-dir", str(ix_dir), "-q", "--jobs", jobs)
        _no_traceback(out)
        assert out.returncode == 1 and out.stderr.startswith("Error: disk full while writing the index"), out.stderr
        assert "nothing was changed" in out.stderr and out.stderr.count("\n") == 1
        assert _leftovers(ix_dir) == [] and _count(ix_dir) == 5
    again = vnsearch("index", str(few), str(tmp_path / "one.jsonl"), "--index-dir", str(ix_dir), "-q")
    assert again.returncode == 3 and "5 unchanged" in again.stdout  # works at once (one.jsonl is missing)
    (tmp_path / "big.jsonl").write_bytes(_jsonl(_records(10_000, 5000)))  # about 10 MB of text
    rebuild = vnsearch("index", str(tmp_path / "big.jsonl"), "--index-dir", str(ix_dir), "--rebuild", "-q")
    assert rebuild.returncode == 1 and "not enough free space" in rebuild.stderr and "MB needed" in rebuild.stderr
    with open_index(ix_dir) as ix:
        assert ix.count() == 5 and ix.search("Mặt trận").total == 5


def _count(index_dir: Path) -> int:
    with open_index(index_dir) as ix:
        return ix.count()


def test_a_short_write_in_a_worker_is_a_full_disk(tmp_path, monkeypatch):
    """NumPy's tofile reports a full disk as 'N requested and M written', with no errno."""
    from indexer.errors import DiskFull, is_disk_full
    from indexer.store import segment_writer as writer_module

    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(_jsonl(_records(200)))
    ix = open_index(tmp_path / "ix")
    parent = os.getpid()
    real = writer_module.FastSegmentWriter.add_document

    def add_document(self, **fields):
        if os.getpid() != parent and fields["id"] == "r00150":
            raise OSError("212041 requested and 11232 written")
        return real(self, **fields)

    monkeypatch.setattr(writer_module.FastSegmentWriter, "add_document", add_document)
    with pytest.raises(DiskFull, match="disk full while writing the index"):
        ix.update([feed], jobs=2)
    assert is_disk_full(OSError("212041 requested and 11232 written")) and not is_disk_full(OSError("other"))
    assert ix.count() == 0


def test_a_disk_that_fills_after_the_commit_leaves_no_half_written_cache(tmp_path, monkeypatch):
    import errno

    import indexer.build.linecache as build

    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(_jsonl(_records(20)))
    ix = open_index(tmp_path / "ix")
    ix.update([feed], jobs=1)
    feed.write_bytes(_jsonl(_records(25)))

    def dump(value, f):
        f.write(b"x" * 1000)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(build.marshal, "dump", dump)
    report = ix.update([feed], jobs=1)
    assert report.added == 5 and any("the update was committed" in p.reason for p in report.warnings)
    assert not list(current_generation(tmp_path / "ix").glob("*.tmp*")) and ix.count() == 25


def test_a_moved_source_hands_its_articles_over_and_forget_drops_what_is_left(corpus_dir, tmp_path):
    ix_dir = str(tmp_path / "ix")
    assert vnsearch("index", str(corpus_dir), "--index-dir", ix_dir, "-q").returncode == 0
    moved = tmp_path / "news"
    corpus_dir.rename(moved)
    edited = moved / "002_bc0217ec24ab4b99.txt"
    edited.write_text(edited.read_text(encoding="utf-8").replace("Sơn Tây", "Sơn Tây Xanh", 1), encoding="utf-8")
    (moved / "004_b988110fdcdce38a.txt").unlink()
    out = vnsearch("index", str(moved), str(corpus_dir), "--index-dir", ix_dir, "-q", "--json")
    report = json.loads(out.stdout)
    # The new path takes over the 11 it holds (one edited); the missing old path keeps the 12th.
    assert out.returncode == 3 and report["updated"] == 11 and report["removed"] == 0, out.stdout
    assert report["skipped_total"] == 1  # the old path: no such file or folder
    with open_index(ix_dir) as ix:
        assert ix.search("Sơn Tây Xanh").hits[0].id == "002_bc0217ec24ab4b99.txt" and ix.count() == 12
    forget = vnsearch("forget", str(corpus_dir), "--index-dir", ix_dir)
    assert forget.returncode == 0 and forget.stdout.startswith("removed 1 article indexed from"), forget.stderr
    with open_index(ix_dir) as ix:
        assert ix.count() == 11 and ix.get("004_b988110fdcdce38a.txt") is None
    again = vnsearch("index", str(moved), "--index-dir", ix_dir, "-q")
    assert again.returncode == 0 and "11 unchanged" in again.stdout
    assert vnsearch("forget", "x", "--index-dir", str(tmp_path / "none")).returncode == 1


# --- defects M-T of the harness rerun --------------------------------------------------
def test_a_rebuild_over_a_source_it_cannot_read_whole_is_not_published(tmp_path):
    """Defect M: a rebuild holds only what it read; published, it lost the rest."""
    feed = tmp_path / "a.jsonl.gz"
    feed.write_bytes(gzip.compress(_jsonl(_records(20))))
    ix = str(tmp_path / "ix")
    assert vnsearch("index", str(feed), "--index-dir", ix, "-q").returncode == 0
    live = current_generation(Path(ix))
    feed.write_bytes(feed.read_bytes()[:400])
    out = vnsearch("index", str(feed), "--index-dir", ix, "-q", "--rebuild")
    _no_traceback(out)
    assert out.returncode == 1 and "the rebuild was not published" in out.stderr, out.stderr
    assert current_generation(Path(ix)) == live and len(list(Path(ix).glob("gen-*"))) == 1
    with open_index(ix) as index:
        assert index.count() == 20
    missing = vnsearch("index", str(tmp_path / "gone.jsonl"), "--index-dir", str(tmp_path / "new"), "-q", "--rebuild")
    assert missing.returncode == 3  # a first build has nothing to lose: published, with exit 3


def test_an_unreachable_owner_keeps_its_articles_from_a_mirror(tmp_path):
    """Defect N: a source that exists but cannot be reached is not gone; only a source that
    does not exist hands its ids over."""
    if not _as_nobody_works():
        pytest.skip("cannot run the indexer as an unprivileged user here (setpriv)")
    base = _world_dir()
    try:
        (base / "feeds").mkdir()
        (base / "feeds" / "a.jsonl").write_bytes(_jsonl(_records(10)))
        (base / "mirror.jsonl").write_bytes(_jsonl([dict(r, title="Bản sao") for r in _records(3)]))
        for path in [base, *base.rglob("*")]:
            path.chmod(0o777 if path.is_dir() else 0o666)
        ix = str(base / "ix")
        args = ("index", str(base / "feeds" / "a.jsonl"), str(base / "mirror.jsonl"), "--index-dir", ix, "-q")
        assert vnsearch(*args, prefix=NOBODY).returncode == 0
        (base / "feeds").chmod(0)
        out = vnsearch(*args, prefix=NOBODY)
        assert out.returncode == 3 and "0 updated" in out.stdout, out.stdout
        (base / "feeds").chmod(0o777)
        with open_index(ix) as index:
            assert index.get("r00001").title.startswith("Tin số 1")  # a's own, not the mirror's
    finally:
        for path in [base, *base.rglob("*")]:
            path.chmod(0o777)
        shutil.rmtree(base, ignore_errors=True)


def test_dot_dot_after_a_link_names_the_source_the_system_reads(tmp_path):
    """Defect P: ``link/../src`` is the ``src`` beside the link's target, not beside the link."""
    from indexer.ingest.sources import origin_of

    (tmp_path / "elsewhere" / "sub").mkdir(parents=True)
    (tmp_path / "elsewhere" / "src").mkdir()
    (tmp_path / "src").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "elsewhere" / "sub")
    assert origin_of(tmp_path / "link" / ".." / "src") == str(tmp_path / "elsewhere" / "src")
    assert origin_of(str(tmp_path / "src") + "/") == str(tmp_path / "src")
    assert origin_of(tmp_path / "link") == str(tmp_path / "link")  # the last step as named


def test_forget_keeps_what_another_source_holds_and_fails_in_one_line(tmp_path):
    """Defects Q and R: forgetting a source does not remove what a mirror holds; a busy or
    missing index is one line, and the index folder is not created."""
    a, mirror = tmp_path / "a.jsonl", tmp_path / "mirror.jsonl"
    a.write_bytes(_jsonl(_records(10)))
    mirror.write_bytes(_jsonl([dict(r, title="Bản sao") for r in _records(3)]))
    ix = str(tmp_path / "ix")
    vnsearch("index", str(a), str(mirror), "--index-dir", ix, "-q")
    out = vnsearch("forget", str(a), "--index-dir", ix)
    assert out.returncode == 0 and out.stdout.startswith("removed 7 articles indexed from"), out.stdout
    assert out.stdout.count("  kept ") == 3
    with open_index(ix) as index:
        assert index.count() == 3
    again = vnsearch("index", str(mirror), "--index-dir", ix, "-q")
    assert again.returncode == 0 and "3 updated" in again.stdout
    with open_index(ix) as index:
        assert index.get("r00001").title == "Bản sao"
    assert vnsearch("forget", str(a), "--index-dir", ix).stdout.startswith("no article was indexed from")
    nowhere = tmp_path / "no" / "such"
    gone = vnsearch("forget", str(a), "--index-dir", str(nowhere))
    assert gone.returncode == 1 and gone.stderr.startswith("Error: no index") and not nowhere.exists()


def test_usage_and_filesystem_errors_are_one_line(tmp_path):
    """Defect R: an unwritable --problems path is a usage error; an index on a read-only
    folder is one line; an empty path names no source."""
    feed = tmp_path / "a.jsonl"
    feed.write_bytes(_jsonl(_records(3)))
    bad = vnsearch("index", str(feed), "--index-dir", str(tmp_path / "ix"), "--problems", "/nonexist/p.jsonl")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert vnsearch("index", "", "--index-dir", str(tmp_path / "ix")).returncode == 2
    if os.geteuid() == 0:
        prefix = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--inh-caps",
                  "-dac_override,-dac_read_search"]
    else:
        prefix = []
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        out = vnsearch("index", str(feed), "--index-dir", str(ro / "ix"), "-q", prefix=prefix)
        _no_traceback(out)
        assert out.returncode == 1 and out.stderr.startswith("Error: could not write the index"), out.stderr
    finally:
        ro.chmod(0o755)


def test_sigterm_stops_a_run_cleanly(tmp_path):
    """Defect S: SIGTERM stops a run as Ctrl-C does: exit 143, one line, nothing left over."""
    proc, _, ix_dir = _indexing_with_workers(tmp_path)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143 and err.strip() == "Error: terminated: nothing was changed", err
    assert _leftovers(ix_dir) == [] and _count(ix_dir) == 10


def test_json_documents_are_not_read_as_one_article_and_ndjson_is_json_lines(tmp_path):
    """Defect T: a .json file was indexed as one article titled '{"id": ...'."""
    doc, nd = tmp_path / "feed.json", tmp_path / "feed.ndjson"
    doc.write_text(json.dumps(_records(3)), encoding="utf-8")
    nd.write_bytes(_jsonl(_records(3)))
    report = open_index(tmp_path / "ix").update([doc, nd], jobs=1)
    assert report.added == 3 and list(report.failed_sources) == [str(doc)]


def test_an_unmounted_disk_is_not_an_emptied_folder(tmp_path, small_disk):
    """An unmounted mount point is an empty folder: its articles are not gone."""
    mount = small_disk / "news"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], check=True)
    try:
        for n in range(5):
            (mount / f"a{n}.txt").write_text(ARTICLE.format(n=n, m=1, token=f"t{n}"), encoding="utf-8")
        ix = str(tmp_path / "ix")
        assert vnsearch("index", str(mount), "--index-dir", ix, "-q").returncode == 0
    finally:
        subprocess.run(["umount", str(mount)], check=True)
    out = vnsearch("index", str(mount), "--index-dir", ix, "-q")
    assert out.returncode == 3 and "a disk not mounted?" in out.stdout and "0 removed" in out.stdout, out.stdout
    assert _count(Path(ix)) == 5
    assert vnsearch("forget", str(mount), "--index-dir", ix).stdout.startswith("removed 5")  # if it is gone for good
