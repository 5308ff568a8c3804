"""Judging sheets for vi-topics articles no judgment covers yet.

    python bench/judging.py UNJUDGED.tsv SHEET.md

``UNJUDGED.tsv`` holds ``query_id<TAB>doc_id`` lines (``bench/topics.py --unjudged``).
The sheet gives, per query, the reader's need and each article's title, lead
and the passages holding the query's words, in a shuffled order and without
saying which ranking found it, so that a judge grades blind (0/1/2, the scale of
the collection's README).  Grades go to ``bench/data/vi-topics-extra.tsv``.
"""

from __future__ import annotations

import random
import re
import sys

from common import IR, read_jsonl

from indexer.text.normalize import fold, normalize

COLLECTION = IR / "vi-topics"
LEAD_CHARS = 600
PASSAGES = 4
PASSAGE_CHARS = 240


def passages(body: str, query: str) -> list[str]:
    """Up to ``PASSAGES`` stretches of ``body`` around the query's syllables (folded)."""
    words = [re.escape(w) for w in fold(normalize(query)).lower().split()]
    folded = fold(normalize(body)).lower()
    if len(folded) != len(body):  # folding changed the length: fall back to the lead only
        return []
    found, last = [], -PASSAGE_CHARS
    for m in re.finditer(r"(?<!\w)(" + "|".join(words) + r")(?!\w)", folded):
        if m.start() < LEAD_CHARS or m.start() < last + PASSAGE_CHARS:
            continue
        start = max(0, m.start() - PASSAGE_CHARS // 2)
        found.append("…" + body[start:start + PASSAGE_CHARS].replace("\n", " ") + "…")
        last = m.start()
        if len(found) >= PASSAGES:
            break
    return found


def main() -> None:
    unjudged_path, sheet_path = sys.argv[1], sys.argv[2]
    wanted: dict[str, list[str]] = {}
    for line in open(unjudged_path, encoding="utf-8"):
        if line.strip():
            qid, doc = line.split()[:2]
            wanted.setdefault(qid, []).append(doc)
    queries = {q["id"]: q for q in read_jsonl(COLLECTION / "queries_dev.jsonl")}
    ids = {d for docs in wanted.values() for d in docs}
    docs = {d["id"]: d for d in read_jsonl(COLLECTION / "docs.jsonl.gz") if d["id"] in ids}
    rng = random.Random(0)
    out = ["# vi-topics: articles to judge (0/1/2)", "",
           "2: mainly about the need; 1: discusses it substantively, not the main subject; 0: the words "
           "occur in another sense, by coincidence, or only in passing.", ""]
    for qid in sorted(wanted):
        q = queries[qid]
        out += [f"## {qid}: {q['text']}", "", f"Need: {q['need']}", ""]
        articles = sorted(dict.fromkeys(wanted[qid]))
        rng.shuffle(articles)
        for doc in articles:
            d = docs[doc]
            body = normalize(d.get("body") or "")
            out += [f"### {qid} {doc}", "", f"Title: {normalize(d.get('title') or '')}", "",
                    f"Lead: {body[:LEAD_CHARS].strip()}", ""]
            out += [f"- {p}" for p in passages(body, q["text"])] + [""]
    with open(sheet_path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(out) + "\n")
    print(f"wrote {sheet_path}: {len(ids)} articles for {len(wanted)} queries")


if __name__ == "__main__":
    main()
