"""Where one machine stops: build speed, index size, memory and latency up to a million articles.

    python bench/scale.py --sizes 1000000 [--http-seconds 60] [--queries 500]

The corpus holds 111,828 articles.  A larger index is the corpus repeated: copy
``k`` (1, 2, ...) of an article gets the id ``<id>~k``, its paragraphs rotated by
``k`` places and every digit ``d`` of its title and body written ``(d + k) % 10``
(dates, amounts and scores differ; the vocabulary and its frequencies grow as a
real archive's would, where the same topics come back with other numbers, and no
copy is the same text as another).  The articles are written once to
``bench/work/corpus-N.jsonl``.

For each size, in this run: ``vnsearch index --rebuild`` builds the index (a
subprocess: its wall time, articles/s and peak RSS, its index's bytes per
article), then 500 queries of the latency benchmark's mix (drawn from the
titles, with and without diacritics, phrases, date filters) run through
``Index.search`` with snippets after the index's files are read once, then
``vnsearch serve --workers 2`` answers them over HTTP for 8 and 32 clients.
The index is deleted afterwards unless ``--keep``.  Writes
``bench/results/scale-N.json``; ``report.py`` puts every size measured (with
the latency runs at 10k, 50k and 111k) in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from common import CORPUS, ROOT, WORK, read_jsonl, save
from latency import http_load, make_queries, summary, warm_page_cache

from indexer import open_index


def varied(record: dict, k: int) -> dict:
    """Copy ``k`` of ``record`` (k = 0: the article itself)."""
    if k == 0:
        return record
    shift = str.maketrans({str(d): str((d + k) % 10) for d in range(10)})
    paragraphs = (record.get("body") or "").split("\n")
    turn = k % len(paragraphs)
    body = "\n".join(paragraphs[turn:] + paragraphs[:turn])
    return {**record, "id": f"{record['id']}~{k}", "title": (record.get("title") or "").translate(shift),
            "body": body.translate(shift)}


def corpus(n: int) -> Path:
    path = WORK / f"corpus-{n}.jsonl"
    if path.exists():
        return path
    WORK.mkdir(parents=True, exist_ok=True)
    records = list(read_jsonl(CORPUS))
    tmp = path.with_suffix(".partial")
    with open(tmp, "w", encoding="utf-8") as out:
        for i in range(n):
            out.write(json.dumps(varied(records[i % len(records)], i // len(records)), ensure_ascii=False) + "\n")
    tmp.rename(path)
    return path


def build(path: Path, n: int) -> tuple[Path, dict]:
    ix = WORK / f"index-scale-{n}"
    shutil.rmtree(ix, ignore_errors=True)
    cmd = [sys.executable, "-m", "indexer.cli", "index", str(path), "--index-dir", str(ix), "--rebuild", "--json", "-q"]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    size = sum(f.stat().st_size for f in ix.rglob("*") if f.is_file())
    report = json.loads(out) if out else {}
    return ix, {"seconds": round(seconds, 1), "articles_per_s": round(n / seconds, 1),
                "peak_rss_mb": round(usage.ru_maxrss / 1024), "index_mb": round(size / 2**20, 1),
                "kb_per_article": round(size / 1024 / n, 2), "added": report.get("added"), "exit": status}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000])
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--http-seconds", type=float, default=60)
    ap.add_argument("--clients", type=int, nargs="+", default=[8, 32])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--keep", action="store_true", help="keep the index (bench/work/index-scale-N)")
    args = ap.parse_args()
    for n in args.sizes:
        path = corpus(n)
        print(f"{n:,} articles in {path}", flush=True)
        ix_dir, built = build(path, n)
        print(json.dumps(built), flush=True)
        result: dict = {"documents": n, "build": built}
        if built["exit"] == 0:
            rng = random.Random(20261203)
            titles = [t for t in (r.get("title") or "" for r in read_jsonl(path) if rng.random() < 0.02)
                      if len(re.findall(r"\w+", t)) >= 4]
            queries = make_queries(titles, args.queries)
            warm_page_cache(ix_dir)
            ix = open_index(ix_dir)
            ix.search("khởi động")
            ms = []
            for q in queries:
                t0 = time.perf_counter()
                ix.search(q["text"])
                ms.append((time.perf_counter() - t0) * 1000)
            result["python_api"] = summary(ms)
            print(json.dumps(result["python_api"]), flush=True)
            ix.close()
            result["http_runs"] = []
            for clients in args.clients:
                result["http_runs"].append(http_load(ix_dir, queries, clients, args.http_seconds, args.workers))
                print(json.dumps(result["http_runs"][-1]), flush=True)
        save(f"scale-{n}", result)
        if not args.keep:
            shutil.rmtree(ix_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
