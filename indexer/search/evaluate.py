"""Evaluating a plan's query tree over the posting arrays, a whole posting list at a time.

The trees ``plan.py`` produces (terms, unions, intersections, exclusions,
phrases, date ranges; Whoosh's query classes as the vocabulary) are evaluated
with NumPy over each segment's arrays (``store/arrays_read.py``) and scored by
``bm25.py`` with the lexicon's statistics.  This is the engine's one evaluation
path; ``tests/oracle.py`` evaluates the same trees with Whoosh's own matchers,
and the differential tests require the same documents and scores.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from whoosh import query as wq

from ..config import Ranking
from ..store.arrays_read import NO_DATE, NO_YEAR, SegmentArrays
from ..store.schema import KEYWORD_FIELDS, base_of
from .bm25 import bm25

__all__ = ["Matches", "Segment", "Unsupported", "evaluate"]


class Unsupported(ValueError):
    """A query node the planner never produces (a bug, not a user error)."""


@dataclass
class Segment:
    """One Whoosh segment as the searcher sees it: arrays, docnum offset, live documents."""

    arrays: SegmentArrays
    offset: int
    live: np.ndarray | None  # bool per segment docnum, None when nothing is deleted


@dataclass
class Matches:
    """Matching documents of one segment (ascending local docnums) and their scores."""

    docs: np.ndarray
    scores: np.ndarray


_EMPTY = Matches(np.zeros(0, dtype=np.int64), np.zeros(0))


class _Evaluator:
    def __init__(self, lexicon, ranking: Ranking, seg: Segment, deadline: float):
        self.lexicon = lexicon            # lexicon.Lexicon: global IDF and average lengths
        self.ranking = ranking
        self.seg = seg
        self.arrays = seg.arrays
        self.deadline = deadline          # a time.perf_counter() value
        self.timed_out = False

    # --- dispatch ---------------------------------------------------------------
    def run(self, q) -> Matches:
        if time.perf_counter() > self.deadline:  # what is not evaluated yet matches nothing
            self.timed_out = True
            return _EMPTY
        if getattr(q, "boost", 1.0) != 1.0 and not isinstance(q, (wq.Term, wq.Phrase, wq.NumericRange, wq.Every)):
            raise Unsupported(q)
        if isinstance(q, wq.Term):
            return self.term(q)
        if isinstance(q, wq.Phrase):
            return self.phrase(q)
        if isinstance(q, wq.Or):
            if getattr(q, "minmatch", 0) or getattr(q, "scale", None):
                raise Unsupported(q)
            return self.union([self.run(c) for c in q.subqueries])
        if isinstance(q, wq.And):
            return self.intersection(q.subqueries)
        if isinstance(q, wq.AndNot):
            a = self.run(q.a)
            b = self.run(q.b)
            keep = ~_member(a.docs, b.docs)
            return Matches(a.docs[keep], a.scores[keep])
        if isinstance(q, wq.AndMaybe):
            a, b = self.run(q.a), self.run(q.b)
            return Matches(a.docs, a.scores + _scores_at(b, a.docs))
        if isinstance(q, wq.Every) and q.fieldname in (None, "", "*"):
            docs = np.arange(self.arrays.doc_count, dtype=np.int64)
            return Matches(docs, np.full(len(docs), float(q.boost)))
        if isinstance(q, wq.NumericRange) and q.constantscore:
            docs = np.flatnonzero(self._range_mask(q))
            return Matches(docs.astype(np.int64), np.full(len(docs), float(q.boost)))
        raise Unsupported(q)

    # --- leaves -------------------------------------------------------------------
    def term(self, q: wq.Term) -> Matches:
        field, text = q.fieldname, q.text
        ids = self.arrays.term_ids(field, text if isinstance(text, str) else text.decode("utf-8"))
        if ids == [] and not self._known_field(field):
            raise Unsupported(q)
        docs, tfs = self.arrays.postings(ids).per_doc()
        return Matches(docs, self._bm25(field, text, docs, tfs) * q.boost)

    def phrase(self, q: wq.Phrase) -> Matches:
        if q.slop != 1 or not q.words:
            raise Unsupported(q)
        field = q.fieldname
        if field not in self.lexicon.schema:
            return _EMPTY
        texts = [w if isinstance(w, str) else w.decode("utf-8") for w in q.words]
        # Whoosh: a phrase with a word the index lacks matches nothing.
        if any(self.lexicon.doc_frequency(field, t) == 0 for t in texts):
            return _EMPTY
        plists = [self.arrays.postings(self.arrays.term_ids(field, t)) for t in texts]
        per_doc = [p.per_doc() for p in plists]
        common = per_doc[0][0]
        for docs, _ in per_doc[1:]:
            common = common[_member(common, docs)]
        if len(common) == 0:
            return _EMPTY
        # Positions of every word in the common documents; the phrase is there where
        # word i stands at p + i for some p.
        wanted = np.zeros(self.arrays.doc_count, dtype=bool)
        wanted[common] = True
        starts = None
        # Rarest word first: each step leaves fewer documents whose positions are read.
        for i in sorted(range(len(plists)), key=lambda i: len(plists[i].docs)):
            p = plists[i]
            which = np.flatnonzero(wanted[p.docs])
            owner, pos = p.positions(which)
            keys = (p.docs[owner] << 32) | (pos - i + 2**31)  # shift keeps pos - i non-negative
            if p.union:  # one term's postings come in (doc, position) order already
                keys = np.sort(keys)
            starts = keys if starts is None else starts[_member(starts, keys)]
            if len(starts) == 0:
                return _EMPTY
            wanted[:] = False
            wanted[starts >> 32] = True
        assert starts is not None  # a phrase has words
        found = np.unique(starts >> 32)
        score = np.zeros(len(found))
        for t, (docs, tfs) in zip(texts, per_doc):
            at = np.searchsorted(docs, found)
            score += self._bm25(field, t, found, tfs[at])
        return Matches(found, score * q.boost)

    # --- combinations ---------------------------------------------------------------
    def union(self, parts: list[Matches]) -> Matches:
        parts = [p for p in parts if len(p.docs)]
        if not parts:
            return _EMPTY
        if len(parts) == 1:
            return parts[0]
        docs = np.concatenate([p.docs for p in parts])
        scores = np.concatenate([p.scores for p in parts])
        n = self.arrays.doc_count
        if len(docs) * 16 > n:  # dense: O(documents) beats sorting this many
            total = np.bincount(docs, weights=scores, minlength=n)
            hit = np.bincount(docs, minlength=n) > 0
            unique = np.flatnonzero(hit)
            return Matches(unique, total[unique])
        unique, inverse = np.unique(docs, return_inverse=True)
        return Matches(unique, np.bincount(inverse, weights=scores, minlength=len(unique)))

    def intersection(self, subqueries) -> Matches:
        # Date ranges are cheap masks: apply them to what the other clauses found.
        ranges = [q for q in subqueries if isinstance(q, wq.NumericRange) and q.constantscore]
        others = [q for q in subqueries if not any(q is r for r in ranges)]
        if not others:
            return self.run(wq.Every()) if not ranges else self._ranges_only(ranges)
        result = None
        for q in sorted(others, key=lambda q: isinstance(q, wq.Phrase)):  # phrases last
            m = self.run(q)
            if result is None:
                result = m
            else:
                ia, ib = _common(result.docs, m.docs)
                result = Matches(result.docs[ia], result.scores[ia] + m.scores[ib])
            if len(result.docs) == 0:
                return _EMPTY
        assert result is not None  # ``others`` is not empty
        for r in ranges:
            keep = self._range_mask(r)[result.docs]
            result = Matches(result.docs[keep], result.scores[keep] + float(r.boost))
        return result

    def _ranges_only(self, ranges) -> Matches:
        mask = np.ones(self.arrays.doc_count, dtype=bool)
        for r in ranges:
            mask &= self._range_mask(r)
        docs = np.flatnonzero(mask).astype(np.int64)
        return Matches(docs, np.full(len(docs), float(sum(r.boost for r in ranges))))

    # --- helpers ----------------------------------------------------------------------
    def _range_mask(self, q: wq.NumericRange) -> np.ndarray:
        if q.fieldname == "date":
            values, missing = self.arrays.date, NO_DATE
        elif q.fieldname == "year":
            values, missing = self.arrays.year, NO_YEAR
        else:
            raise Unsupported(q)
        mask = values != missing
        if q.start is not None:
            mask &= (values > q.start) if q.startexcl else (values >= q.start)
        if q.end is not None:
            mask &= (values < q.end) if q.endexcl else (values <= q.end)
        return mask

    def _known_field(self, field: str) -> bool:
        return (base_of(field) or field) in self.arrays.lengths or field in KEYWORD_FIELDS

    def _bm25(self, field: str, text, docs: np.ndarray, tfs: np.ndarray) -> np.ndarray:
        lexicon = self.lexicon
        if not lexicon.schema[field].scorable:
            return tfs.astype(np.float64)  # as Whoosh's WeightScorer: the posting weight
        lengths = self.arrays.lengths.get(base_of(field) or field)
        if lengths is None:
            raise Unsupported(field)
        avgfl = lexicon.avg_field_length(field) or 1
        return bm25(lexicon.idf(field, text), tfs, lengths[docs].astype(np.float64), avgfl,
                    self.ranking.b_for(field), self.ranking.k1)


def _scores_at(m: Matches, docs: np.ndarray) -> np.ndarray:
    """m's score for each of ``docs`` (0 where m does not match)."""
    out = np.zeros(len(docs))
    ia, ib = _common(docs, m.docs)
    out[ia] = m.scores[ib]
    return out


