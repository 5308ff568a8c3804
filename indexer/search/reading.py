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

from dataclasses import dataclass

import numpy as np

from ..store.arrays_read import SEP
from .rescore import _candidates_by_segment, _common_keys

__all__ = ["Reading", "readings"]


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
        written = np.stack([terms[k][np.searchsorted(keys[k], starts + k)] for k in range(len(folded))], axis=1)
        forms, times = np.unique(written, axis=0, return_counts=True)
        head = len(field) + len(SEP)
        for form, n in zip(forms.tolist(), times.tolist()):
            text = tuple(arrays.keys.get(t)[head:].decode("utf-8") for t in form)
            counts[text] = counts.get(text, 0) + n
    total = sum(counts.values())
    if not total:
        return []
    found = [Reading(form, n / total) for form, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    return [r for r in found if r.share >= least]
