"""Adjacency, phrase and lead bonuses, computed on the candidates only.

A headline or a question has a dozen syllables or more; the documents that
keep its syllables *next to each other* are the ones it describes (this is
the "ordered window" of the sequential dependence model).  Each query
syllable's positions are read from the posting arrays for the candidates
alone, once, and every adjacent pair (and the whole query, as a phrase) is
counted from them, each scored like a BM25 term (``bm25.py``).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np

from ..config import Ranking
from ..store.schema import base_of
from .bm25 import bm25, idf

__all__ = ["AdjacentPairs", "LeadTerms", "add_shingles", "best"]


@dataclass
class AdjacentPairs:
    """Bonus for each adjacent pair of ``syllables`` found in ``field``, in the text's order.

    A pair scores like a BM25 term whose frequency is the number of times it
    occurs.  With ``phrase_boost`` the whole sequence scores the same way, as a
    phrase.  Its IDF: with ``own_idf``, the pair's (or phrase's) own, counted
    over the candidates, which must then be every document that can hold it (all
    the matches of a query requiring or ranking by its syllables: Lucene's
    shingle field, without indexing the shingles); else the mean IDF of its
    syllables (a pair is at least as specific as its parts), for a top window.
    """

    field: str
    syllables: list[str]
    boost: float = 1.0
    phrase_boost: float = 0.0
    own_idf: bool = False
    # Other written forms of the whole run (an acronym: "mttq" for "mặt trận tổ quốc"):
    # where one stands, every pair of the run and the run itself count as found; the run as
    # typed scores that much once more, so that the form typed ranks first.
    forms: list[list[str]] = dataclasses.field(default_factory=list)
    # How the collection writes a folded run (reading.py): (exact syllables, weight). Each
    # shingle found written so (or as one of the forms) scores again, times the weight.
    readings: list[tuple[tuple[str, ...], float]] = dataclasses.field(default_factory=list)

    def scores(self, lexicon, segments, candidates, ranking: Ranking) -> dict[int, float]:
        """Bonus per candidate (global docnums) that has any."""
        docs, values = self.score_arrays(lexicon, segments, candidates, ranking)
        return dict(zip(docs.tolist(), values.tolist()))

    def shingles(self) -> list[tuple[tuple[str, ...], float, bool]]:
        """(syllables, boost, whether the forms count) of each adjacent pair and of the whole run."""
        pairs = list(dict.fromkeys(zip(self.syllables, self.syllables[1:]))) if self.boost else []
        forms = bool(self.forms)
        out: list[tuple[tuple[str, ...], float, bool]] = [(pair, self.boost, forms) for pair in pairs]
        whole = tuple(self.syllables)
        if self.phrase_boost and len(whole) > 1:
            if whole in pairs:  # two syllables: the pair is the phrase
                out = [(pair, boost + self.phrase_boost, forms) for pair, boost, forms in out]
            else:
                out.append((whole, self.phrase_boost, forms))
            if forms:  # the form typed: as much again as all its pairs and itself
                out.append((whole, self.phrase_boost + self.boost * len(pairs), False))
        return out

    def score_arrays(self, lexicon, segments, candidates, ranking: Ranking) -> tuple[np.ndarray, np.ndarray]:
        """(global docnums ascending, bonus) of the candidates that have any."""
        shingles = self.shingles()
        if not shingles or not len(candidates) or self.field not in lexicon.schema:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        syllables = list(dict.fromkeys(self.syllables + [s for form in self.forms for s in form]))
        base = base_of(self.field) or self.field
        found = []  # per segment: (segment, its candidates, [(docs, tf) of each shingle])
        neighbours: dict[str, set[str]] = {s: set() for s in syllables}  # what a syllable must stand beside to count
        for run in [self.syllables, *self.forms]:
            for a, b in zip(run, run[1:]):
                neighbours[a].add(b)
                neighbours[b].add(a)
        entries: list[tuple[tuple[str, ...], float, bool, tuple[str, ...] | None]] = [
            (words, weight, with_forms, None) for words, weight, with_forms in shingles]
        for written_as, factor in self.readings:  # each shingle again, counted where written so
            entries += [(words, weight * factor, with_forms, _aligned(self.syllables, words, written_as))
                        for words, weight, with_forms in shingles]
        for seg, local, is_candidate in _candidates_by_segment(segments, candidates):
            arrays = seg.arrays
            postings = {s: arrays.postings(arrays.term_ids(self.field, s)) for s in syllables}
            holds = {}
            for s, p in postings.items():
                holds[s] = np.zeros(arrays.doc_count, dtype=bool)
                holds[s][p.docs] = True
            keys, terms = {}, {}  # syllable -> sorted unique (doc << 32 | position), the exact term there
            for s, p in postings.items():
                # Positions only where a neighbour is too: a common syllable's are most of the cost.
                wanted = is_candidate
                if neighbours[s]:
                    wanted = is_candidate & np.logical_or.reduce([holds[n] for n in neighbours[s]])
                owner, pos = p.positions(np.flatnonzero(wanted[p.docs]))
                at = (p.docs[owner] << 32) | pos
                if not self.readings:  # the exact terms matter only to a reading
                    keys[s] = np.sort(at) if p.union else at  # one term's come in order
                    continue
                order = np.argsort(at, kind="stable") if p.union else slice(None)
                keys[s], terms[s] = at[order], p.term_ids[owner][order]
            as_forms = [_run_keys(keys, form) for form in self.forms]
            if as_forms:
                as_forms = [np.sort(np.concatenate(as_forms))]
            counts = []
            for words, _, with_forms, exact in entries:
                starts = _run_keys(keys, words)
                if exact is not None:
                    written = np.ones(len(starts), dtype=bool)
                    for k, (s, e) in enumerate(zip(words, exact)):
                        ids = arrays.term_ids(base, e) or [-1]
                        written &= terms[s][np.searchsorted(keys[s], starts + k)] == ids[0]
                    starts = starts[written]
                counts.append(_per_doc(starts, *(as_forms if with_forms else [])))
            found.append((seg, local, counts))
        if self.own_idf:
            dfs = [sum(len(counts[i][0]) for _, _, counts in found) for i in range(len(entries))]
            idfs = [idf(lexicon.doc_count_all(), df) for df in dfs]
        else:
            syllable_idf = {s: lexicon.idf(self.field, s) for s in syllables}
            idfs = [sum(syllable_idf[s] for s in words) / len(words) for words, _, _, _ in entries]
        avg = lexicon.field_length(self.field) / max(1, lexicon.doc_count()) or 1
        k1, length_b = (ranking.shingle_k1, ranking.shingle_b) if self.own_idf else (ranking.k1, ranking.b)
        all_docs, all_values = [], []
        for seg, local, counts in found:
            lengths = seg.arrays.lengths[base][local].astype(np.float64)
            lengths[lengths == 0] = 1
            total = np.zeros(len(local))
            for (docs, tf), (_, weight, _, _), term_idf in zip(counts, entries, idfs):
                if len(docs):
                    at = np.searchsorted(local, docs)
                    total[at] += weight * bm25(term_idf, tf, lengths[at], avg, length_b, k1)
            hit = np.flatnonzero(total)
            all_docs.append(local[hit] + seg.offset)
            all_values.append(total[hit])
        if not all_docs:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        return np.concatenate(all_docs), np.concatenate(all_values)


def add_shingles(lexicon, segments, proximity: list[AdjacentPairs], docs: np.ndarray, scores: np.ndarray,
                 ranking: Ranking, window: int, deadline: float, parts: list | None = None) -> np.ndarray:
    """``scores`` of ``docs`` (ascending global docnums: every match) plus a short run's
    shingles, on every match or the best ``window`` by score; past ``deadline`` the rest
    are left out.  ``parts`` collects each item's (item, docnums, values)."""
    candidates = best(docs, scores, window)
    scores = scores.copy()
    for shingles in proximity:
        if time.perf_counter() > deadline:
            break
        found, values = shingles.score_arrays(lexicon, segments, candidates, ranking)
        scores[np.searchsorted(docs, found)] += values
        if parts is not None:
            parts.append((shingles, found, values))
    return scores


