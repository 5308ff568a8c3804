"""Broken and hostile sources: a bad feed must never cost the index an article.

    python reliability/sources.py                 # every kind (~1 min on 2 cores)
    python reliability/sources.py --only gz-cut-50,jsonl-fifo

An index is built once from three sources of real corpus articles (``../shared``; generated
Vietnamese articles where it is missing): a ``.jsonl.gz`` feed, a plain ``.jsonl`` feed and a
folder of ``.txt`` articles with a subfolder.  For each kind of breakage, a copy of that index
and its sources is restored at the same paths, one source is broken (or something hostile is
added to it), and ``vnsearch index`` is run over all the sources, as a cron job would, under
file modes that bite (as root, without the capabilities that bypass them).  Each kind checks:

* no article lost: the ids after are those before, less only what the source legitimately
  no longer holds (a feed cut exactly at a line end, which no reader can tell from a shorter
  feed), plus what it legitimately adds; kinds that change nothing must update nothing;
* the documented exit code (0 done; 3 a source could not be read whole; 1 failed) and, when
  not 0, one line on stderr starting ``Error:``, no traceback; a failed source is named in the
  report; the index opens and answers a search;
* the run ends within ``--bound`` seconds (it is killed at twice that);
* peak RSS (wait4's, of the indexer or any of its workers) within 300 MB of the same run on
  the clean sources (measured first, same command);
* no leftovers (temporary files, unreferenced segment files).

Kinds marked ``known`` are defects found by this harness and reported, still checked: they
show as FAIL (known) until fixed.  Writes reliability/results/sources.json and .log.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    RESULTS,
    Run,
    as_json_line,
    as_text_file,
    code_version,
    corpus_articles,
    drop_dac,
    index_command,
    leftovers,
    live_manifest,
    main_pid,
    run_measured,
    running,
    write_results,
)

RSS_MARGIN_MB = 300
PATHS = ["src/feed.jsonl.gz", "src/feed.jsonl", "src/articles"]


@dataclass
class Expect:
    rc: tuple[int, ...] = (0,)
    removed: set[str] = field(default_factory=set)   # ids the source legitimately no longer holds
    added: int | None = 0                            # articles the change legitimately adds (None: any)
    failed: str | tuple[str, ...] | None = None      # a source that must be reported not read whole (name ends)
    unchanged: bool = False                          # nothing may be added, updated or removed
    paths: list[str] | None = None                   # instead of PATHS
    during: Callable | None = None                   # a fault injected while the run goes on
    extra: tuple[str, ...] = ()                      # more options for vnsearch index (--rebuild)
    check: Callable[[Path, dict, dict], list[str]] | None = None  # (case, manifest after, report) -> failures


@dataclass
class Kind:
    name: str
    what: str
    apply: Callable[[Case], Expect]
    known: str = ""           # a defect this harness found (reported), still checked
    heavy: bool = False       # takes tens of seconds; --quick leaves it out


@dataclass
class Case:
    """The restored sources and index of one kind (always at the same paths, so the index's
    canonical source paths match)."""

    dir: Path
    articles: dict[str, list[dict]]  # "gz", "jsonl", "folder", "sub" -> articles

    @property
    def src(self) -> Path:
        return self.dir / "src"

    def ids(self, key: str) -> set[str]:
        if key in ("folder", "sub"):
            prefix = "sub/" if key == "sub" else ""
            return {f"{prefix}{a['file']}" for a in self.articles[key]}
        return {a["id"] for a in self.articles[key]}

    def jsonl_bytes(self, key: str) -> bytes:
        return "".join(as_json_line(a) + "\n" for a in self.articles[key]).encode("utf-8")


# --- building blocks ---------------------------------------------------------------------

def _member(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=6, mtime=0)


def _stream_member(chunk: bytes, times: int) -> bytes:
    """One gzip member of ``chunk`` repeated ``times``, compressed without holding it whole."""
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [c.compress(chunk) for _ in range(times)]
    return b"".join(parts) + c.flush()


def _append_lines(path: Path, lines: list[str | bytes]) -> None:
    with open(path, "ab") as fh:
        for line in lines:
            fh.write((line.encode("utf-8") if isinstance(line, str) else line) + b"\n")


def _good(rid: str, **extra) -> dict:
    return {"id": rid, "title": f"Bài thử {rid}", "body": "Ủy ban nhân dân xã tổ chức hội nghị tổng kết. "
            "Mặt trận Tổ quốc vận động người dân tham gia.", "date": "2021-05-01", **extra}


def _problems(case: Path) -> list[dict]:
    path = case / "problems.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def _reasons_for(case: Path, fragment: str) -> list[str]:
    return [p["reason"] for p in _problems(case) if fragment in p["where"]]


def _absent(*ids: str) -> Callable[[Path, dict, dict], list[str]]:
    def check(case: Path, manifest: dict, report: dict) -> list[str]:
        return [f"id {i!r} was indexed" for i in ids if i in manifest]
    return check


def _all_ids_servable(case: Path, manifest: dict, report: dict) -> list[str]:
    from indexer import id_problem

    return [f"indexed id {i!r}: {id_problem(i)}" for i in manifest if id_problem(i)]


def _both(*checks):
    def check(case, manifest, report):
        return [f for c in checks for f in c(case, manifest, report)]
    return check


# --- the kinds -------------------------------------------------------------------------------

def gz_cut(share: float):
    def apply(c: Case) -> Expect:
        data = (c.src / "feed.jsonl.gz").read_bytes()
        (c.src / "feed.jsonl.gz").write_bytes(data[: int(len(data) * share)])
        return Expect(rc=(3,), failed="feed.jsonl.gz")
    return apply


def gz_cut_trailer(c: Case) -> Expect:
    data = (c.src / "feed.jsonl.gz").read_bytes()
    (c.src / "feed.jsonl.gz").write_bytes(data[:-5])  # the deflate stream whole, the CRC/size trailer cut
    return Expect(rc=(3,), failed="feed.jsonl.gz")


def gz_not_gzip(c: Case) -> Expect:
    (c.src / "feed.jsonl.gz").write_bytes(c.jsonl_bytes("gz"))  # plain JSON lines under a .gz name
    return Expect(rc=(3,), failed="feed.jsonl.gz")


def gz_bad_crc(c: Case) -> Expect:
    data = bytearray((c.src / "feed.jsonl.gz").read_bytes())
    data[-8:-4] = bytes(b ^ 0xFF for b in data[-8:-4])
    (c.src / "feed.jsonl.gz").write_bytes(bytes(data))
    return Expect(rc=(3,), failed="feed.jsonl.gz")


def gz_corrupt_middle(c: Case) -> Expect:
    data = bytearray((c.src / "feed.jsonl.gz").read_bytes())
    mid = len(data) // 2
    rnd = random.Random(3)
    for k in range(mid, mid + 64):
        data[k] = rnd.randrange(256)
    (c.src / "feed.jsonl.gz").write_bytes(bytes(data))
    return Expect(rc=(3,), failed="feed.jsonl.gz")


def gz_empty(c: Case) -> Expect:
    (c.src / "feed.jsonl.gz").write_bytes(b"")  # not even a gzip header: a copy cut short
    return Expect(rc=(3,), failed="feed.jsonl.gz")


def gz_bomb_line(c: Case) -> Expect:
    # The feed's own articles, then a ~1 MB member inflating to one 1 GiB line.
    with open(c.src / "feed.jsonl.gz", "ab") as fh:
        fh.write(_stream_member(b"x" * (1 << 24), 64))
    return Expect(rc=(3,), failed="feed.jsonl.gz")


def gz_junk_lines(c: Case) -> Expect:
    (c.src / "feed.jsonl.gz").write_bytes(_stream_member(b"x\n" * 1000, 2000))  # 2,000,000 lines
    return Expect(rc=(3,), failed="feed.jsonl.gz")


def gz_blank_lines(c: Case) -> Expect:
    # The articles, then 64 Mi empty lines in a ~60 KB member: not a feed (10,000 lines in a row
    # without an article), given up at once; reading them all took 50 s before 1778340.
    with open(c.src / "feed.jsonl.gz", "ab") as fh:
        fh.write(_stream_member(b"\n" * (1 << 22), 16))
    return Expect(rc=(3,), failed="feed.jsonl.gz")


def jsonl_cut_mid_line(c: Case) -> Expect:
    data = (c.src / "feed.jsonl").read_bytes()
    cut = len(data) // 2
    while data[cut - 1:cut] == b"\n":
        cut += 7
    (c.src / "feed.jsonl").write_bytes(data[:cut])  # a copy cut short: the last line has no end
    return Expect(rc=(3,), failed="feed.jsonl")


def jsonl_cut_at_line(c: Case) -> Expect:
    records = c.articles["jsonl"]
    keep = len(records) // 2
    (c.src / "feed.jsonl").write_bytes("".join(as_json_line(a) + "\n" for a in records[:keep]).encode())
    # Indistinguishable from a feed that dropped its older half: a legitimate removal.
    return Expect(rc=(0,), removed={a["id"] for a in records[keep:]})


def chmod_000(rel: str, rc: tuple[int, ...] = (3,), failed: str | None = None):
    def apply(c: Case) -> Expect:
        os.chmod(c.src / rel, 0)
        return Expect(rc=rc, failed=failed)
    return apply


def missing(rel: str, failed: str):
    def apply(c: Case) -> Expect:
        target = c.src / rel
        shutil.rmtree(target) if target.is_dir() else target.unlink()
        return Expect(rc=(3,), failed=failed)
    return apply


def fifo(rel: str, rc=(3,), failed: str | None = "feed.jsonl", also_new: str | None = None):
    def apply(c: Case) -> Expect:
        (c.src / rel).unlink()
        os.mkfifo(c.src / rel)
        if also_new:
            os.mkfifo(c.src / also_new)
        return Expect(rc=rc, failed=failed)
    return apply


def symlink_to(rel: str, target: str, rc=(3,), failed: str | None = "feed.jsonl"):
    def apply(c: Case) -> Expect:
        path = c.src / rel
        if path.exists() or path.is_symlink():
            path.unlink()
        os.symlink(target if target != "<self>" else path.name, path)
        return Expect(rc=rc, failed=failed)
    return apply


def jsonl_is_folder(c: Case) -> Expect:
    (c.src / "feed.jsonl").unlink()
    (c.src / "feed.jsonl").mkdir()
    (c.src / "feed.jsonl" / "note.txt").write_text("Tiêu đề lạ\n01/01/2021\nMột bài viết lạc chỗ.\nPV\n", "utf-8")
    return Expect(rc=(3,), failed="feed.jsonl")


def jsonl_sparse_tail(c: Case) -> Expect:
    path = c.src / "feed.jsonl"
    os.truncate(path, path.stat().st_size + 12 * 2**30)  # 12 GiB of zeros, no line end, 0 bytes on disk
    # A line over 64 MB is not a record: the source is given up there (read to its end, 48 s, before 1778340).
    return Expect(rc=(3,), failed="feed.jsonl")


def jsonl_deep(c: Case) -> Expect:
    _append_lines(c.src / "feed.jsonl", [
        '{"id": "deep1", "title": "t", "body": "nội dung", "e": ' + "[" * 100_000 + "]" * 100_000 + "}",
        "[" * 1_000_000,
        '{"a":' * 200_000 + "1" + "}" * 200_000,
        '{"id": "deep2", "title": "t", "body": "nội dung", "e": ' + '{"k":' * 50_000 + "0" + "}" * 50_000 + "}",
    ])
    return Expect(rc=(0,), check=_absent("deep1", "deep2"))


def jsonl_numbers(c: Case) -> Expect:
    _append_lines(c.src / "feed.jsonl", [
        '{"id": 1e999, "title": "vô cực", "body": "x"}',
        '{"id": NaN, "title": "không phải số", "body": "x"}',
        '{"id": -Infinity, "title": "âm vô cực", "body": "x"}',
        '{"id": ' + "9" * 5000 + ', "title": "số rất dài", "body": "x"}',
        '{"id": ' + "9" * 600 + ', "title": "id 600 chữ số", "body": "x"}',
        ('{"id": "num-date", "title": "Ngày là số", "body": "Mặt trận Tổ quốc xã tổ chức hội nghị.", '
         '"date": 1e400}'),
        '{"id": "nan-title", "title": NaN, "body": "x"}',
        '{"id": 1.5, "title": "id thập phân", "body": "x"}',
    ])
    return Expect(rc=(0,), added=1, check=_absent("nan-title", "1.5", "inf", "nan"))


def jsonl_wrong_types(c: Case) -> Expect:
    _append_lines(c.src / "feed.jsonl", [
        json.dumps({"id": ["a"], "title": "t", "body": "x"}),
        json.dumps({"id": True, "title": "t", "body": "x"}),
        json.dumps({"id": {"x": 1}, "title": "t", "body": "x"}),
        json.dumps({"id": "wt-title", "title": ["a"], "body": "x"}),
        json.dumps({"id": "wt-body", "title": "t", "body": {"p": "x"}}),
        json.dumps({"id": "wt-author", **{k: v for k, v in _good("wt-author").items() if k != "id"}, "author": [1]}),
        json.dumps(["không", "phải", "đối tượng"], ensure_ascii=False),
        '"chỉ là chuỗi"', "42", "null", "true",
    ])
    return Expect(rc=(0,), added=1, check=_absent("wt-title", "wt-body"))


def jsonl_surrogates(c: Case) -> Expect:
    _append_lines(c.src / "feed.jsonl", [
        '{"id": "sur\\ud800", "title": "t", "body": "x"}',
        '{"id": "sur-title", "title": "Tiêu đề \\udfff lẻ", "body": "Mặt trận Tổ quốc xã tổ chức hội nghị."}',
        '{"id": "sur-body", "title": "Thân bài lẻ", "body": "Hội nghị \\ud83d tổng kết năm."}',
        b'{"id": "raw-surrogate", "title": "t", "body": "\xed\xa0\x80"}',  # a surrogate encoded as UTF-8 bytes
    ])
    return Expect(rc=(0,), added=3)  # sur-title, sur-body with '?', raw-surrogate read with U+FFFD


def jsonl_bad_ids(c: Case) -> Expect:
    ids = ["../../etc/passwd", "a\nb", "x" * 600, "/etc/passwd", "a\\b", "..", " ", "ok/../../x", "tab\tid",
           "nul\x00id", "del\x7fid"]
    _append_lines(c.src / "feed.jsonl", [json.dumps(_good(i)) for i in ids])
    return Expect(rc=(0,), check=_both(_absent(*ids), _all_ids_servable))


def jsonl_garbage_appended(c: Case) -> Expect:
    rnd = random.Random(5)
    with open(c.src / "feed.jsonl", "ab") as fh:
        fh.write(bytes(rnd.randrange(256) for _ in range(256 * 1024)))
    return Expect(rc=(0,))


def jsonl_all_garbage(c: Case) -> Expect:
    rnd = random.Random(6)
    (c.src / "feed.jsonl").write_bytes(bytes(rnd.randrange(256) for _ in range(256 * 1024)))
    return Expect(rc=(3,), failed="feed.jsonl")  # wrong format: not JSON lines at all


def jsonl_json_array(c: Case) -> Expect:
    # The same articles as one pretty-printed JSON array (a common export): wrong format.
    (c.src / "feed.jsonl").write_text(json.dumps(c.articles["jsonl"], ensure_ascii=False, indent=1), "utf-8")
    return Expect(rc=(3,), failed="feed.jsonl")


def jsonl_crlf_bom(c: Case) -> Expect:
    text = c.jsonl_bytes("jsonl").replace(b"\n", b"\r\n")
    (c.src / "feed.jsonl").write_bytes(b"\xef\xbb\xbf" + text)
    return Expect(rc=(0,), unchanged=True)


def jsonl_no_final_newline(c: Case) -> Expect:
    (c.src / "feed.jsonl").write_bytes(c.jsonl_bytes("jsonl").rstrip(b"\n"))  # complete, without a last \n
    return Expect(rc=(0,), unchanged=True)


def jsonl_emptied(c: Case) -> Expect:
    (c.src / "feed.jsonl").write_bytes(b"")  # emptied on purpose: a legitimate removal (README)
    return Expect(rc=(0,), removed=c.ids("jsonl"))


def folder_emptied(c: Case) -> Expect:
    for path in (c.src / "articles").rglob("*.txt"):
        path.unlink()
    return Expect(rc=(0,), removed=c.ids("folder") | c.ids("sub"))


def gz_trailing_garbage(c: Case) -> Expect:
    with open(c.src / "feed.jsonl.gz", "ab") as fh:
        fh.write(b"this is not gzip" * 64)
    return Expect(rc=(3,), failed="feed.jsonl.gz")


def same_source_twice(c: Case) -> Expect:
    return Expect(rc=(0,), unchanged=True, paths=PATHS + ["src/feed.jsonl", "./src/articles/"])


def folder_symlink_release(c: Case) -> Expect:
    # A deploy that switches a symlink: the folder becomes releases/r2 (one article edited) and
    # src/articles a link to it.  Same articles, same name given on the command line.
    (c.src / "releases").mkdir()
    os.rename(c.src / "articles", c.src / "releases" / "r2")
    os.symlink("releases/r2", c.src / "articles")
    edited = c.src / "releases" / "r2" / c.articles["folder"][0]["file"]
    edited.write_text(edited.read_text("utf-8").replace("\n", " Đã sửa.\n", 3), "utf-8")
    before = live_manifest(c.dir / "ix")
    name = c.articles["folder"][0]["file"]

    def check(case: Path, manifest: dict, report: dict) -> list[str]:
        out = []
        if manifest.get(name, ("",))[0] == before[name][0]:
            out.append(f"the edited article {name!r} was not updated")
        dups = sum("duplicate id" in p["reason"] for p in _problems(case))
        if dups:
            out.append(f"{dups} articles reported as duplicates of themselves")
        return out

    return Expect(rc=(0,), check=check)


def folder_renamed(c: Case) -> Expect:
    # The folder renamed (src/articles -> src/news), one article edited, one deleted, and the
    # cron job told the new name.
    os.rename(c.src / "articles", c.src / "news")
    first, second = (a["file"] for a in c.articles["folder"][:2])
    edited = c.src / "news" / first
    edited.write_text(edited.read_text("utf-8").replace("\n", " Đã sửa.\n", 3), "utf-8")
    (c.src / "news" / second).unlink()
    before = live_manifest(c.dir / "ix")

    def check(case: Path, manifest: dict, report: dict) -> list[str]:
        out = []
        if manifest.get(first, ("",))[0] == before[first][0]:
            out.append(f"the edited article {first!r} was not updated")
        return out + _no_duplicates(case, manifest, report)

    # The old name, gone, hands the ids the new one holds over to it; the deleted article stays
    # under the old name, which is not read, until `vnsearch forget src/articles` (tests/test_sources.py).
    return Expect(rc=(0,), paths=["src/feed.jsonl.gz", "src/feed.jsonl", "src/news"], check=check)


def _opened(proc, name: str, timeout: float = 30.0) -> float | None:
    """Seconds until the indexer has ``name`` open (None: it never did)."""
    started = time.perf_counter()
    pid = main_pid(proc.pid)
    while pid is not None and running(proc) and time.perf_counter() - started < timeout:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            return None
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}").endswith(name):
                    return time.perf_counter() - started
            except OSError:  # closed meanwhile
                continue
        time.sleep(0.005)
    return None


def jsonl_truncated_while_read(c: Case) -> Expect:
    # 1,000 new articles first (reading is paced by analysis, so this takes seconds), then the
    # feed's own, changed; the file is cut in place, 0.3 s after the indexer opened it, where
    # the feed's own articles start: a feed rewritten non-atomically while it is read.
    path = c.src / "feed.jsonl"
    new = "".join(as_json_line(_good(f"new{k:04d}")) + "\n" for k in range(1000)).encode("utf-8")
    changed = [dict(a, body=a["body"] + " Bản cập nhật.") for a in c.articles["jsonl"]]
    path.write_bytes(new + "".join(as_json_line(a) + "\n" for a in changed).encode("utf-8"))

    def during(proc) -> dict:
        opened = _opened(proc, "src/feed.jsonl")
        if opened is None:
            return {"opened": False}
        time.sleep(0.3)
        os.truncate(path, len(new))
        return {"opened_after_s": round(opened, 2), "truncated_after_s": round(opened + 0.3, 2)}

    return Expect(rc=(0, 3), added=None, during=during)


def two_sources_dup_ids(c: Case) -> Expect:
    dup = [dict(a, title="BẢN SAO " + a["title"]) for a in c.articles["jsonl"][:20]]
    (c.src / "dup.jsonl").write_text("".join(as_json_line(a) + "\n" for a in dup), "utf-8")
    before = live_manifest(c.dir / "ix")

    def check(case: Path, manifest: dict, report: dict) -> list[str]:
        out = [f"{a['id']}: the second source's copy replaced the first" for a in dup
               if manifest.get(a["id"]) != before.get(a["id"])]
        if not any("duplicate id" in r for r in _reasons_for(case, "dup.jsonl")):
            out.append("duplicates not reported")
        return out

    return Expect(rc=(0,), paths=PATHS + ["src/dup.jsonl"], check=check)


def folder_is_file(c: Case) -> Expect:
    shutil.rmtree(c.src / "articles")
    (c.src / "articles").write_text(as_text_file(c.articles["folder"][0]), "utf-8")  # one article, no .txt
    return Expect(rc=(3,), failed="articles")


def txt_replaced(kind: str, rc: tuple[int, ...] = (0,), failed: str | None = None):
    """An indexed article's file replaced by something that cannot be read: its old version stays."""
    def apply(c: Case) -> Expect:
        path = c.src / "articles" / c.articles["folder"][0]["file"]
        path.unlink()
        if kind == "fifo":
            os.mkfifo(path)
            os.mkfifo(c.src / "articles" / "pipe.txt")
        elif kind == "devices":
            os.symlink("/dev/zero", path)
            os.symlink("/dev/zero", c.src / "articles" / "zero.txt")
            os.symlink("/dev/urandom", c.src / "articles" / "random.txt")
        elif kind == "links":
            os.symlink("nowhere.txt", path)  # dangling
            os.symlink("loop.txt", c.src / "articles" / "loop.txt")
            os.symlink("../articles", c.src / "articles" / "sub" / "up")  # a folder loop
        return Expect(rc=rc, failed=failed)
    return apply


