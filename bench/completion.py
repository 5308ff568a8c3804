"""Type-ahead on the full corpus (issue 22): does the box offer the title's next word, fast?

    python bench/completion.py [--index bench/work/index-111828] [--prefixes 500]

For ``--prefixes`` titles drawn at random (seed 22) from the corpus, the reader
types the first syllable and 1-3 letters of the next (as written, and without
diacritics): a hit when the title's second syllable, as written, is the next
syllable of one of the top 5 completions.  Latency: ``Index.complete`` and
``/api/suggest`` through the Flask app (in process), median and p95 over every
prefix, after the table is built (its one-time build, per generation and
process, is reported apart).  Writes bench/results/completion.json.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import statistics
import time

from common import CORPUS, WORK, percentile, save

from indexer import open_index
from indexer.text.analysis import analyze
from indexer.text.normalize import fold


def prefixes(count: int) -> list[tuple[str, str, str]]:
    """(typed, typed without diacritics, the expected next syllable)."""
    rng = random.Random(22)
    with gzip.open(CORPUS, "rt", encoding="utf-8") as f:
        titles = [json.loads(line)["title"] for line in f]
    out = []
    while len(out) < count:
        syllables = analyze(rng.choice(titles), words=False).syllables
        if len(syllables) < 2 or not syllables[0].isalpha() or not syllables[1].isalpha():
            continue
        first, second = syllables[0], syllables[1]
        typed = f"{first} {second[:rng.randint(1, 3)]}"
        out.append((typed, fold(typed), second))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--index", default=str(WORK / "index-111828"))
    ap.add_argument("--prefixes", type=int, default=500)
    args = ap.parse_args()
    ix = open_index(args.index)
    started = time.perf_counter()
    ix.complete("a")
    build_s = time.perf_counter() - started
    cases = prefixes(args.prefixes)
    result: dict = {"documents": ix.count(), "prefixes": len(cases), "table_build_s": round(build_s, 2)}
    from search_web import create_app

    client = create_app(index_dir=args.index).test_client()
    client.get("/api/suggest", query_string={"q": "a"})
    for label, at in (("accented", 0), ("unaccented", 1)):
        found, api_ms, http_ms = 0, [], []
        for case in cases:
            typed, second = case[at], case[2].lower()
            t = time.perf_counter()
            top = ix.complete(typed, limit=5)
            api_ms.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            client.get("/api/suggest", query_string={"q": typed})
            http_ms.append((time.perf_counter() - t) * 1000)
            found += any(len(c.split()) > 1 and c.lower().split()[1] == second for c in top)
        result[label] = {"next_word_in_top5": round(found / len(cases), 3),
                         "api_ms": {"p50": round(statistics.median(api_ms), 2), "p95": round(percentile(api_ms, 95), 2)},
                         "app_ms": {"p50": round(statistics.median(http_ms), 2), "p95": round(percentile(http_ms, 95), 2)}}
        print(f"{label}: next word in the top 5 for {found}/{len(cases)} ({found / len(cases):.1%}); "
              f"Index.complete p50 {result[label]['api_ms']['p50']} ms p95 {result[label]['api_ms']['p95']} ms; "
              f"/api/suggest p50 {result[label]['app_ms']['p50']} ms p95 {result[label]['app_ms']['p95']} ms")
    print(f"table built in {build_s:.1f} s for {result['documents']} articles")
    save("completion", result)


if __name__ == "__main__":
    main()
