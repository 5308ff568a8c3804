"""How the collection writes a run of syllables typed without diacritics.

"mat tran to quoc" could be written many ways; the articles that hold these
folded syllables side by side say how they are written: "mặt trận tổ quốc"
nearly always, where "bien dong" is "Biển Đông" in some and "biến động" in
others.  Each written form of the run, counted over the candidates where it
stands together (the folded field's postings are its exact variants, so every
position knows the exact term it came from), is a reading; the engine ranks the
articles holding the likely readings first, each as much as the collection
writes it so (``Ranking.reading_weight``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..config import Ranking
from ..store.arrays_read import SEP
from ..store.schema import base_of
from .rescore import AdjacentPairs, _candidates_by_segment, _common_keys, best

__all__ = ["Reading", "read_runs", "readings"]


@dataclass(frozen=True)
class Reading:
    syllables: tuple[str, ...]  # as the exact field holds them (lower case, canonical tones)
    share: float                # of the run's occurrences among the candidates

    @property
    def text(self) -> str:
        return " ".join(self.syllables)


def readings(segments, field: str, folded: list[str], candidates: np.ndarray, least: float = 0.1) -> list[Reading]:
    """The written forms of ``folded`` (side by side, in ``field``'s exact field) among the
    candidates (global docnums, ascending), most frequent first, those of at least ``least``
    of the occurrences."""
    if len(folded) < 2 or not len(candidates):
        return []
    counts: dict[tuple[str, ...], int] = {}
    fold_field = field + "_fold"
    for seg, _, is_candidate in _candidates_by_segment(segments, candidates):
        arrays = seg.arrays
        postings = [arrays.postings(arrays.term_ids(fold_field, s)) for s in folded]
        holds_all = is_candidate.copy()  # the run stands only where every syllable does
        for p in postings:
            holds = np.zeros(arrays.doc_count, dtype=bool)
            holds[p.docs] = True
            holds_all &= holds
        keys, terms = [], []
        for p in postings:
            owner, pos = p.positions(np.flatnonzero(holds_all[p.docs]))
            at = (p.docs[owner] << 32) | pos
            order = np.argsort(at, kind="stable")
            keys.append(at[order])
            terms.append(p.term_ids[owner][order])
        starts = keys[0]
        for k in range(1, len(folded)):
            starts = _common_keys(starts, keys[k] - k)
        if not len(starts):
            continue
        # Each occurrence's exact terms, as one integer: each syllable's variant, numbered densely.
        code = np.zeros(len(starts), dtype=np.int64)
        variants = []
        for k in range(len(folded)):
            values, index = np.unique(terms[k][np.searchsorted(keys[k], starts + k)], return_inverse=True)
            code = code * len(values) + index
            variants.append(values)
        head = len(field) + len(SEP)
        codes, times = np.unique(code, return_counts=True)
        for c, n in zip(codes.tolist(), times.tolist()):
            form = []
            for values in reversed(variants):
                c, i = divmod(c, len(values))
                form.append(arrays.keys.get(int(values[i]))[head:].decode("utf-8"))
            text = tuple(reversed(form))
            counts[text] = counts.get(text, 0) + n
    total = sum(counts.values())
    if not total:
        return []
    found = [Reading(form, n / total) for form, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    return [r for r in found if r.share >= least]


def read_runs(segments, proximity: list[AdjacentPairs], runs: list[AdjacentPairs], docs: np.ndarray,
              scores: np.ndarray, ranking: Ranking) -> tuple[list[AdjacentPairs], str | None]:
    """``proximity`` with each unaccented run's folded shingles (``runs``) also scored as the
    collection writes it (its readings, found on the best ``reading_sample`` of ``docs``), and
    the reading to announce when the query is one run that one reading leads."""
    sample = best(docs, scores, ranking.reading_sample)
    read: dict[tuple[str, ...], list[tuple[tuple[str, ...], float]]] = {}
    announced = []
    for run in runs:
        found = readings(segments, base_of(run.field) or run.field, run.syllables, sample)
        read[tuple(run.syllables)] = [(r.syllables, r.share * ranking.reading_weight) for r in found]
        if found and found[0].share >= ranking.reading_notice_share and found[0].text != " ".join(run.syllables):
            announced.append(found[0].text)  # "tp hcm" read as "tp hcm" is not news
    out = [replace(item, readings=read[tuple(item.syllables)])
           if base_of(item.field) and read.get(tuple(item.syllables)) else item for item in proximity]
    return out, announced[0] if len(runs) == 1 and announced else None