def txt_encodings(c: Case) -> Expect:
    folder = c.src / "articles"
    russian = "Новости дня\n01.05.2021\nПравительство объявило о новых мерах поддержки экономики страны.\nИван\n"
    chinese = "今日新闻\n2021年5月1日\n政府宣布了支持国家经济的新措施，各地积极落实。\n记者\n"
    vietnamese = "Bài viết UTF-32 mãthửba\n01/05/2021\nỦy ban nhân dân xã tổ chức hội nghị mãthửba.\nPV\n"
    (folder / "koi8r.txt").write_bytes(russian.encode("koi8_r"))
    (folder / "gb18030.txt").write_bytes(chinese.encode("gb18030"))
    (folder / "utf32.txt").write_bytes(vietnamese.encode("utf-32"))  # with a BOM

    def check(case: Path, manifest: dict, report: dict) -> list[str]:
        out = []
        for name in ("koi8r.txt", "gb18030.txt"):
            if name in manifest:
                out.append(f"{name} indexed (as garbage)")
            reasons = _reasons_for(case, name)
            if not reasons or any("read as Windows" in r for r in reasons):
                out.append(f"{name}: reason {reasons!r}")
        if "utf32.txt" not in manifest:
            out.append("UTF-32 with a BOM not indexed")
        return out

    return Expect(rc=(0,), added=1, check=check)


