"""Ranking experiments on a dev split: MRR@10 of the engine with constants overridden.

    python bench/tune.py --collection vietnews-title --offset 500 --limit 300 \
        --set querybuild.MAX_BONUS_PHRASE=64 --set search.RESCORE_WINDOW=400

Tuning reads dev queries only (the test split is for reporting, in
relevance.py).  Each ``--set module.NAME=value`` patches a constant of
``indexer.<module>`` for this process; ``search.WEIGHTING=K1,B`` sets BM25F's
K1 and B.  Prints accented and stripped MRR@10 and ms/query.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import time
import unicodedata

from common import IR, WORK, read_jsonl
from relevance import load_qrels, metrics

from indexer import open_index
from indexer.text.normalize import fold


def apply(setting: str) -> None:
    target, value = setting.split("=", 1)
    module_name, name = target.rsplit(".", 1)
    module = importlib.import_module("indexer." + module_name)
    if module_name == "search" and name == "WEIGHTING":
        from whoosh import scoring
        k1, b = (float(x) for x in value.split(","))
        module.WEIGHTING = scoring.BM25F(B=b, K1=k1, title_B=0.5, title_fold_B=0.5)
        return
    if not hasattr(module, name):
        raise SystemExit(f"indexer.{module_name} has no {name}")
    parsed = ast.literal_eval(value)
    if isinstance(getattr(module, name), dict) and isinstance(parsed, dict):
        getattr(module, name).update(parsed)
    else:
        setattr(module, name, parsed)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--collection", default="vietnews-title")
    ap.add_argument("--offset", type=int, default=0)
    ap.add_argument("--limit", type=int, default=300)
    ap.add_argument("--set", action="append", default=[], dest="settings")
    ap.add_argument("--no-stripped", action="store_true")
    args = ap.parse_args()
    for s in args.settings:
        apply(s)
    base = IR / args.collection
    ix = open_index(WORK / f"ir-{args.collection}")
    qrels = load_qrels(base / "qrels_dev.tsv")
    queries = [q for q in read_jsonl(base / "queries_dev.jsonl") if q["id"] in qrels]
    queries = queries[args.offset:args.offset + args.limit]
    rows, stripped_rows = [], []
    started = time.perf_counter()
    for q in queries:
        rel = qrels[q["id"]]
        rows.append(metrics([h.id for h in ix.search(q["text"], per_page=100, mode="any", highlight=False).hits], rel))
        if not args.no_stripped:
            text = fold(unicodedata.normalize("NFC", q["text"]))
            stripped_rows.append(metrics(
                [h.id for h in ix.search(text, per_page=100, mode="any", highlight=False).hits], rel))
    ms = (time.perf_counter() - started) / max(1, len(queries)) * 1000
    mrr = sum(r["mrr@10"] for r in rows) / len(rows)
    r100 = sum(r["recall@100"] for r in rows) / len(rows)
    line = f"{' '.join(args.settings) or 'baseline'}: MRR@10 {mrr:.4f} R@100 {r100:.3f}"
    if stripped_rows:
        smrr = sum(r["mrr@10"] for r in stripped_rows) / len(stripped_rows)
        line += f" stripped {smrr:.4f} ({smrr / mrr:.0%})"
    print(f"{line}  [{len(rows)} queries, {ms:.0f} ms/query pair]", flush=True)


if __name__ == "__main__":
    main()