def _member(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """For each of the ascending unique ``a``, whether the ascending unique ``b`` holds it."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros(len(a), dtype=bool)
    at = np.minimum(np.searchsorted(b, a), len(b) - 1)
    return b[at] == a


def _common(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices into ``a`` and ``b`` (both ascending, unique) of their common values."""
    if len(a) == 0 or len(b) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    if len(a) <= len(b):
        at = np.minimum(np.searchsorted(b, a), len(b) - 1)
        ia = np.flatnonzero(b[at] == a)
        return ia, at[ia]
    ib, ia = _common(b, a)
    return ia, ib


def evaluate(q, lexicon, ranking: Ranking, segments: list[Segment],
             deadline: float = math.inf) -> tuple[np.ndarray, np.ndarray, bool]:
    """(global docnums, scores) of every live document matching ``q``, and whether
    ``deadline`` (``time.perf_counter()``) passed: what was left unevaluated then matched
    nothing, as Elasticsearch's ``timeout`` returns what was found in time."""
    all_docs, all_scores = [], []
    timed_out = False
    for seg in segments:
        evaluator = _Evaluator(lexicon, ranking, seg, deadline)
        m = evaluator.run(q)
        timed_out |= evaluator.timed_out
        docs, scores = m.docs, m.scores
        if seg.live is not None and len(docs):
            keep = seg.live[docs]
            docs, scores = docs[keep], scores[keep]
        all_docs.append(docs + seg.offset)
        all_scores.append(scores)
    if not all_docs:
        return np.zeros(0, dtype=np.int64), np.zeros(0), timed_out
    return np.concatenate(all_docs), np.concatenate(all_scores), timed_out