def best(docs: np.ndarray, scores: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` best of ``docs`` by score, ascending, every tie at the threshold kept (so that
    which articles they are does not depend on how a build numbered them)."""
    if len(docs) <= k:
        return docs
    threshold = scores[np.argpartition(-scores, k - 1)[:k]].min()
    return docs[scores >= threshold]


def _candidates_by_segment(segments, candidates):
    """(segment, its candidates' local docnums ascending, a mask of them) for each segment holding
    some; ``candidates``: global docnums, ascending (a list or an array)."""
    wanted = np.asarray(candidates, dtype=np.int64)
    for seg in segments:
        count = seg.arrays.doc_count
        local = wanted[(wanted >= seg.offset) & (wanted < seg.offset + count)] - seg.offset
        if len(local):
            mask = np.zeros(count, dtype=bool)
            mask[local] = True
            yield seg, local, mask


def _per_doc(*sorted_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(documents ascending, occurrences) of ascending keys (doc << 32 | position), several
    ascending arrays counted together."""
    parts = [_runs(k >> 32) for k in sorted_keys if len(k)]
    if len(parts) != 1:
        if not parts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        docs = np.concatenate([d for d, _ in parts])
        unique, inverse = np.unique(docs, return_inverse=True)
        return unique, np.bincount(inverse, weights=np.concatenate([c for _, c in parts])).astype(np.int64)
    return parts[0]


def _runs(docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of ascending ``docs`` and how often each occurs (no sorting)."""
    starts = np.flatnonzero(np.concatenate(([True], docs[1:] != docs[:-1])))
    return docs[starts], np.diff(np.append(starts, len(docs)))


def _aligned(run: list[str], words: tuple[str, ...], exact: tuple[str, ...]) -> tuple[str, ...]:
    """The exact syllables of ``exact`` (a reading of ``run``) standing where ``words`` stand in it."""
    for j in range(len(run) - len(words) + 1):
        if tuple(run[j:j + len(words)]) == tuple(words):
            return tuple(exact[j:j + len(words)])
    return tuple(exact[:len(words)])


def _run_keys(keys: dict[str, np.ndarray], words) -> np.ndarray:
    """Where ``words`` stand together, in order: the keys (doc << 32 | position) of the first."""
    run = keys[words[0]]
    for k, s in enumerate(words[1:], 1):
        run = _common_keys(run, keys[s] - k)
    return run


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
