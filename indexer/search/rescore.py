"""Adjacency and phrase bonuses, computed on the candidates only.

A headline or a question has a dozen syllables or more; the documents that
keep its syllables *next to each other* are the ones it describes (this is
the "ordered window" of the sequential dependence model).  One Whoosh phrase
query per adjacent pair would score it, but a Whoosh phrase matcher asked to
skip to a candidate reads the positions of every document on the way, so a
20-syllable query cost four times its own search.  Here each query syllable's
posting list is skipped to the candidates alone, their positions are read
once, and every adjacent pair (and the whole query, as a phrase) is counted
from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np
from whoosh.scoring import bm25

__all__ = ["AdjacentPairs", "on_candidates"]


def on_candidates(matcher, candidates: list[int]) -> Iterator[int]:
    """The sorted ``candidates`` ``matcher`` matches, left on each in turn: skips, never scans."""
    for docnum in candidates:
        if not matcher.is_active():
            return
        if matcher.id() < docnum:
            matcher.skip_to(docnum)
            if not matcher.is_active():
                return
        if matcher.id() == docnum:
            yield docnum


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

    def scores(self, searcher, lexicon, candidates: list[int], K1: float, B: float) -> dict[int, float]:
        """From Whoosh's postings (``lexicon``: the searcher's ``folded.Lexicon``)."""
        pairs = list(dict.fromkeys(zip(self.syllables, self.syllables[1:]))) if self.boost else []
        whole = self.syllables if self.phrase_boost and len(self.syllables) > 1 else []
        if not (pairs or whole) or not candidates or self.field not in lexicon.schema:
            return {}
        positions: dict[str, dict[int, set[int]]] = {}
        for s in dict.fromkeys(self.syllables):
            if not lexicon.doc_frequency(self.field, s):
                positions[s] = {}
                continue
            matcher = lexicon.term(self.field, s).matcher(searcher)
            positions[s] = {docnum: set(matcher.value_as("positions"))
                            for docnum in on_candidates(matcher, candidates)}
        idf = {s: lexicon.idf(self.field, s) for s in positions}
        avg = lexicon.field_length(self.field) / max(1, lexicon.doc_count())
        whole_idf = sum(idf[s] for s in whole) / len(whole) if whole else 0.0
        out: dict[int, float] = {}
        for docnum in candidates:
            total = 0.0
            length = None
            for a, b in pairs:
                pa, pb = positions[a].get(docnum), positions[b].get(docnum)
                if not pa or not pb:
                    continue
                tf = sum(1 for p in pa if p + 1 in pb)
                if tf:
                    length = length or lexicon.doc_field_length(docnum, self.field, 1) or 1
                    total += self.boost * bm25((idf[a] + idf[b]) / 2, tf, length, avg or 1, B, K1)
            if whole:
                found = [positions[s].get(docnum) for s in whole]
                if all(found):
                    tf = sum(1 for p in found[0] if all(p + k in found[k] for k in range(1, len(found))))
                    if tf:
                        length = length or lexicon.doc_field_length(docnum, self.field, 1) or 1
                        total += self.phrase_boost * bm25(whole_idf, tf, length, avg or 1, B, K1)
            if total:
                out[docnum] = total
        return out

    def scores_from_arrays(self, lexicon, segments, candidates: list[int], K1: float, B: float) -> dict[int, float]:
        """The same bonuses as :meth:`scores`, read from the posting arrays (``postings.py``)."""
        pairs = list(dict.fromkeys(zip(self.syllables, self.syllables[1:]))) if self.boost else []
        whole = self.syllables if self.phrase_boost and len(self.syllables) > 1 else []
        if not (pairs or whole) or not candidates or self.field not in lexicon.schema:
            return {}
        syllables = list(dict.fromkeys(self.syllables))
        idf = {s: lexicon.idf(self.field, s) for s in syllables}
        avg = lexicon.field_length(self.field) / max(1, lexicon.doc_count()) or 1
        whole_idf = sum(idf[s] for s in whole) / len(whole) if whole else 0.0
        base = self.field[:-5] if self.field.endswith("_fold") else self.field
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

            def add(found: np.ndarray, weight: float, term_idf: float) -> None:
                if not len(found):
                    return
                docs, tf = np.unique(found >> 32, return_counts=True)
                at = np.searchsorted(local, docs)
                fl = lengths[at]
                total[at] += weight * term_idf * (tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * fl / avg))

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

    def _score(self, idf: float, tf: np.ndarray, length: np.ndarray, K1: float, B: float) -> np.ndarray:
        fl = np.minimum(length, self.lead)
        return self.boost * idf * (tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * fl / self.lead))

    def scores_from_arrays(self, lexicon, segments, candidates: list[int], K1: float, B: float) -> dict[int, float]:
        if not self.boost or not candidates or self.field not in lexicon.schema:
            return {}
        base = self.field[:-5] if self.field.endswith("_fold") else self.field
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
                total[at] += self._score(lexicon.idf(self.field, s), tf, lengths[at], K1, B)
            for d, v in zip((local + seg.offset).tolist(), total.tolist()):
                if v:
                    out[d] = v
        return out

    def scores(self, searcher, lexicon, candidates: list[int], K1: float, B: float) -> dict[int, float]:
        """The same, from Whoosh's postings (a segment without arrays)."""
        if not self.boost or not candidates or self.field not in lexicon.schema:
            return {}
        out: dict[int, float] = {}
        for s in dict.fromkeys(self.syllables):
            if not lexicon.doc_frequency(self.field, s):
                continue
            idf = lexicon.idf(self.field, s)
            matcher = lexicon.term(self.field, s).matcher(searcher)
            for docnum in on_candidates(matcher, candidates):
                tf = sum(1 for p in matcher.value_as("positions") if p < self.lead)
                if tf:
                    length = lexicon.doc_field_length(docnum, self.field, 1) or 1
                    bonus = self._score(idf, np.float64(tf), np.float64(length), K1, B)
                    out[docnum] = out.get(docnum, 0.0) + float(bonus)
        return out
