"""An update that replaces a large share of an index, with and without rewriting the
segments it leaves mostly deleted, against a full rebuild, in the same run.

    python bench/reclaim.py --size 10000 --share 0.5

Builds an index of the first N corpus articles, copies it, changes ``share`` of the
articles (every 1/share-th gets a sentence appended) and updates one copy as the engine
does (segments with more than ``writer.RECLAIM_SHARE`` deleted are rewritten) and the
other with the rewrite turned off (Whoosh keeps the deleted copies), then rebuilds the
changed input from scratch.  Reports seconds, ratios to the rebuild, and the deleted
documents left counting in the index's statistics.  Writes bench/results/reclaim.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time

from common import WORK, read_jsonl, save
from indexing import subset
from whoosh import index as whoosh_index

from indexer import open_index
from indexer.store import segment_writer as writer_module
from indexer.store.generations import current_generation
from indexer.store.schema import INDEX_NAME


def segments(ix_dir) -> list[tuple[int, int]]:
    """(live, all) documents of each segment."""
    raw = whoosh_index.open_dir(str(current_generation(ix_dir)), indexname=INDEX_NAME)
    return [(seg.doc_count(), seg.doc_count_all()) for seg in raw._segments()]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=10000)
    ap.add_argument("--share", type=float, default=0.5)
    args = ap.parse_args()
    n, step = args.size, max(1, round(1 / args.share))
    records = list(read_jsonl(subset(n)))
    src = WORK / f"reclaim-{n}-input.jsonl"  # one path: the copies' articles keep their origin
    shutil.copy(subset(n), src)
    base = WORK / f"reclaim-{n}-base"
    shutil.rmtree(base, ignore_errors=True)
    t0 = time.perf_counter()
    open_index(base).update([src])
    build_seconds = time.perf_counter() - t0
    before = segments(base)
    with open(src, "w", encoding="utf-8") as out:
        for i, rec in enumerate(records):
            if i % step == 0:
                rec = dict(rec, body=rec["body"] + "\nCập nhật: bài viết được bổ sung thông tin mới.")
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")

    runs = {}
    engine_share = writer_module.RECLAIM_SHARE
    for name, share in (("reclaim", engine_share), ("no_reclaim", float("inf"))):
        ix_dir = WORK / f"reclaim-{n}-{name}"
        shutil.rmtree(ix_dir, ignore_errors=True)
        shutil.copytree(base, ix_dir, symlinks=True)
        writer_module.RECLAIM_SHARE = share  # read by the committing (parent) process
        t0 = time.perf_counter()
        report = open_index(ix_dir).update([src])
        seconds = time.perf_counter() - t0
        after = segments(ix_dir)
        runs[name] = {"seconds": round(seconds, 1), "updated": report.updated, "segments": after,
                      "deleted_left": sum(a - live for live, a in after)}
    writer_module.RECLAIM_SHARE = engine_share
    rebuilt = WORK / f"reclaim-{n}-rebuild"
    shutil.rmtree(rebuilt, ignore_errors=True)
    t0 = time.perf_counter()
    open_index(rebuilt).update([src], rebuild=True)
    rebuild_seconds = time.perf_counter() - t0
    for run in runs.values():
        run["over_rebuild"] = round(run["seconds"] / rebuild_seconds, 3)
    result = {"size": n, "changed": runs["reclaim"]["updated"], "initial_build_seconds": round(build_seconds, 1),
              "segments_before": before, "full_rebuild_seconds": round(rebuild_seconds, 1), **runs}
    print(json.dumps(result, indent=2))
    save("reclaim", result)


if __name__ == "__main__":
    main()