def txt_binary(c: Case) -> Expect:
    rnd = random.Random(8)
    folder = c.src / "articles"
    (folder / "random.txt").write_bytes(bytes(rnd.randrange(256) for _ in range(64 * 1024)))
    (folder / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(4096))
    (folder / "elf.txt").write_bytes(Path(sys.executable).resolve().read_bytes()[:65536])
    with open(folder / "huge.txt", "wb") as fh:  # 2 GiB, sparse
        fh.truncate(2 * 2**30)
    return Expect(rc=(0,))


def _no_duplicates(case: Path, manifest: dict, report: dict) -> list[str]:
    dups = sum("duplicate id" in p["reason"] for p in _problems(case))
    return [f"{dups} articles reported as duplicates of themselves"] if dups else []


def spelled_differently(c: Case) -> Expect:
    os.symlink("src", c.dir / "link-to-src")  # a link among the folders above is resolved
    paths = ["./src/feed.jsonl.gz", str(c.dir / "src" / "feed.jsonl"), "link-to-src/articles/"]
    return Expect(rc=(0,), unchanged=True, paths=paths, check=_no_duplicates)


def named_through_link(c: Case) -> Expect:
    # The folder named by a symlink to it: since f87d402 the last step of a path is a source's
    # name as given (so a deploy's switched link stays one source), so this is another source
    # holding the same ids: reported as duplicates, nothing lost or changed (before: one source).
    os.symlink("src/articles", c.dir / "link-to-articles")
    return Expect(rc=(0,), unchanged=True, paths=["src/feed.jsonl.gz", "src/feed.jsonl", "link-to-articles"])


