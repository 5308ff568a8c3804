"""Is the engine's segmentation pyvi's, on a large corpus sample?  And how much faster is it?

    python bench/segmentation.py --articles 20000

Every ``step``-th article of ``../shared/corpus/news-vi.jsonl.gz`` (title and
body, normalised as the indexer does) is segmented by
``pyvi.ViTokenizer.tokenize`` and by ``indexer.text.segment.pyvi_tokenize``
(which decodes pyvi's CRF model itself, see ``indexer/crf.py``); every
difference is listed.  The indexer's own path, which skips offsets
(``segment(text, spans=False)``), must give the same tokens and words.  Two worker processes share the work; the speed figure
is the ratio of the two segmenters' CPU time on the same texts, in the same
processes.  Writes ``bench/results/segmentation.json``.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import multiprocessing
import time

from common import CORPUS, save, started


def _check(texts: list[tuple[str, str]]) -> dict:
    from pyvi import ViTokenizer

    from indexer.text.segment import pyvi_tokenize, segment

    differ = []
    differ_terms = []  # the indexer's path (no offsets) against the offset-keeping one
    pyvi_s = engine_s = 0.0
    syllables = 0
    for doc_id, text in texts:
        t0 = time.process_time()
        expected = ViTokenizer.tokenize(text)
        t1 = time.process_time()
        got = pyvi_tokenize(text)
        t2 = time.process_time()
        pyvi_s += t1 - t0
        engine_s += t2 - t1
        syllables += expected.count(" ") + expected.count("_") + 1
        if got != expected:
            differ.append(doc_id)
        full, terms = segment(text), segment(text, spans=False)
        if (terms.tokens, terms.words) != (full.tokens, full.words):
            differ_terms.append(doc_id)
    return {"texts": len(texts), "differ": differ, "differ_terms": differ_terms, "pyvi_s": pyvi_s,
            "engine_s": engine_s, "tokens": syllables}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--articles", type=int, default=20000)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    started()
    from indexer.text.normalize import normalize
    from indexer.text.segment import _model

    _model()  # load before forking
    total = 111828
    step = max(1, total // args.articles)
    with gzip.open(CORPUS, "rb") as fh:
        texts = [(r["id"], normalize(r["title"] + "\n" + r["body"]))
                 for r in map(json.loads, itertools.islice(fh, 0, None, step))][:args.articles]
    chunks = [texts[i::args.jobs * 8] for i in range(args.jobs * 8)]
    with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
        parts = pool.map(_check, chunks)
    differ = sorted(d for p in parts for d in p["differ"])
    pyvi_s = sum(p["pyvi_s"] for p in parts)
    engine_s = sum(p["engine_s"] for p in parts)
    result = {
        "articles": len(texts), "every": step, "tokens": sum(p["tokens"] for p in parts),
        "identical": len(texts) - len(differ), "differ": differ,
        "identical_without_offsets": len(texts) - sum(len(p["differ_terms"]) for p in parts),
        "pyvi_cpu_ms_per_article": round(1000 * pyvi_s / len(texts), 2),
        "engine_cpu_ms_per_article": round(1000 * engine_s / len(texts), 2),
        "engine_speedup": round(pyvi_s / engine_s, 2),
    }
    save("segmentation", result)
    print(json.dumps({k: v for k, v in result.items() if k != "differ"}, indent=1),
          f"\n{len(differ)} differ: {differ[:20]}")


if __name__ == "__main__":
    main()
