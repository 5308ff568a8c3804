"""Adjacency, phrase and lead bonuses, computed on the candidates only.

A headline or a question has a dozen syllables or more; the documents that
keep its syllables *next to each other* are the ones it describes (this is
the "ordered window" of the sequential dependence model).  Each query
syllable's positions are read from the posting arrays for the candidates
alone, once, and every adjacent pair (and the whole query, as a phrase) is
counted from them, each scored like a BM25 term (``bm25.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import Ranking
from ..store.schema import base_of
from .bm25 import bm25

__all__ = ["AdjacentPairs", "LeadTerms"]


@dataclass
class AdjacentPairs:
    """Bonus for each adjacent pair of ``syllables`` found in ``field``, in the text's order.

    A pair scores like a BM25 term whose frequency is the number of times it
    occurs, with the mean IDF of its two syllables (a pair is at least as
    specific as its parts; its own document frequency would need a scan).
    With ``phrase_boost`` the whole sequence scores the same way, as a phrase.
    """

    field: str
    syllables: list[str]
    boost: float = 1.0
    phrase_boost: float = 0.0

    def scores(self, lexicon, segments, candidates: list[int], ranking: Ranking) -> dict[int, float]:
        """Bonus per candidate (global docnums) that has any."""
        pairs = list(dict.fromkeys(zip(self.syllables, self.syllables[1:]))) if self.boost else []
        whole = self.syllables if self.phrase_boost and len(self.syllables) > 1 else []
        if not (pairs or whole) or not candidates or self.field not in lexicon.schema:
            return {}
        syllables = list(dict.fromkeys(self.syllables))
        idf = {s: lexicon.idf(self.field, s) for s in syllables}
        avg = lexicon.field_length(self.field) / max(1, lexicon.doc_count()) or 1
        whole_idf = sum(idf[s] for s in whole) / len(whole) if whole else 0.0
        base = base_of(self.field) or self.field
        out: dict[int, float] = {}
        for seg, local, is_candidate in _candidates_by_segment(segments, candidates):
            arrays = seg.arrays
            keys = {}  # syllable -> sorted unique (doc << 32 | position)
            for s in syllables:
                p = arrays.postings(arrays.term_ids(self.field, s))
                owner, pos = p.positions(np.flatnonzero(is_candidate[p.docs]))
                found = (p.docs[owner] << 32) | pos
                keys[s] = np.sort(found) if p.union else found  # one term's come in order
            total = np.zeros(len(local))
            lengths = arrays.lengths[base][local].astype(np.float64)
            lengths[lengths == 0] = 1

            def add(found: np.ndarray, weight: float, term_idf: float, local=local, lengths=lengths,
                    total=total) -> None:
                if not len(found):
                    return
                docs, tf = np.unique(found >> 32, return_counts=True)
                at = np.searchsorted(local, docs)
                total[at] += weight * bm25(term_idf, tf, lengths[at], avg, ranking.b, ranking.k1)

            for a, b in pairs:
                add(_common_keys(keys[a], keys[b] - 1), self.boost, (idf[a] + idf[b]) / 2)
            if whole:
                found = keys[whole[0]]
                for k, s in enumerate(whole[1:], 1):
                    found = _common_keys(found, keys[s] - k)
                add(found, self.phrase_boost, whole_idf)
            for d, v in zip((local + seg.offset).tolist(), total.tolist()):
                if v:
                    out[d] = v
        return out


def _candidates_by_segment(segments, candidates: list[int]):
    """(segment, its candidates' local docnums ascending, a mask of them) for each segment holding some."""
    wanted = np.asarray(candidates, dtype=np.int64)
    for seg in segments:
        count = seg.arrays.doc_count
        local = wanted[(wanted >= seg.offset) & (wanted < seg.offset + count)] - seg.offset
        if len(local):
            mask = np.zeros(count, dtype=bool)
            mask[local] = True
            yield seg, local, mask


def _common_keys(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The values both ascending, duplicate-free arrays hold (binary search of the smaller)."""
    if len(a) > len(b):
        a, b = b, a
    if not len(a) or not len(b):
        return a[:0]
    at = np.minimum(np.searchsorted(b, a), len(b) - 1)
    return a[b[at] == a]


@dataclass
class LeadTerms:
    """Bonus for query syllables found in the opening ``lead`` syllables of ``field``.

    A news article states its subject in its first sentences (the lead, or
    sapo); a headline is a paraphrase of them, so a word of the query there
    says more than the same word deep in the body.  Scored like a BM25 field
    made of the lead alone, from positions read on the candidates only.
    """

    field: str
    syllables: list[str]
    lead: int = 60
    boost: float = 1.0

    def scores(self, lexicon, segments, candidates: list[int], ranking: Ranking) -> dict[int, float]:
        """Bonus per candidate (global docnums) that has any: BM25 over a field made of the
        lead alone (its length at most ``lead``, its average ``lead``)."""
        if not self.boost or not candidates or self.field not in lexicon.schema:
            return {}
        base = base_of(self.field) or self.field
        out: dict[int, float] = {}
        for seg, local, is_candidate in _candidates_by_segment(segments, candidates):
            arrays = seg.arrays
            lengths = arrays.lengths[base][local].astype(np.float64)
            total = np.zeros(len(local))
            for s in dict.fromkeys(self.syllables):
                p = arrays.postings(arrays.term_ids(self.field, s))
                owner, pos = p.positions(np.flatnonzero(is_candidate[p.docs]))
                docs = p.docs[owner][pos < self.lead]
                if not len(docs):
                    continue
                docs, tf = np.unique(docs, return_counts=True)
                at = np.searchsorted(local, docs)
                total[at] += self.boost * bm25(lexicon.idf(self.field, s), tf, np.minimum(lengths[at], self.lead),
                                               self.lead, ranking.b, ranking.k1)
            for d, v in zip((local + seg.offset).tolist(), total.tolist()):
                if v:
                    out[d] = v
        return out