def folder_crlf_bom(c: Case) -> Expect:
    for path in (c.src / "articles").rglob("*.txt"):
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    return Expect(rc=(0,), unchanged=True)


# --- found after the hand-over of a missing source's ids (5a9606d) -----------------------------

def rebuild(broken: Callable[[Case], Expect] | None = None):
    """``--rebuild`` over the three sources, one of them broken first (None: none).  With a
    source that cannot be read whole, the rebuild is not published (exit 1): published, it
    would hold none of what that source held (defect M)."""
    def apply(c: Case) -> Expect:
        expect = broken(c) if broken is not None else Expect(rc=(0,))
        if expect.failed is not None:
            expect = Expect(rc=(1,), unchanged=True, paths=expect.paths)
        expect.extra = ("--rebuild",)
        return expect
    return apply


def _kept_as_before(ids: list[str], before: dict) -> Callable[[Path, dict, dict], list[str]]:
    """Each of ``ids`` still indexed in the version, and from the source, it was before."""
    def check(case: Path, manifest: dict, report: dict) -> list[str]:
        changed = [i for i in ids if manifest.get(i) != before.get(i)]
        if not changed:
            return []
        origin = manifest.get(changed[0], (None, None))[1]
        return [f"{len(changed)} of the {len(ids)} articles a mirror also holds were replaced by another "
                f"source's version (e.g. {changed[0]!r} now from {origin})"]
    return check


