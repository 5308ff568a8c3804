"""Ranking experiments on a dev split: MRR@10 of the engine with its configuration changed.

    python bench/tune.py --collection vietnews-title --offset 500 --limit 300 \
        --set ranking.max_bonus_phrase=64 --set ranking.rescore_window=400 --set ranking.k1=1.4

Tuning reads dev queries only (the test split is for reporting, in
relevance.py).  Each ``--set part.name=value`` replaces one field of
``indexer.config`` (``ranking``, ``limits`` or ``suggest``) in the
:class:`~indexer.config.Config` the index is opened with: nothing is patched.
Prints accented and stripped MRR@10 and ms/query.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import time
import unicodedata

from common import IR, WORK, read_jsonl
from relevance import load_qrels, metrics

from indexer import DEFAULT, Config, open_index
from indexer.text.normalize import fold


def configured(settings: list[str], config: Config = DEFAULT) -> Config:
    """``config`` with each ``part.name=value`` of ``settings`` replaced."""
    for setting in settings:
        target, value = setting.split("=", 1)
        part, name = target.split(".", 1)
        section = getattr(config, part, None)
        if section is None or not hasattr(section, name):
            raise SystemExit(f"indexer.config has no {target} (parts: ranking, limits, suggest)")
        parsed = ast.literal_eval(value)
        if isinstance(getattr(section, name), (dict, type(DEFAULT.ranking.field_weights))):
            parsed = {**getattr(section, name), **parsed}
        config = dataclasses.replace(config, **{part: dataclasses.replace(section, **{name: parsed})})
    return config


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--collection", default="vietnews-title")
    ap.add_argument("--offset", type=int, default=0)
    ap.add_argument("--limit", type=int, default=300)
    ap.add_argument("--set", action="append", default=[], dest="settings")
    ap.add_argument("--no-stripped", action="store_true")
    args = ap.parse_args()
    base = IR / args.collection
    ix = open_index(WORK / f"ir-{args.collection}", config=configured(args.settings))
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
