"""Indexing throughput: the engine's full build beside pyvi alone and SQLite FTS5.

    python bench/indexing.py --sizes 10000 50000 111828

For each size, the first N articles of ../shared/corpus/news-vi.jsonl.gz are
written to bench/work/corpus-N.jsonl and, in the same run:
  * ``vnsearch index --rebuild`` builds it (a subprocess: its peak RSS is its own),
  * pyvi's ``ViTokenizer.tokenize`` segments a sample of the same texts (one core),
  * the engine's offset-keeping segmenter segments the same sample,
  * SQLite FTS5 (unicode61) indexes the same texts.
Writes bench/results/indexing.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import unicodedata
from itertools import islice

from common import CORPUS, ROOT, WORK, read_jsonl, save


def subset(n: int):
    path = WORK / f"corpus-{n}.jsonl"
    if not path.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8") as out:
            for rec in islice(read_jsonl(CORPUS), n):
                out.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return path


def engine_build(path, n: int, jobs: int | None) -> dict:
    ix = WORK / f"index-{n}"
    shutil.rmtree(ix, ignore_errors=True)
    cmd = [sys.executable, "-m", "indexer.cli", "index", str(path), "--index-dir", str(ix), "--rebuild", "--json", "-q"]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    report = json.loads(out)
    size = sum(f.stat().st_size for f in ix.rglob("*") if f.is_file())
    return {"seconds": round(seconds, 1), "articles_per_s": round(n / seconds, 1),
            "peak_rss_mb": round(usage.ru_maxrss / 1024), "index_mb": round(size / 2**20, 1),
            "added": report["added"], "skipped": len(report["skipped"]), "exit": status}


def segmentation(texts: list[str]) -> dict:
    from pyvi import ViTokenizer

    from indexer.text.normalize import normalize
    from indexer.text.segment import segment

    norm = [normalize(t) for t in texts]
    ViTokenizer.tokenize("khởi động")
    t0 = time.perf_counter()
    for t in norm:
        ViTokenizer.tokenize(t)
    t1 = time.perf_counter()
    for t in norm:
        segment(t)
    t2 = time.perf_counter()
    return {"sample": len(texts), "pyvi_articles_per_s": round(len(texts) / (t1 - t0), 1),
            "engine_segmenter_articles_per_s": round(len(texts) / (t2 - t1), 1),
            "engine_segmenter_speedup": round((t1 - t0) / (t2 - t1), 2)}


def fts5_build(path) -> dict:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, body, tokenize='unicode61 remove_diacritics 0')")
    started = time.perf_counter()
    n = 0
    for rec in read_jsonl(path):
        db.execute("INSERT INTO docs VALUES (?, ?, ?)", (rec["id"], unicodedata.normalize("NFC", rec.get("title") or ""),
                                                        unicodedata.normalize("NFC", rec.get("body") or "")))
        n += 1
    db.commit()
    seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 1), "articles_per_s": round(n / seconds, 1)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", type=int, default=[10000, 50000, 111828])
    ap.add_argument("--jobs", type=int, default=None)
    ap.add_argument("--sample", type=int, default=1000, help="articles for the segmentation comparison")
    args = ap.parse_args()
    results = {}
    for n in args.sizes:
        path = subset(n)
        mb = path.stat().st_size / 2**20
        print(f"{n} articles ({mb:.0f} MB of JSON):", flush=True)
        texts = [r["title"] + "\n" + r["body"] for r in islice(read_jsonl(path), args.sample)]
        row = {"json_mb": round(mb, 1), "segmentation": segmentation(texts), "fts5": fts5_build(path),
               "engine": engine_build(path, n, args.jobs)}
        row["engine"]["mb_text_per_s"] = round(mb / row["engine"]["seconds"], 2)
        row["engine_vs_fts5_time"] = round(row["engine"]["seconds"] / row["fts5"]["seconds"], 1)
        row["engine_vs_pyvi_throughput"] = round(row["engine"]["articles_per_s"] /
                                                 row["segmentation"]["pyvi_articles_per_s"], 2)
        results[str(n)] = row
        print(json.dumps(row, indent=2), flush=True)
    save("indexing", {"sizes": results})


if __name__ == "__main__":
    main()