def _mirror(c: Case, name: str, count: int = 20) -> list[str]:
    """A feed outside src/ holding ``count`` of feed.jsonl's ids, retitled (a mirror, an aggregator)."""
    records = [dict(a, title="BẢN SAO " + a["title"]) for a in c.articles["jsonl"][:count]]
    (c.dir / name).write_text("".join(as_json_line(a) + "\n" for a in records), "utf-8")
    return [a["id"] for a in records]


def owner_unreachable_mirror(c: Case) -> Expect:
    # Every source is there, but the folder holding them cannot be searched (mode 000, as an NFS
    # export with the wrong owner, or a mount point on its way up would be): the sources fail and
    # must keep their articles, the 20 a mirror also holds included, in their own version.
    ids = _mirror(c, "mirror.jsonl")
    before = live_manifest(c.dir / "ix")
    os.chmod(c.src, 0)
    return Expect(rc=(3,), failed="feed.jsonl", paths=PATHS + ["mirror.jsonl"], check=_kept_as_before(ids, before))


def renamed_after_mirror(c: Case) -> Expect:
    # feed.jsonl renamed feed-2021.jsonl, unchanged; the cron job names a mirror holding 20 of its
    # ids first.  The renamed feed is the one the articles came from: its version should stay.
    ids = _mirror(c, "mirror.jsonl")
    before = live_manifest(c.dir / "ix")
    os.rename(c.src / "feed.jsonl", c.src / "feed-2021.jsonl")
    renamed = str(c.src / "feed-2021.jsonl")
    expected = {i: (h, renamed if o.endswith("/src/feed.jsonl") else o) for i, (h, o) in before.items()}

    def check(case: Path, manifest: dict, report: dict) -> list[str]:
        return _kept_as_before(ids, expected)(case, manifest, report)

    return Expect(rc=(0,), paths=["src/feed.jsonl.gz", "mirror.jsonl", "src/feed-2021.jsonl", "src/articles"],
                  check=check)


def dotdot_through_link(c: Case) -> Expect:
    # A path with '..' after a symlink: link/../src/feed.jsonl is, for the system, other/src/feed.jsonl
    # (link -> other/sub), a different feed of 5 articles.  Reading it must not stand for src/feed.jsonl,
    # which is not named in this run and keeps its 120.
    (c.dir / "other" / "sub").mkdir(parents=True)
    (c.dir / "other" / "src").mkdir()
    other = [_good(f"other{k}") for k in range(5)]
    (c.dir / "other" / "src" / "feed.jsonl").write_text("".join(json.dumps(a) + "\n" for a in other), "utf-8")
    os.symlink("other/sub", c.dir / "link")
    return Expect(rc=(0,), added=5, paths=["src/feed.jsonl.gz", "link/../src/feed.jsonl", "src/articles"])


# Defects this harness found, reported and now fixed, their kinds expected to pass.  In 1778340:
# a plain .jsonl cut mid-line, or in the wrong format (binary, a JSON array), or a folder source
# replaced by a file, removed what it held (exit 0); an over-long line was read to its end (12 GiB:
# 48 s); blank lines counted toward no guard (64 Mi of them: 51 s); an unreadable path on the
# command line was a usage error (exit 2) that updated no source.  In f87d402: a feed cut in place
# while read lost what followed the cut (F); a folder switched to a symlinked release was a new
# source, its edits never indexed (K).  After e8eecf0: a renamed source was a new one, every article
# a duplicate of the old name's (L); in 5a9606d a source that no longer exists hands its ids over.
# Open on 6de5e4c, marked ``known=`` (reported): a --rebuild drops what a failed source held (M); a
# source that cannot be reached counts as gone (N); a gone source's ids go to whichever source is read
# first (O); '..' after a symlink is resolved before the link (P).


