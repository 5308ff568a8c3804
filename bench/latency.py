"""Query latency: the Python API and HTTP (concurrent clients) beside SQLite FTS5.

    python bench/latency.py --index bench/work/full --docs ../shared/corpus/news-vi.jsonl.gz

1,000 queries are drawn (fixed seed) from titles of the indexed articles: 1-4
syllable keyword queries with and without diacritics, quoted phrases and
date-filtered queries.  They run, in the same process and run, through
``Index.search`` (first page of 10, with snippets, as the web page asks) and
through FTS5 (``MATCH`` with all terms, bm25 top 10 with ``snippet()``) over the
same documents.  ``--related N``: the article page's related articles for N random
articles, beside Whoosh's own more-like-this on a third of them.  Then ``vnsearch serve`` answers ``/api/search`` for
``--clients`` concurrent clients on 127.0.0.1 (bounded by count and time), served by one process and
by ``--workers`` processes in turn (the same queries; as many threads in all as clients; memory summed
over the server's processes).
Writes bench/results/latency-<name>.json.

Both systems are measured warm: FTS5's database is built in this run, so it
is in the page cache, and the index's files are read once before the timing
so that they are too (a server's steady state; right after a rebuild the
first queries also pay for reading the index from disk).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import unicodedata
import urllib.parse
import urllib.request
from itertools import islice
from pathlib import Path

from common import ROOT, percentile, read_jsonl, save

from indexer import open_index
from indexer.store.generations import current_generation
from indexer.text.normalize import fold


def make_queries(titles: list[str], n: int, seed: int = 20261121) -> list[dict]:
    rng = random.Random(seed)
    out = []
    while len(out) < n:
        words = re.findall(r"\w+", rng.choice(titles))
        if len(words) < 4:
            continue
        kind = rng.choice(["keywords", "keywords", "no_diacritics", "phrase", "date"])
        size = rng.randint(1, 4) if kind != "phrase" else rng.randint(2, 3)
        start = rng.randrange(0, len(words) - size + 1)
        text = " ".join(words[start:start + size])
        if kind == "no_diacritics":
            text = fold(text)
        elif kind == "phrase":
            text = f'"{text}"'
        elif kind == "date":
            text += rng.choice([" date:2026", " date:[2017-01-01 to 2026-12-31]", " date:>=2026-01-25"])
        out.append({"kind": kind, "text": text})
    return out


def fts5_index(docs_path, limit: int | None):
    db = sqlite3.connect(":memory:", check_same_thread=False)
    db.execute("CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, body, date UNINDEXED, "
               "tokenize='unicode61 remove_diacritics 0')")
    rows = ((r["id"], unicodedata.normalize("NFC", r.get("title") or ""), unicodedata.normalize("NFC", r.get("body") or ""),
             r.get("date")) for r in islice(read_jsonl(docs_path), limit))
    db.executemany("INSERT INTO docs VALUES (?, ?, ?, ?)", rows)
    db.commit()
    return db


def fts5_search(db, q: dict):
    text = re.sub(r"date:\S+(\s+to\s+\S+)?", "", q["text"])
    tokens = re.findall(r"\w+", unicodedata.normalize("NFC", text).lower())
    if not tokens:
        return []
    if q["kind"] == "phrase":
        match = '"%s"' % " ".join(tokens)
    else:
        match = " AND ".join('"%s"' % t for t in tokens)
    sql = ("SELECT id, snippet(docs, 2, '<mark>', '</mark>', '…', 24) FROM docs WHERE docs MATCH ? "
           + ("AND date >= '2017-01-01' " if q["kind"] == "date" else "") + "ORDER BY bm25(docs) LIMIT 10")
    return db.execute(sql, (match,)).fetchall()


def timed(fn, queries) -> list[float]:
    out = []
    for q in queries:
        t0 = time.perf_counter()
        fn(q)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def summary(ms: list[float]) -> dict:
    return {"p50_ms": round(percentile(ms, 50), 2), "p95_ms": round(percentile(ms, 95), 2),
            "p99_ms": round(percentile(ms, 99), 2), "n": len(ms)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (the workers of ``vnsearch serve --workers N``)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.scandir(f"/proc/{p}/task"):
                todo += [int(c) for c in Path(task.path, "children").read_text().split()]
        except OSError:
            pass
    return out


def memory_mb(pid: int) -> dict:
    """The server's memory over all its processes: the sum of peak RSS (counts pages the
    workers share once per process) and of PSS now (each shared page split between them)."""
    hwm = pss = 0
    for p in _tree(pid):
        try:
            hwm += next(int(line.split()[1]) for line in open(f"/proc/{p}/status") if line.startswith("VmHWM:"))
            pss += next(int(line.split()[1]) for line in open(f"/proc/{p}/smaps_rollup") if line.startswith("Pss:"))
        except (OSError, StopIteration):
            pass
    return {"processes": len(_tree(pid)), "server_peak_rss_mb": round(hwm / 1024), "server_pss_mb": round(pss / 1024)}


def http_load(index_dir, queries, clients: int, max_seconds: float, workers: int = 1) -> dict:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "indexer.cli", "serve", "--index-dir", str(index_dir),
                               "--port", str(port), "--threads", str(-(-clients // workers)), "--seeds", "/nonexistent",
                               "--workers", str(workers)],
                              cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2).read()
                break
            except OSError:
                time.sleep(0.2)
        urllib.request.urlopen(base + "/api/search?q=kh%E1%BB%9Fi+%C4%91%E1%BB%99ng", timeout=60).read()  # warm
        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()
        deadline = time.time() + max_seconds
        share = [queries[i::clients] for i in range(clients)]

        def client(qs):
            for q in qs:
                if time.time() > deadline:
                    return
                url = base + "/api/search?" + urllib.parse.urlencode({"q": q["text"]})
                t0 = time.perf_counter()
                try:
                    with urllib.request.urlopen(url, timeout=30) as r:
                        r.read()
                        ok = r.status == 200
                except Exception as exc:  # counted, not raised
                    ok = False
                    with lock:
                        errors.append(repr(exc)[:200])
                ms = (time.perf_counter() - t0) * 1000
                with lock:
                    if ok:
                        latencies.append(ms)
        started = time.perf_counter()
        threads = [threading.Thread(target=client, args=(s,)) for s in share]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        return {"clients": clients, "workers": workers, **summary(latencies), "errors": len(errors),
                "error_samples": errors[:3], "requests_per_s": round(len(latencies) / wall, 1), **memory_mb(server.pid)}
    finally:
        server.terminate()
        server.wait(timeout=30)


def related_latency(ix, n: int, seed: int = 20261202) -> dict:
    """The article page's related articles (``Index.related``) for ``n`` random articles,
    beside Whoosh's own ``more_like`` (what ``related`` ran before) on a third of them:
    Whoosh's matchers take seconds, and the engine ranks the same query on its arrays."""
    from whoosh import index as whoosh_index

    searcher = whoosh_index.open_dir(str(current_generation(ix.index_dir)), indexname="MAIN").searcher()
    rng = random.Random(seed)
    ids = [searcher.stored_fields(rng.randrange(searcher.doc_count_all()))["id"] for _ in range(n)]
    engine_ms, whoosh_ms = [], []
    for i, doc_id in enumerate(ids):
        t0 = time.perf_counter()
        ix.related(doc_id)
        engine_ms.append((time.perf_counter() - t0) * 1000)
        if i % 3 == 0:
            docnum = searcher.document_number(id=doc_id)
            stored = searcher.stored_fields(docnum)
            text = (stored.get("title", "") + "\n") * 2 + stored.get("body", "")[:20_000]
            t0 = time.perf_counter()
            [searcher.stored_fields(h.docnum) for h in searcher.more_like(docnum, "body", text=text, top=5, numterms=25)]
            whoosh_ms.append((time.perf_counter() - t0) * 1000)
    return {"engine": summary(engine_ms), "whoosh_more_like": summary(whoosh_ms),
            "p50_ratio_whoosh_over_engine": round(percentile(whoosh_ms, 50) / percentile(engine_ms, 50), 1)}


