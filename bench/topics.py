"""Short topical queries (../shared/ir/vi-topics): is the top of the list about the topic?

    python bench/topics.py [--config ranking.pair_weight=2.0 ...] [--name topics]

Dev split only (the test half is held back).  For each query, in the engine's
default (all-words) and any-word modes: nDCG@10 with gain 2^grade - 1 (the
ideal from every judgment of the query), P@10 (grade >= 1) and judged@10 (the
share of the top 10 that has a judgment: unjudged articles count as 0, so a
ranking that brings up new articles is under-scored until they are judged).
Judgments are the collection's ``qrels_dev.tsv`` plus the project's own blind
judgments of articles the pool missed (``bench/data/vi-topics-extra.tsv``).

Also the issue-21 checks on the first 5,000 corpus articles: which of the top
results of "mặt trận tổ quốc" (three spellings) and "ủy ban nhân dân" hold the
phrase or its acronym.  Writes bench/results/topics.json.
"""

from __future__ import annotations

import argparse
import gzip
import math
import os
import re

from common import CORPUS, IR, ROOT, WORK, read_jsonl, save
from tune import configured

from indexer import open_index
from indexer.text.normalize import normalize

COLLECTION = IR / "vi-topics"
EXTRA = ROOT / "bench" / "data" / "vi-topics-extra.tsv"
SLICE = 5000
SLICE_CHECKS = [  # query, how deep only concept articles are wanted, what names the concept
    ("mặt trận tổ quốc", 4, ("mặt trận tổ quốc", "mttq")),
    ("mat tran to quoc", 4, ("mặt trận tổ quốc", "mttq")),
    ("Mặt Trận Tổ Quốc", 4, ("mặt trận tổ quốc", "mttq")),
    ("ủy ban nhân dân", 10, ("ủy ban nhân dân", "ubnd")),
]


def load_grades(*paths) -> dict[str, dict[str, int]]:
    grades: dict[str, dict[str, int]] = {}
    for path in paths:
        if not path.exists():
            continue
        for line in open(path, encoding="utf-8"):
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 3 and not line.startswith("#"):
                grades.setdefault(parts[0], {})[parts[1]] = int(parts[2])
    return grades


def metrics(ranked: list[str], grades: dict[str, int]) -> dict:
    top = ranked[:10]
    dcg = sum((2 ** grades.get(d, 0) - 1) / math.log2(i + 2) for i, d in enumerate(top))
    ideal = sorted(grades.values(), reverse=True)[:10]
    idcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return {"ndcg@10": dcg / idcg if idcg else 0.0,
            "p@10": sum(grades.get(d, 0) >= 1 for d in top) / 10,
            "judged@10": sum(d in grades for d in top) / max(1, len(top))}


def topics(config, modes=("all", "any")) -> dict:
    ix = open_index(WORK / "ir-vi-topics", config=config)
    ix.update([COLLECTION / "docs.jsonl.gz"])
    grades = load_grades(COLLECTION / "qrels_dev.tsv", EXTRA)
    queries = [q for q in read_jsonl(COLLECTION / "queries_dev.jsonl") if q["id"] in grades]
    out: dict = {"documents": ix.count(), "queries": len(queries),
                 "judgments": sum(len(g) for g in grades.values()), "modes": {}}
    for mode in modes:
        rows, unjudged = {}, []
        for q in queries:
            ranked = [h.id for h in ix.search(q["text"], per_page=10, mode=mode, highlight=False).hits]
            rows[q["id"]] = {"text": q["text"], **{k: round(v, 4) for k, v in metrics(ranked, grades[q["id"]]).items()}}
            unjudged += [(q["id"], d) for d in ranked if d not in grades[q["id"]]]
        mean = {k: round(sum(r[k] for r in rows.values()) / len(rows), 4) for k in ("ndcg@10", "p@10", "judged@10")}
        out["modes"][mode] = {**mean, "unjudged_in_top10": len(unjudged), "per_query": rows}
        worst = sorted(rows.values(), key=lambda r: r["ndcg@10"])[:5]
        print(f"{mode}: nDCG@10 {mean['ndcg@10']:.3f}  P@10 {mean['p@10']:.3f}  judged@10 {mean['judged@10']:.3f}"
              f"  weakest: " + ", ".join(f"{r['text']} {r['ndcg@10']:.2f}" for r in worst))
        out["modes"][mode]["unjudged"] = unjudged
    return out


def slice_index(config):
    """The first 5,000 corpus articles (the slice issue 21's examples were seen on)."""
    docs = WORK / f"corpus-{SLICE}.jsonl"
    if not docs.exists():
        with gzip.open(CORPUS, "rb") as src, open(docs, "wb") as dst:
            for i, line in enumerate(src):
                if i >= SLICE:
                    break
                dst.write(line)
    ix = open_index(WORK / f"index-{SLICE}", config=config)
    ix.update([docs])
    return ix


def names_concept(text: str, forms) -> bool:
    text = normalize(text).lower()
    return any(re.search(r"(?<!\w)" + re.escape(normalize(f)) + r"(?!\w)", text) for f in forms)


def slice_checks(config) -> list[dict]:
    ix = slice_index(config)
    rows = []
    for query, depth, forms in SLICE_CHECKS:
        hits = ix.search(query, per_page=depth, highlight=False).hits
        marks = [names_concept(f"{h.title}\n{ix.get(h.id).body}", forms) for h in hits]
        rows.append({"query": query, "depth": depth, "concept_in_top": sum(marks), "met": all(marks),
                     "top": [{"id": h.id, "title": h.title, "names_concept": m} for h, m in zip(hits, marks)]})
        print(f"slice {query!r}: {sum(marks)}/{depth} of the top name {forms[0]!r} or {forms[1].upper()}"
              + ("" if all(marks) else "  (first miss: " + next(h.title for h, m in zip(hits, marks) if not m) + ")"))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", dest="settings", action="append", default=[], metavar="SECTION.NAME=VALUE")
    ap.add_argument("--name", default="topics")
    ap.add_argument("--no-slice", action="store_true")
    ap.add_argument("--unjudged", metavar="FILE", help="add this run's unjudged (query, article) pairs to FILE "
                    "(TSV), to be judged blind (bench/judging.py)")
    args = ap.parse_args()
    config = configured(args.settings)
    result = {"settings": args.settings, "vi_topics_dev": topics(config)}
    if args.unjudged:
        seen = set()
        if os.path.exists(args.unjudged):
            seen = {tuple(line.split()) for line in open(args.unjudged, encoding="utf-8") if line.strip()}
        with open(args.unjudged, "a", encoding="utf-8") as out:
            for mode in result["vi_topics_dev"]["modes"].values():
                for pair in mode["unjudged"]:
                    if tuple(pair) not in seen:
                        seen.add(tuple(pair))
                        out.write("\t".join(pair) + "\n")
    if not args.no_slice:
        result["slice_5000"] = slice_checks(config)
    save(args.name, result)


if __name__ == "__main__":
    main()