KINDS: list[Kind] = [
    Kind("gz-cut-10", ".jsonl.gz cut at 10% of its bytes", gz_cut(0.10)),
    Kind("gz-cut-50", ".jsonl.gz cut at 50%", gz_cut(0.50)),
    Kind("gz-cut-90", ".jsonl.gz cut at 90%", gz_cut(0.90)),
    Kind("gz-cut-trailer", ".jsonl.gz missing its last 5 bytes (CRC/size trailer)", gz_cut_trailer),
    Kind("gz-not-gzip", "plain JSON lines named .jsonl.gz", gz_not_gzip),
    Kind("gz-bad-crc", ".jsonl.gz with a corrupt CRC", gz_bad_crc),
    Kind("gz-corrupt-middle", ".jsonl.gz with 64 random bytes in the middle", gz_corrupt_middle),
    Kind("gz-empty", ".jsonl.gz of 0 bytes", gz_empty),
    Kind("gz-trailing-garbage", "the .jsonl.gz followed by 1 KB that is not gzip", gz_trailing_garbage),
    Kind("gz-bomb-line", "the feed, then a 1 MB gzip member inflating to one 1 GiB line", gz_bomb_line),
    Kind("gz-junk-lines", ".jsonl.gz replaced by 2,000,000 lines of junk (~4 KB)", gz_junk_lines),
    Kind("gz-blank-lines", "the feed, then 64 Mi empty lines (~60 KB of gzip)", gz_blank_lines),
    Kind("jsonl-cut-mid-line", ".jsonl cut at 50%, inside a line", jsonl_cut_mid_line),
    Kind("jsonl-cut-at-line-end", ".jsonl cut at a line end (legitimately shorter: half removed)", jsonl_cut_at_line),
    Kind("jsonl-no-final-newline", ".jsonl rewritten without its last line end (complete)", jsonl_no_final_newline),
    Kind("jsonl-emptied", ".jsonl emptied on purpose (legitimately: all 120 removed)", jsonl_emptied),
    Kind("jsonl-mode-000", ".jsonl with mode 000", chmod_000("feed.jsonl", failed="feed.jsonl")),
    Kind("jsonl-missing", ".jsonl deleted", missing("feed.jsonl", "feed.jsonl")),
    Kind("jsonl-fifo", ".jsonl replaced by a FIFO (no writer)", fifo("feed.jsonl")),
    # A link is named in the report as given since f87d402 (by where it points before).
    Kind("jsonl-dev-zero", ".jsonl a symlink to /dev/zero",
         symlink_to("feed.jsonl", "/dev/zero", failed=("feed.jsonl", "/dev/zero"))),
    Kind("jsonl-dev-urandom", ".jsonl a symlink to /dev/urandom",
         symlink_to("feed.jsonl", "/dev/urandom", failed=("feed.jsonl", "/dev/urandom"))),
    Kind("jsonl-dangling-link", ".jsonl a dangling symlink",
         symlink_to("feed.jsonl", "gone.jsonl", failed=("feed.jsonl", "gone.jsonl"))),
    Kind("jsonl-link-loop", ".jsonl a symlink to itself", symlink_to("feed.jsonl", "<self>")),
    Kind("jsonl-eio", ".jsonl whose reads fail with EIO (a link to /proc/self/mem)",
         symlink_to("feed.jsonl", "/proc/self/mem", failed=("feed.jsonl", "/mem"))),
    Kind("jsonl-is-folder", ".jsonl replaced by a folder holding a .txt", jsonl_is_folder),
    Kind("jsonl-sparse-tail", "the feed, then 12 GiB of zeros without a line end (sparse)", jsonl_sparse_tail),
    Kind("jsonl-deep", "lines nested 100,000-1,000,000 deep", jsonl_deep),
    Kind("jsonl-numbers", "ids 1e999, NaN, -Infinity, 5,000 digits, 1.5; a date of 1e400", jsonl_numbers),
    Kind("jsonl-wrong-types", "ids, titles, bodies of the wrong type; records that are not objects",
         jsonl_wrong_types),
    Kind("jsonl-surrogates", "lone surrogates (escaped and as raw bytes) in id, title, body", jsonl_surrogates),
    Kind("jsonl-bad-ids", "ids the web cannot serve: '../../etc/passwd', newline, 600 chars, NUL, ...",
         jsonl_bad_ids),
    Kind("jsonl-garbage-appended", "the feed, then 256 KB of random bytes", jsonl_garbage_appended),
    Kind("jsonl-all-garbage", ".jsonl replaced by 256 KB of random bytes", jsonl_all_garbage),
    Kind("jsonl-json-array", ".jsonl replaced by the same articles as a JSON array", jsonl_json_array),
    Kind("jsonl-crlf-bom", ".jsonl rewritten with a BOM and CRLF line ends", jsonl_crlf_bom),
    Kind("jsonl-cut-while-read", "every article changed, then the file cut in half while being read",
         jsonl_truncated_while_read),
    Kind("dup-ids-two-sources", "a second feed holding 20 of the first feed's ids", two_sources_dup_ids),
    Kind("same-source-twice", "a feed and the folder each named twice in one run", same_source_twice),
    Kind("folder-symlink-release", "the folder moved to releases/r2 (one article edited), a symlink left in its "
         "place, as a deploy switching releases does", folder_symlink_release),
    Kind("folder-emptied", "every .txt deleted (legitimately: all 120 removed)", folder_emptied),
    Kind("folder-missing", "the article folder deleted", missing("articles", "articles")),
    Kind("folder-mode-000", "the article folder with mode 000", chmod_000("articles", failed="articles")),
    Kind("subfolder-mode-000", "a subfolder with mode 000", chmod_000("articles/sub", failed="articles")),
    Kind("txt-mode-000", "one article file with mode 000 (the folder is not read whole)",
         lambda c: chmod_000(f"articles/{c.articles['folder'][1]['file']}", failed="articles")(c)),
    Kind("folder-is-file", "the article folder replaced by a file", folder_is_file),
    Kind("txt-fifo", "an article file replaced by a FIFO, and a new FIFO .txt", txt_replaced("fifo")),
    Kind("txt-devices", "an article file replaced by a link to /dev/zero; links to /dev/zero, /dev/urandom",
         txt_replaced("devices")),
    Kind("txt-links", "an article file replaced by a dangling link; a link loop; a folder loop",
         txt_replaced("links", rc=(3,), failed="articles")),  # the dangling link: a file that cannot be read
    Kind("txt-encodings", "KOI8-R, GB18030 and UTF-32 (BOM) files", txt_encodings),
    Kind("txt-binary", "random bytes, a PNG, an ELF binary, a 2 GiB sparse file named .txt", txt_binary),
    Kind("spelled-differently", "every source named another way: ./x, absolute, through a linked parent folder",
         spelled_differently),
    Kind("folder-renamed", "the folder renamed (one article edited, one deleted) and indexed by its new name",
         folder_renamed),
    Kind("named-through-link", "the article folder named through a symlink to it", named_through_link),
    Kind("folder-crlf-bom", "every .txt rewritten with a BOM and CRLF line ends", folder_crlf_bom),
    Kind("rebuild-clean", "--rebuild of the three sources, nothing broken", rebuild()),
    Kind("rebuild-gz-cut", "--rebuild with the .jsonl.gz cut at 50%", rebuild(gz_cut(0.50))),
    Kind("rebuild-folder-missing", "--rebuild with the article folder deleted", rebuild(missing("articles", "articles"))),
    Kind("owner-unreachable-mirror", "the sources' folder mode 000, a mirror feed outside it holding 20 of a "
         "feed's ids (retitled)", owner_unreachable_mirror),
    Kind("renamed-after-mirror", "a feed renamed, unchanged, and named after a mirror holding 20 of its ids",
         renamed_after_mirror, "defect O: a gone source's ids go to the first source read, here the mirror's "
         "retitled copies"),
    Kind("dotdot-through-link", "a feed named link/../src/feed.jsonl, where link points into another tree "
         "holding another feed.jsonl", dotdot_through_link),
]


