"""Acronyms and their full forms: do both find articles about the concept?

    python bench/acronyms.py [--size 10000]

On an index of the first N corpus articles, every form of a few acronym groups
(UBND = Ủy ban nhân dân, THPT = trung học phổ thông, ...) is searched as typed,
and the multi-syllable forms also without diacritics.  A hit counts when its
title holds some form of the group (syllables in order, accents ignored): a
proxy for "about the concept", since titles name what an article is about.
Reports the mean count in the top 10 for the engine and, in the same run, for
the engine with every form weighted alike (before acronym forms were weighted
by the IDF mass of the form typed).  Writes bench/results/acronyms.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import unicodedata

from common import WORK, save
from indexing import subset

from indexer import DEFAULT, Index, open_index
from indexer.text.acronyms import load_acronyms
from indexer.text.normalize import fold

GROUPS = ["UBND", "HĐND", "MTTQ", "TPHCM", "THPT", "BHXH", "CAND"]


def syllables(text: str) -> list[str]:
    return re.findall(r"\w+", fold(unicodedata.normalize("NFC", text)).lower())


def contains(seq: list[str], sub: tuple[str, ...]) -> bool:
    n = len(sub)
    return any(tuple(seq[i:i + n]) == sub for i in range(len(seq) - n + 1))


def run(ix, groups: dict[str, list[tuple[str, ...]]]) -> dict:
    rows = {}
    for _name, forms in groups.items():
        keys = [tuple(fold(s).lower() for s in form) for form in forms]
        queries = [" ".join(form) for form in forms] + [fold(" ".join(form)) for form in forms if len(form) > 1]
        for q in dict.fromkeys(queries):
            hits = ix.search(q, per_page=10).hits
            rows[q] = sum(any(contains(syllables(h.title), k) for k in keys) for h in hits)
    return {"mean_title_about_at_10": round(sum(rows.values()) / len(rows), 3), "queries": rows}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=10000)
    args = ap.parse_args()
    ix = open_index(WORK / f"acronyms-{args.size}")
    ix.update([subset(args.size)])
    table = load_acronyms()
    groups = {}
    for name in GROUPS:
        found = table.match([fold(s).lower() for s in syllables(name)], 0)
        if found:
            groups[name] = list(found[1])
    engine = run(ix, groups)
    own_idf = dataclasses.replace(DEFAULT, ranking=dataclasses.replace(DEFAULT.ranking, acronym_forms_as_typed=False))
    alike = run(Index(ix.index_dir, config=own_idf), groups)  # each form weighs its own IDF
    result = {"size": args.size, "groups": {k: [" ".join(f) for f in v] for k, v in groups.items()},
              "engine": engine, "forms_weighted_alike": alike}
    print(json.dumps({k: result[k]["mean_title_about_at_10"] for k in ("engine", "forms_weighted_alike")}))
    for q in engine["queries"]:
        print(f"  {q!r:32} {alike['queries'][q]:2} -> {engine['queries'][q]:2}")
    save("acronyms", result)


if __name__ == "__main__":
    main()