def warm_page_cache(index: Path) -> None:
    """Read every file of the index once, as FTS5's just-written database is already read."""
    for f in sorted(current_generation(index).rglob("*")):
        if f.is_file():
            with open(f, "rb") as fh:
                while fh.read(1 << 24):
                    pass


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", required=True, help="an index built from --docs")
    ap.add_argument("--docs", required=True)
    ap.add_argument("--limit", type=int, default=None, help="the index holds the first N of --docs")
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--clients", type=int, nargs="+", default=[8], help="HTTP runs, one per count")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                    help="HTTP runs, one per count of serving processes (the first client count is the headline)")
    ap.add_argument("--http-seconds", type=float, default=300)
    ap.add_argument("--related", type=int, default=100, help="articles whose related articles are timed (0: none)")
    ap.add_argument("--no-http", action="store_true")
    ap.add_argument("--name", default="full")
    args = ap.parse_args()

    ix = open_index(args.index)
    docs = ix.count()
    titles = []
    for r in islice(read_jsonl(args.docs), args.limit):
        for text in (r.get("title") or "", (r.get("body") or "")[:150]):
            if len(re.findall(r"\w+", text)) >= 4:
                titles.append(text)
                break
    queries = make_queries(titles, args.queries)
    print(f"{docs} documents, {len(queries)} queries", flush=True)
    db = fts5_index(args.docs, args.limit)
    warm_page_cache(Path(args.index))
    ix.search("khởi động")  # load pyvi and open the searcher outside the timing
    for q in queries[:20]:
        ix.search(q["text"]), fts5_search(db, q)
    # Interleave the two systems query by query so that machine noise hits both alike.
    engine_ms, fts_ms = [], []
    for q in queries:
        t0 = time.perf_counter()
        ix.search(q["text"])
        t1 = time.perf_counter()
        fts5_search(db, q)
        t2 = time.perf_counter()
        engine_ms.append((t1 - t0) * 1000)
        fts_ms.append((t2 - t1) * 1000)
    by_kind = {}
    for kind in sorted({q["kind"] for q in queries}):
        idx = [i for i, q in enumerate(queries) if q["kind"] == kind]
        by_kind[kind] = {"engine": summary([engine_ms[i] for i in idx]), "fts5": summary([fts_ms[i] for i in idx])}
    result = {"documents": docs, "python_api": summary(engine_ms), "fts5": summary(fts_ms),
              "p50_ratio_engine_over_fts5": round(percentile(engine_ms, 50) / percentile(fts_ms, 50), 2),
              "by_kind": by_kind}
    print(json.dumps({k: result[k] for k in ("python_api", "fts5", "p50_ratio_engine_over_fts5")}), flush=True)
    if args.related:
        result["related"] = related_latency(ix, args.related)
        print(json.dumps(result["related"]), flush=True)
    if not args.no_http:
        runs = []
        for workers in args.workers:  # the same queries, one server after the other
            for clients in args.clients:
                runs.append(http_load(args.index, queries, clients, args.http_seconds, workers))
                print(json.dumps(runs[-1]), flush=True)
        result["http_runs"] = runs
        result["http"] = max((r for r in runs if r["clients"] == args.clients[0]), key=lambda r: r["workers"])
    save(f"latency-{args.name}", result)


if __name__ == "__main__":
    main()