# --- running -----------------------------------------------------------------------------

def make_template(work: Path, per_source: int) -> tuple[dict[str, list[dict]], str]:
    total = 3 * per_source
    articles, origin = corpus_articles(total)
    third = per_source
    groups = {"gz": articles[:third], "jsonl": articles[third:2 * third],
              "folder": articles[2 * third:2 * third + third * 2 // 3], "sub": articles[2 * third + third * 2 // 3:]}
    case = work / "case"
    src = case / "src"
    (src / "articles" / "sub").mkdir(parents=True)
    (src / "feed.jsonl.gz").write_bytes(_member(b"".join((as_json_line(a) + "\n").encode() for a in groups["gz"])))
    (src / "feed.jsonl").write_text("".join(as_json_line(a) + "\n" for a in groups["jsonl"]), "utf-8")
    for key, folder in (("folder", src / "articles"), ("sub", src / "articles" / "sub")):
        for k, a in enumerate(groups[key]):
            a["file"] = f"{key}{k:04d}.txt"
            (folder / a["file"]).write_text(as_text_file(a), "utf-8")
    return groups, origin


def _unlock(tree: Path) -> None:
    """Undo mode 000 (folders first, before descending into them) so the tree can be removed."""
    for dirpath, dirnames, _files in os.walk(tree):
        for name in dirnames:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                os.chmod(path, 0o755)


def restore(work: Path) -> Path:
    case = work / "case"
    if case.exists():
        _unlock(case)
        shutil.rmtree(case)
    shutil.copytree(work / "template", case, symlinks=True)
    return case


def _report(run: Run) -> dict:
    try:
        return json.loads(run.stdout)
    except ValueError:
        return {}


def check_kind(kind: Kind, expect: Expect, case: Path, before: dict, run: Run, baseline: Run, bound: float) -> dict:
    from indexer import open_index

    failures: list[str] = []
    report = _report(run)
    try:
        after = live_manifest(case / "ix")
    except Exception as exc:
        after = {}
        failures.append(f"index does not open: {type(exc).__name__}: {exc}")
    lost = sorted(set(before) - set(after) - expect.removed)
    if lost:
        failures.append(f"{len(lost)} articles lost (e.g. {lost[0]!r})")
    wrongly_kept = sorted(expect.removed & set(after))
    if wrongly_kept:
        failures.append(f"{len(wrongly_kept)} articles the source no longer holds were kept")
    expected_count = len(before) - len(expect.removed) + (expect.added or 0)
    if after and expect.added is not None and len(after) != expected_count:
        failures.append(f"{len(after)} articles, {expected_count} expected")
    if expect.unchanged:
        changed = [i for i in before if after.get(i) != before[i]]
        if changed or any(report.get(k) for k in ("added", "updated", "removed")):
            failures.append(f"changed {len(changed)} articles (report: added {report.get('added')}, updated "
                            f"{report.get('updated')}, removed {report.get('removed')})")
    if run.timed_out:
        failures.append(f"killed after {run.seconds:.0f} s (bound {bound:.0f} s)")
    elif run.seconds > bound:
        failures.append(f"took {run.seconds:.1f} s (bound {bound:.0f} s)")
    if not run.timed_out and run.rc not in expect.rc:
        failures.append(f"exit {run.rc}, expected {'/'.join(map(str, expect.rc))}")
    message = run.message_problem()
    if message:
        failures.append(message)
    if expect.failed and run.rc == 3:
        named = [f["source"] for f in report.get("failed_sources", [])]
        if not any(n.endswith(expect.failed) for n in named):  # str.endswith takes a tuple too
            failures.append(f"failed source not named (report names {named})")
    if run.maxrss_mb > baseline.maxrss_mb + RSS_MARGIN_MB:
        failures.append(f"peak RSS {run.maxrss_mb:.0f} MB > clean run's {baseline.maxrss_mb:.0f} + {RSS_MARGIN_MB}")
    if run.events.get("group_left_running"):
        failures.append("a process of the run was still running after it exited")
    left = leftovers(case / "ix")
    if left:
        failures.append(f"leftovers: {left[:3]}")
    if expect.check is not None and after:
        failures += expect.check(case, after, report)
    # The index answers: a kept article's title finds it.
    probe = next((i for i in sorted(after) if i in before), None)
    if probe is not None:
        ix = open_index(case / "ix")
        hit = ix.get(probe)
        if hit is None or ix.search(hit.title, per_page=1).total < 1:
            failures.append(f"a kept article ({probe!r}) is not found by its title")
        ix.close()
        del ix
        gc.collect()  # Index.close() leaves the posting arrays' files to the collector
    return {
        "kind": kind.name, "what": kind.what, "passed": not failures, "known_defect": kind.known or None,
        "failures": failures, "exit": run.rc, "expected_exit": list(expect.rc), "seconds": round(run.seconds, 2),
        "peak_rss_mb": round(run.maxrss_mb, 1), "articles_before": len(before), "articles_after": len(after),
        "legitimately_removed": len(expect.removed), "lost": len(lost),
        "failed_sources": [f"{f['source']}: {f['reason']}" for f in report.get("failed_sources", [])],
        "added": report.get("added"), "updated": report.get("updated"), "removed": report.get("removed"),
        "skipped": report.get("skipped_total"), "warnings": report.get("warnings_total"),
        "skipped_examples": [f"{p['where']}: {p['reason']}"[:200] for p in report.get("skipped", [])[:3]],
        "stderr": run.stderr.strip()[-600:], "events": run.events,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--per-source", type=int, default=120, help="articles in each of the three sources")
    ap.add_argument("--only", default="", help="comma-separated kinds")
    ap.add_argument("--quick", action="store_true", help="leave out the kinds that take tens of seconds")
    ap.add_argument("--bound", type=float, default=30.0, help="seconds a run may take (killed at twice that)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", default=str(RESULTS / "sources.json"))
    args = ap.parse_args(argv)
    only = {k for k in args.only.split(",") if k}
    unknown = only - {k.name for k in KINDS}
    if unknown:
        ap.error(f"unknown kinds: {sorted(unknown)}")
    kinds = [k for k in KINDS if (not only or k.name in only) and not (args.quick and k.heavy)]
    work = Path(tempfile.mkdtemp(prefix="vnsearch-sources-"))
    os.chmod(work, 0o755)
    log: list[str] = []

    def say(line: str) -> None:
        print(line, flush=True)
        log.append(line)

    try:
        groups, origin = make_template(work, args.per_source)
        case = work / "case"
        build = run_measured(index_command(PATHS, "ix", "--json", jobs=args.jobs), case, 600)
        if build.rc != 0:
            raise SystemExit(f"building the base index failed: {build.stderr[-2000:]}")
        shutil.copytree(case, work / "template", symlinks=True)
        say(f"base index: {sum(map(len, groups.values()))} {origin} articles from 3 sources, built in "
            f"{build.seconds:.1f} s, peak RSS {build.maxrss_mb:.0f} MB")
        command = index_command(PATHS, "ix", "--json", "--problems", "problems.jsonl", jobs=args.jobs)
        restore(work)
        baseline = run_measured(drop_dac() + command, case, args.bound * 2)
        if baseline.rc != 0:
            raise SystemExit(f"the clean run failed: {baseline.stderr[-2000:]}")
        say(f"clean run (nothing changed): {baseline.seconds:.1f} s, peak RSS {baseline.maxrss_mb:.0f} MB; "
            f"RSS bound {baseline.maxrss_mb + RSS_MARGIN_MB:.0f} MB, time bound {args.bound:.0f} s")
        rows = []
        for kind in kinds:
            case = restore(work)
            c = Case(case, groups)
            before = live_manifest(case / "ix")
            expect = kind.apply(c)
            paths = expect.paths or PATHS
            cmd = drop_dac() + index_command(paths, "ix", "--json", "--problems", "problems.jsonl", *expect.extra,
                                             jobs=args.jobs)
            run = run_measured(cmd, case, args.bound * 2, during=expect.during)
            row = check_kind(kind, expect, case, before, run, baseline, args.bound)
            rows.append(row)
            status = "pass" if row["passed"] else ("FAIL (known)" if kind.known else "FAIL")
            say(f"{kind.name:24} {status:12} exit {row['exit']!s:4} {row['seconds']:6.1f} s "
                f"{row['peak_rss_mb']:6.0f} MB  {row['articles_before']}->{row['articles_after']}"
                + (f"  {'; '.join(row['failures'])}" if row["failures"] else ""))
            log.append(f"    stdout: {run.stdout.strip()[:1500]}")
            log.append(f"    stderr: {run.stderr.strip()[-1000:]}")
            if not row["passed"] and not kind.known:
                say(f"    stderr: {run.stderr.strip()[-400:]}")
        shutil.rmtree(work / "case", ignore_errors=True)
        summary = {
            "kinds": len(rows), "passed": sum(r["passed"] for r in rows),
            "failed_known": sum(not r["passed"] and bool(r["known_defect"]) for r in rows),
            "failed_new": sum(not r["passed"] and not r["known_defect"] for r in rows),
            "articles_lost_total": sum(r["lost"] for r in rows),
            "articles": sum(map(len, groups.values())), "articles_from": origin,
            "clean_run_s": round(baseline.seconds, 2), "clean_run_peak_rss_mb": round(baseline.maxrss_mb, 1),
            "max_peak_rss_mb": max((r["peak_rss_mb"] for r in rows), default=0),
            "max_seconds": max((r["seconds"] for r in rows), default=0),
            "time_bound_s": args.bound, "rss_margin_mb": RSS_MARGIN_MB,
            "as": "root without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH" if drop_dac() else f"uid {os.geteuid()}",
            **code_version(),
        }
        say(json.dumps(summary, ensure_ascii=False))
        if not only:
            write_results("sources", {"date": time.strftime("%Y-%m-%d %H:%M"), "summary": summary, "kinds": rows},
                          log, Path(args.out))
        elif args.out != str(RESULTS / "sources.json"):
            write_results("sources", {"summary": summary, "kinds": rows}, log, Path(args.out))
        return 0 if summary["failed_new"] == 0 and summary["failed_known"] == 0 else 1
    finally:
        _unlock(work)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up when stopped
    sys.exit(main())
