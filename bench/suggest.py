"""Did-you-mean: are typos corrected, and are real words left alone?

    python bench/suggest.py --index bench/work/index-111828 --docs ../shared/corpus/news-vi.jsonl.gz
    python bench/suggest.py --index bench/work/index-5000 --docs ../shared/corpus/news-vi.jsonl.gz --limit 5000
    python bench/suggest.py --index index_dir --docs seeds --queries 200 --name suggest-seeds

Queries are 2-3 word runs of the indexed articles' titles (fixed seed) holding
at least one rare word (in under 0.1% of the articles, or 3: the words the
suggester looks at).  A folder of article files (the seeds: five articles) gives
too few titles: its runs are drawn from the titles and paragraphs as indexed.  Each run is searched twice:

* as written ("clean"): any suggestion is a false alarm, since the words are
  an article's own;
* with one typo in one word of three letters or more ("typo"): a tone mark
  dropped ("tập" -> "tâp"), a letter deleted, doubled, swapped with the next
  or replaced by a neighbouring key, never the first letter (suggestions keep
  it, as Whoosh's ``terms_within(prefix=1)``), and only typos that make a word
  no article holds.  A suggestion equal to the title's run (case and tone-mark
  placement aside: "thuỷ" is "thủy") fixed it; another suggestion is wrong;
  none missed it.

Both sets run in the same process with the suggester as it is and with
``Suggest.by_spelling`` off (frequency and marks only, as before session 12).
Writes bench/results/suggest.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import re
import time
import unicodedata
from itertools import islice
from pathlib import Path

from common import percentile, read_jsonl, save

from indexer import DEFAULT, Index, open_index
from indexer.text.normalize import normalize

TONES = "\u0300\u0301\u0303\u0309\u0323"
KEYS = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]


def neighbours(ch: str) -> str:
    for r, row in enumerate(KEYS):
        c = row.find(ch)
        if c >= 0:
            near = row[max(0, c - 1):c] + row[c + 1:c + 2]
            for other in (r - 1, r + 1):
                if 0 <= other < len(KEYS):
                    near += KEYS[other][max(0, c - 1):c + 1]
            return near
    return ""


def typo(word: str, rng: random.Random) -> str | None:
    """One typo in ``word`` (NFC) past its first letter, or None if the chosen kind does not apply."""
    kind = rng.choice(["tone", "delete", "double", "swap", "key"])
    if kind == "tone":
        nfd = unicodedata.normalize("NFD", word)
        if not any(c in TONES for c in nfd):
            return None
        return unicodedata.normalize("NFC", "".join(c for c in nfd if c not in TONES))
    i = rng.randrange(1, len(word))
    if kind == "delete":
        return word[:i] + word[i + 1:]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:] if i + 1 < len(word) and word[i] != word[i + 1] else None
    near = neighbours(word[i].lower())
    return word[:i] + rng.choice(near) + word[i + 1:] if near else None


def make_queries(ix, titles: list[str], n: int, seed: int = 20261202) -> tuple[list[str], list[tuple[str, str]]]:
    rng = random.Random(seed)
    rare = max(3, ix.count() * ix.config.suggest.rare_share)  # as the suggester counts it
    df = lambda w: ix.doc_frequency(w.lower())
    clean, typos = [], []
    tries = 0
    while (len(clean) < n or len(typos) < n) and tries < 200 * n:
        tries += 1
        words = re.findall(r"[^\W\d_]+", normalize(rng.choice(titles)))  # NFC first: a combining mark is \W
        if len(words) < 3:
            continue
        size = rng.randint(2, 3)
        start = rng.randrange(0, len(words) - size + 1)
        run = words[start:start + size]
        rare_at = [i for i, w in enumerate(run) if df(w) < rare]
        if not rare_at:
            continue
        text = " ".join(run)
        if len(clean) < n:
            clean.append(text)
        if len(typos) < n:
            i = rng.randrange(len(run))
            if len(run[i]) < 3:
                continue
            changed = typo(run[i], rng)
            if not changed or changed.lower() == run[i].lower() or df(changed) > 0:
                continue
            typos.append((" ".join(run[:i] + [changed] + run[i + 1:]), text))
    return clean, typos


def run(ix, clean: list[str], typos: list[tuple[str, str]]) -> dict:
    same = lambda a, b: normalize(a).lower() == normalize(b).lower()
    false_alarms = []
    for q in clean:
        s = ix.search(q).suggestion
        if s is not None:
            false_alarms.append([q, s])
    fixed = wrong = missed = 0
    examples = []
    ms = []
    for q, want in typos:
        t = time.perf_counter()
        s = ix.search(q).suggestion
        ms.append((time.perf_counter() - t) * 1000)
        if s is None:
            missed += 1
        elif same(s, want):
            fixed += 1
        else:
            wrong += 1
            if len(examples) < 15:
                examples.append([q, s, want])
    n = len(typos) or 1
    return {
        "clean_queries": len(clean),
        "false_alarm_share": round(len(false_alarms) / (len(clean) or 1), 4),
        "typo_queries": len(typos),
        "fixed_share": round(fixed / n, 4),
        "wrong_share": round(wrong / n, 4),
        "missed_share": round(missed / n, 4),
        "typo_search_ms_p50": round(percentile(ms, 50), 1),
        "typo_search_ms_p95": round(percentile(ms, 95), 1),
        "false_alarm_examples": false_alarms[:15],
        "wrong_examples": examples,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", required=True)
    ap.add_argument("--docs", required=True,
                    help="the JSON lines the index was built from (for titles), or the folder of article files")
    ap.add_argument("--limit", type=int, default=None, help="titles of the first N articles only")
    ap.add_argument("--queries", type=int, default=500, help="per set")
    ap.add_argument("--name", default="suggest", help="results file: bench/results/NAME.json")
    args = ap.parse_args()
    ix = open_index(args.index)
    if Path(args.docs).is_dir():  # the articles as indexed (their ids are the file names)
        stored = [ix.get(f.name) for f in sorted(Path(args.docs).iterdir())][:args.limit]
        titles = [text for a in stored if a for text in (a.title, *a.paragraphs)]
    else:
        titles = [r.get("title") or "" for r in islice(read_jsonl(args.docs), args.limit)]
    clean, typos = make_queries(ix, titles, args.queries)
    print(f"{ix.count()} articles, {len(clean)} clean and {len(typos)} typo queries", flush=True)
    ix.search("khởi động")
    rows = {}
    for name, by_spelling in (("spelling", True), ("frequency_only", False)):
        config = dataclasses.replace(DEFAULT, suggest=dataclasses.replace(DEFAULT.suggest, by_spelling=by_spelling))
        rows[name] = run(Index(ix.index_dir, config=config), clean, typos)
        r = rows[name]
        print(f"{name}: false alarms {r['false_alarm_share']:.1%}, typos fixed {r['fixed_share']:.1%}, "
              f"wrong {r['wrong_share']:.1%}, missed {r['missed_share']:.1%}", flush=True)
    save(args.name, {"index": str(args.index), "documents": ix.count(), "queries_per_set": args.queries,
                     "rows": rows})


if __name__ == "__main__":
    main()
