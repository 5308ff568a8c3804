"""Queries typed with the Vietnamese keyboard off (Telex, VNI): is the article found?

    python bench/keystrokes.py --index bench/work/index-111828 --docs ../shared/corpus/news-vi.jsonl.gz

Runs of 3-5 words are drawn (fixed seed) from the titles of indexed articles,
each holding at least two words with diacritics.  Each run is searched as
written, without diacritics, and as the keys a reader presses with the
keyboard off (``ime.keystrokes``: Telex for half the runs, VNI for the other
half), the last with the engine as it is and, in the same run, with keystroke
decoding switched off (the engine before session 12).  A run counts as found
when its own article is in the top 10.  Writes bench/results/keystrokes.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import re
from itertools import islice

from common import read_jsonl, save

from indexer import DEFAULT, Index, open_index
from indexer.text.ime import keystrokes
from indexer.text.normalize import fold, has_diacritics


def make_runs(rows: list[tuple[str, str]], n: int, seed: int = 20261202) -> list[dict]:
    rng = random.Random(seed)
    runs = []
    while len(runs) < n:
        doc_id, title = rng.choice(rows)
        words = re.findall(r"[^\W\d_]+", title)
        if len(words) < 5:
            continue
        size = rng.randint(3, 5)
        start = rng.randrange(0, len(words) - size + 1)
        run = words[start:start + size]
        if sum(has_diacritics(w) for w in run) < 2:
            continue
        vni = len(runs) % 2 == 1
        runs.append({"id": doc_id, "text": " ".join(run), "vni": vni,
                     "keys": " ".join(keystrokes(w, vni=vni) for w in run)})
    return runs


def found_share(ix, runs: list[dict], key: str) -> tuple[float, float]:
    found = noticed = 0
    for r in runs:
        text = r[key] if key != "folded" else fold(r["text"])
        res = ix.search(text, per_page=10, highlight=False)
        found += r["id"] in [h.id for h in res.hits]
        noticed += bool(res.notice and "bộ gõ" in res.notice)
    return round(found / len(runs), 4), round(noticed / len(runs), 4)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", required=True)
    ap.add_argument("--docs", required=True, help="the JSON lines the index was built from")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--runs", type=int, default=400)
    args = ap.parse_args()
    ix = open_index(args.index)
    rows = [(r["id"], r.get("title") or "") for r in islice(read_jsonl(args.docs), args.limit)]
    runs = make_runs(rows, args.runs)
    ix.search("khởi động")
    result = {}
    for name, key in (("as_written", "text"), ("without_diacritics", "folded"), ("keyboard_off", "keys")):
        found, noticed = found_share(ix, runs, key)
        result[name] = {"found_at_10": found, "notice_share": noticed}
        print(f"{name}: article in the top 10 for {found:.1%}", flush=True)
    undecoded = Index(ix.index_dir, config=dataclasses.replace(
        DEFAULT, suggest=dataclasses.replace(DEFAULT.suggest, keystrokes=False)))
    found, noticed = found_share(undecoded, runs, "keys")
    result["keyboard_off_not_decoded"] = {"found_at_10": found, "notice_share": noticed}
    print(f"keyboard_off_not_decoded: article in the top 10 for {found:.1%}", flush=True)
    for scheme in ("telex", "vni"):
        part = [r for r in runs if r["vni"] == (scheme == "vni")]
        result[f"keyboard_off_{scheme}"] = {"runs": len(part), "found_at_10": found_share(ix, part, "keys")[0]}
    save("keystrokes", {"index": str(args.index), "documents": ix.count(), "runs": len(runs),
                        "examples": [[r["text"], r["keys"]] for r in runs[:6]], "rows": result})


if __name__ == "__main__":
    main()
