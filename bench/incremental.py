"""Incremental update against a full rebuild, in the same run.

    python bench/incremental.py --size 50000 --touch 100

Builds an index of the first N corpus articles (bench/work/corpus-N.jsonl), then
writes a changed copy of the input: ``touch`` new articles (from beyond N),
``touch`` changed ones and ``touch`` deleted ones, and times ``update`` on a copy
of the index against a full ``--rebuild`` of the changed input.
Writes bench/results/incremental.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from itertools import islice

from common import CORPUS, WORK, read_jsonl, save
from indexing import subset

from indexer import open_index


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=50000)
    ap.add_argument("--touch", type=int, default=100)
    args = ap.parse_args()
    n, k = args.size, args.touch
    base = subset(n)
    changed = WORK / f"corpus-{n}-changed.jsonl"
    records = list(read_jsonl(base))
    extra = list(islice(read_jsonl(CORPUS), n, n + k))
    step = max(1, len(records) // (2 * k))
    change_ids = {records[i]["id"] for i in range(0, step * k, step)}
    delete_ids = {records[i]["id"] for i in range(step * k, step * k * 2, step)} - change_ids
    with open(changed, "w", encoding="utf-8") as out:
        for rec in records:
            if rec["id"] in delete_ids:
                continue
            if rec["id"] in change_ids:
                rec = dict(rec, body=rec["body"] + "\nCập nhật: bài viết được bổ sung thông tin mới.")
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
        for rec in extra:
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")

    # The base index lives at a fixed path so that the changed input keeps its origin.
    live = WORK / f"incr-{n}"
    shutil.rmtree(live, ignore_errors=True)
    src = WORK / f"incr-{n}-input.jsonl"
    shutil.copy(base, src)
    t0 = time.perf_counter()
    open_index(live).update([src])
    base_seconds = time.perf_counter() - t0

    shutil.copy(changed, src)
    t0 = time.perf_counter()
    report = open_index(live).update([src])
    incr = time.perf_counter() - t0
    t0 = time.perf_counter()
    open_index(live).update([src], rebuild=True)
    full = time.perf_counter() - t0
    result = {"size": n, "touched": {"added": report.added, "updated": report.updated, "removed": report.removed,
                                      "unchanged": report.unchanged},
              "incremental_seconds": round(incr, 1), "full_rebuild_seconds": round(full, 1),
              "initial_build_seconds": round(base_seconds, 1), "incremental_over_rebuild": round(incr / full, 4)}
    print(json.dumps(result, indent=2))
    save("incremental", result)


if __name__ == "__main__":
    main()
