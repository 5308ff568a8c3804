"""Relevance on ../shared/ir: the engine against an SQLite FTS5 syllable-BM25 baseline.

    python bench/relevance.py [--collections vietnews-title vicov19qa xquad-vi] [--splits dev test]

Each collection is indexed with the engine (cached in bench/work/ir-<name>/) and
with FTS5 (unicode61, diacritics kept) in the same run.  Every query goes through
the engine's public search in any-term mode (queries are headlines and long
questions), once as written and once with its diacritics stripped, as readers type.
Writes bench/results/relevance.json.  On 2 cores the splits can run as parallel
processes (``--collections vietnews-title --splits dev --name part1`` ...) and be
combined with ``--merge part1 part2 ...``.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sqlite3
import time
import unicodedata

from common import IR, RESULTS, WORK, read_jsonl, save

from indexer import open_index
from indexer.text.normalize import fold

K = 100


def metrics(ranked: list[str], relevant: set[str]) -> dict:
    rr = 0.0
    for i, d in enumerate(ranked[:10]):
        if d in relevant:
            rr = 1 / (i + 1)
            break
    dcg = sum(1 / math.log2(i + 2) for i, d in enumerate(ranked[:10]) if d in relevant)
    idcg = sum(1 / math.log2(i + 2) for i in range(min(10, len(relevant))))
    return {"mrr@10": rr, "ndcg@10": dcg / idcg if idcg else 0.0,
            "recall@10": len(set(ranked[:10]) & relevant) / len(relevant),
            "recall@100": len(set(ranked[:100]) & relevant) / len(relevant)}


def mean_metrics(rows: list[dict]) -> dict:
    return {k: round(sum(r[k] for r in rows) / len(rows), 4) for k in rows[0]} if rows else {}


def load_qrels(path) -> dict[str, set[str]]:
    qrels: dict[str, set[str]] = {}
    for line in open(path, encoding="utf-8"):
        parts = line.rstrip("\n").split("\t")
        if len(parts) >= 3 and parts[2] != "0":
            qrels.setdefault(parts[0], set()).add(parts[1])
    return qrels


class Fts5:
    """Syllable BM25: SQLite FTS5, unicode61 tokenizer with diacritics kept, title + body."""

    def __init__(self, docs_path):
        self.db = sqlite3.connect(":memory:")
        self.db.execute("CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, body, "
                        "tokenize='unicode61 remove_diacritics 0')")
        started = time.perf_counter()
        self.db.executemany("INSERT INTO docs(id, title, body) VALUES (?, ?, ?)",
                            ((d["id"], unicodedata.normalize("NFC", d.get("title") or ""),
                              unicodedata.normalize("NFC", d.get("body") or "")) for d in read_jsonl(docs_path)))
        self.db.commit()
        self.build_seconds = time.perf_counter() - started

    def search(self, text: str, k: int = K) -> list[str]:
        tokens = list(dict.fromkeys(re.findall(r"\w+", unicodedata.normalize("NFC", text).lower())))
        if not tokens:
            return []
        match = " OR ".join('"%s"' % t.replace('"', '""') for t in tokens)
        return [row[0] for row in self.db.execute(
            "SELECT id FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT ?", (match, k))]


def engine_index(name: str, docs_path):
    ix = open_index(WORK / f"ir-{name}")
    report = ix.update([docs_path])  # a no-op when already built and unchanged
    print(f"  engine index: {report.summary().splitlines()[0]}")
    return ix, report


def run(collection: str, splits: list[str], limit: int | None) -> dict:
    base = IR / collection
    docs = base / "docs.jsonl.gz"
    print(f"{collection}:")
    ix, report = engine_index(collection, docs)
    fts = Fts5(docs)
    out = {"documents": ix.count(), "engine_build_seconds": round(report.seconds, 1),
           "fts5_build_seconds": round(fts.build_seconds, 1), "splits": {}}
    for split in splits:
        queries = list(read_jsonl(base / f"queries_{split}.jsonl"))[:limit]
        qrels = load_qrels(base / f"qrels_{split}.tsv")
        queries = [q for q in queries if q["id"] in qrels]
        rows = {"engine": [], "engine_no_diacritics": [], "fts5": [], "fts5_no_diacritics": []}
        times = {"engine": 0.0, "fts5": 0.0}
        for q in queries:
            rel = qrels[q["id"]]
            stripped = fold(unicodedata.normalize("NFC", q["text"]))
            t0 = time.perf_counter()
            hits = [h.id for h in ix.search(q["text"], per_page=K, mode="any", highlight=False).hits]
            t1 = time.perf_counter()
            rows["engine"].append(metrics(hits, rel))
            rows["engine_no_diacritics"].append(metrics(
                [h.id for h in ix.search(stripped, per_page=K, mode="any", highlight=False).hits], rel))
            t2 = time.perf_counter()
            rows["fts5"].append(metrics(fts.search(q["text"]), rel))
            t3 = time.perf_counter()
            rows["fts5_no_diacritics"].append(metrics(fts.search(stripped), rel))
            times["engine"] += t1 - t0
            times["fts5"] += t3 - t2
        result = {k: mean_metrics(v) for k, v in rows.items()}
        result["queries"] = len(queries)
        result["engine_ms_per_query"] = round(times["engine"] / max(1, len(queries)) * 1000, 1)
        result["fts5_ms_per_query"] = round(times["fts5"] / max(1, len(queries)) * 1000, 2)
        e, s = result["engine"]["mrr@10"], result["engine_no_diacritics"]["mrr@10"]
        result["no_diacritics_kept_mrr"] = round(s / e, 3) if e else None
        out["splits"][split] = result
        print(f"  {split}: engine MRR@10 {e:.3f} (stripped {s:.3f}), FTS5 {result['fts5']['mrr@10']:.3f} "
              f"(stripped {result['fts5_no_diacritics']['mrr@10']:.3f}); {len(queries)} queries, "
              f"{result['engine_ms_per_query']} ms/query")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--collections", nargs="+", default=["vietnews-title", "vicov19qa", "xquad-vi"])
    ap.add_argument("--splits", nargs="+", default=["dev", "test"])
    ap.add_argument("--limit", type=int, default=None, help="at most this many queries per split (quick runs)")
    ap.add_argument("--name", default="relevance", help="result file name in bench/results/")
    ap.add_argument("--merge", nargs="+", metavar="NAME",
                    help="combine earlier result files (parts run in parallel) into --name, without running")
    args = ap.parse_args()
    if args.merge:
        save(args.name, merge(args.merge))
        return
    results = {c: run(c, args.splits, args.limit) for c in args.collections}
    save(args.name, {"collections": results})


def merge(names: list[str]) -> dict:
    """Parts of one run (e.g. a split per process on 2 cores) as one result, each part's command kept."""
    collections: dict = {}
    parts = []
    for name in names:
        part = json.loads((RESULTS / f"{name}.json").read_text(encoding="utf-8"))
        parts.append({"file": f"{name}.json", "command": part["command"], "machine": part["machine"]})
        for cname, result in part["collections"].items():
            target = collections.setdefault(cname, {k: v for k, v in result.items() if k != "splits"})
            target.setdefault("splits", {}).update(result["splits"])
    return {"collections": collections, "parts": parts}


if __name__ == "__main__":
    main()
