"""Two versions of the engine on one index: every query's ranked ids, scores and total.

    PYTHONPATH=old-checkout python bench/ab.py old.json INDEX_DIR q_dev.jsonl q_test.jsonl --modes=any,all
    PYTHONPATH=.            python bench/ab.py new.json INDEX_DIR q_dev.jsonl q_test.jsonl --modes=any,all
    python bench/ab.py --compare old.json new.json

Each query is searched as written and with its diacritics stripped, in each mode, top 100.
Used to show a restructure changed nothing (BENCHMARKS.md, "Behaviour across the restructure").
"""
import json
import sys
import time
import unicodedata

from indexer import open_index

try:
    from indexer.text.normalize import fold
except ImportError:
    from indexer.normalize import fold

args = sys.argv[1:]
if args and args[0] == "--compare":
    a, b = (json.load(open(p, encoding="utf-8")) for p in args[1:3])
    same = sum(1 for k in a if [x[0] for x in a[k]] == [x[0] for x in b.get(k, [])])
    diff = max((abs(x[1] - y[1]) for k in a for x, y in zip(a[k], b.get(k, [])) if isinstance(x[1], float)),
               default=0.0)
    print(json.dumps({"searches": len(a), "identical_rankings": same, "max_score_difference": diff}))
    sys.exit(0 if same == len(a) == len(b) else 1)
out, index_dir, files = args[0], args[1], [a for a in args[2:] if not a.startswith("--")]
modes = ["any"]
for a in args:
    if a.startswith("--modes="):
        modes = a.split("=", 1)[1].split(",")
ix = open_index(index_dir)
res = {}
t0 = time.time()
for f in files:
    for line in open(f, encoding="utf-8"):
        q = json.loads(line)
        for mode in modes:
            for variant, text in (("as", q["text"]), ("stripped", fold(unicodedata.normalize("NFC", q["text"])))):
                r = ix.search(text, per_page=100, mode=mode, highlight=False)
                res[f"{f}|{q['id']}|{mode}|{variant}"] = [[h.id, h.score] for h in r.hits] + [["#total", r.total]]
json.dump(res, open(out, "w"))
print(len(res), "searches in", round(time.time() - t0, 1), "s", file=sys.stderr)
