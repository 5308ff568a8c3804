"""Hostile queries on a 10,000-article index: never an exception, always bounded time.

    python reliability/hostile.py                 # builds bench/work/hostile-10k first if needed
    python reliability/hostile.py --index DIR     # any existing index

The index holds the first 10,000 articles of ../shared/corpus when it exists,
else 10,000 generated ones.  Every query of a fixed hostile list (``*``,
``a*``, a 400-term OR, 500 nested parentheses, a 300-syllable phrase (and one ending in ``*``), fuzzy
operators, control characters…) and ``--random`` generated ones (syntax
characters, Vietnamese words and random code points, fixed seed) runs through
``Index.search`` in both modes and both sorts.  Reports the slowest; exits
non-zero if any query raised or took longer than ``--bound`` seconds.
Writes reliability/results/hostile.json.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import statistics
import sys
import time
import traceback
from itertools import islice
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer import open_index

RESULTS = ROOT / "reliability" / "results"
CORPUS = ROOT.parent / "shared" / "corpus" / "news-vi.jsonl.gz"
SYNTAX = ['"', "(", ")", "-", "+", "*", "~", "~2", ":", "[", "]", " OR ", " AND ", " NOT ", "|", "title:", "date:",
          "date:[", " to ", "category:", "\\", "\x00", "\u200b", "\u0301", "?", "^", "{", "}", "/", "'"]
WORDS = ["mặt", "trận", "Tổ", "quốc", "mttq", "UBND", "hoà", "hòa", "tap", "huấn", "2020", "a", "đ", "người", "và",
         "của", "là", "Việt Nam", "covid", "hà nội", "thành phố"]
FIXED = [
    "*", "a*", "*a", "?", "**", "a* b* c* đ* n* t*", "t*", "ng*", " OR ".join(["mặt"] * 400),
    " OR ".join(WORDS * 20), "(" * 500 + "mặt" + ")" * 500, "(" * 1000, ")" * 1000, '"' + "mặt trận " * 300 + '"',
    '"' * 101, "mặt~ trận~2 quốc~9", "~" * 50, "người~", "và của là người", "-" * 100, "-và -của", "NOT và",
    "title:" * 50, "date:[2020 to 2019]", "date:[0000-00-00 to 9999-99-99]", "date:[* to *]", "\x00" * 100,
    "\u0301" * 300, "\u200b" * 300, "🙂" * 200, "a" * 1000, "mặt" * 300, " ".join(["đ"] * 500),
    "<script>alert(1)</script>", "'; DROP TABLE docs; --", "../../etc/passwd", "%00%2e%2e", "\\" * 200,
    '"' + "thanh " * 300 + 'p*"', '"t*" "n*" "đ*" "c*" "h*" "m*"', '"a b*" "c d*" "e f*" "g h*" "i k*" "l m*"',
]


def random_queries(n: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        parts = []
        for _ in range(rnd.randrange(1, 40)):
            kind = rnd.random()
            if kind < 0.35:
                parts.append(rnd.choice(SYNTAX))
            elif kind < 0.75:
                parts.append(rnd.choice(WORDS) + rnd.choice(["", " ", "*", "~"]))
            else:
                parts.append("".join(chr(rnd.choice([rnd.randrange(32, 0x2FF), rnd.randrange(0x300, 0x10FFFF)]))
                                     for _ in range(rnd.randrange(1, 6))))
        out.append("".join(parts))
    return out


def build_10k(index_dir: Path) -> str:
    ix = open_index(index_dir)
    src = index_dir.parent / "hostile-10k.jsonl"
    if ix.count() >= 10_000:
        if src.exists():  # nothing to do, unless the index is from an older schema: then a rebuild
            print(ix.update([src]).summary().splitlines()[0], flush=True)
        return "existing"
    with open(src, "w", encoding="utf-8") as out:
        if CORPUS.exists():
            with gzip.open(CORPUS, "rt", encoding="utf-8") as fh:
                for line in islice(fh, 10_000):
                    out.write(line)
            origin = "corpus"
        else:
            rnd = random.Random(5)
            for n in range(10_000):
                body = " ".join(rnd.choice(WORDS) for _ in range(300))
                out.write(json.dumps({"id": f"g{n}", "title": " ".join(rnd.sample(WORDS, 6)), "body": body,
                                      "date": f"20{rnd.randrange(10, 24)}-0{rnd.randrange(1, 10)}-1{rnd.randrange(10)}"},
                                     ensure_ascii=False) + "\n")
            origin = "generated"
    report = ix.update([src], rebuild=True)
    print(report.summary().splitlines()[0], flush=True)
    return origin


def run(index_dir: Path, n_random: int = 500, seed: int = 11, bound: float = 5.0) -> dict:
    ix = open_index(index_dir)
    ix.search("khởi động")  # open the index once
    queries = FIXED + random_queries(n_random, seed)
    timings, errors, slow = [], [], []
    for q in queries:
        for mode in ("all", "any"):
            for sort in ("relevance", "date"):
                t0 = time.perf_counter()
                try:
                    res = ix.search(q, mode=mode, sort=sort)
                    assert res.total >= 0 and len(res.hits) <= res.per_page
                except Exception:
                    errors.append({"query": q[:200], "mode": mode, "error": traceback.format_exc()[-800:]})
                elapsed = time.perf_counter() - t0
                timings.append(elapsed)
                if elapsed > bound:
                    slow.append({"query": q[:200], "mode": mode, "sort": sort, "seconds": round(elapsed, 2)})
    ranked = sorted(zip(timings, [(q, m, s) for q in queries for m in ("all", "any") for s in ("relevance", "date")]),
                    reverse=True)
    return {
        "documents": ix.count(), "queries": len(queries), "searches": len(timings), "errors": errors,
        "over_bound": slow, "bound_s": bound,
        "median_ms": round(statistics.median(timings) * 1000, 1),
        "p99_ms": round(sorted(timings)[int(0.99 * (len(timings) - 1))] * 1000, 1),
        "max_ms": round(ranked[0][0] * 1000, 1),
        "slowest": [{"query": q[:80], "mode": m, "sort": s, "ms": round(t * 1000, 1)} for t, (q, m, s) in ranked[:5]],
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", help="an existing index (default: build bench/work/hostile-10k)")
    ap.add_argument("--random", type=int, default=500)
    ap.add_argument("--bound", type=float, default=5.0, help="seconds one search may take")
    ap.add_argument("--out", default=str(RESULTS / "hostile.json"))
    args = ap.parse_args(argv)
    if args.index:
        index_dir, origin = Path(args.index), "given"
    else:
        index_dir = ROOT / "bench" / "work" / "hostile-10k"
        index_dir.parent.mkdir(parents=True, exist_ok=True)
        origin = build_10k(index_dir)
    result = run(index_dir, args.random, bound=args.bound)
    result.update(index=origin, date=time.strftime("%Y-%m-%d %H:%M"))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")  # queries may hold lone surrogates
    print(json.dumps({k: v for k, v in result.items() if k != "errors"}, indent=1))
    for e in result["errors"][:5]:
        print(e["query"], e["error"], sep="\n")
    sys.exit(1 if result["errors"] or result["over_bound"] else 0)


if __name__ == "__main__":
    main()
