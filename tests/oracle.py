"""The reference the engine's one evaluation path is tested against: Whoosh's own matchers.

The engine evaluates a plan over its posting arrays with NumPy (``indexer/search``).
Here the same plan is evaluated the way Whoosh would, posting by posting: folded
syllables as the union of their exact variants (:class:`FoldTerm`, :class:`FoldPhrase`,
scored as one BM25F term, as if the ``*_fold`` fields had postings of their own),
bonuses from Whoosh's positions, dates and facets from Whoosh's sorting.  The
differential tests (``test_vectorized.py``) require the same documents, scores,
orders and counts.  This was the engine's fallback path before there was one path;
it lives here so that a newcomer reads one engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from math import inf

from whoosh import query as wq
from whoosh import sorting
from whoosh.matching import Matcher, NullMatcher, WrappingMatcher
from whoosh.query.spans import Span, SpanNear2
from whoosh.scoring import BM25F, bm25

from indexer.config import DEFAULT, Ranking
from indexer.search.bm25 import idf
from indexer.search.rescore import AdjacentPairs, LeadTerms
from indexer.store.schema import base_of

__all__ = ["FoldPhrase", "FoldTerm", "evaluate", "facets", "newest", "open_searcher", "rescore", "weighting"]


def weighting(ranking: Ranking = DEFAULT.ranking) -> BM25F:
    """Whoosh's BM25F with the engine's parameters."""
    return BM25F(B=ranking.b, K1=ranking.k1, **{f"{f}_B": b for f, b in ranking.field_b.items()})


# --- folded fields in Whoosh ---------------------------------------------------------------
class FoldTerm(wq.Term):
    """A folded syllable in Whoosh: the union of its exact variants, scored as one term."""

    def __init__(self, fieldname: str, text: str, lexicon, boost: float = 1.0):
        super().__init__(fieldname, text, boost=boost)
        self.lexicon = lexicon

    def __deepcopy__(self, memo) -> FoldTerm:  # the lexicon is shared and read-only
        return FoldTerm(self.fieldname, self.text, self.lexicon, self.boost)

    def estimate_size(self, ixreader) -> int:
        return self.lexicon.doc_frequency(self.fieldname, self.text)

    def matcher(self, searcher, context=None):
        base = base_of(self.fieldname)
        reader = searcher.reader()
        children = [reader.postings(base, v) for v in self.lexicon.variants(self.fieldname, self.text)
                    if (base, v) in reader]
        children = [m for m in children if m.is_active()]
        if not children:
            return NullMatcher()
        weighting_ = context.weighting if context is not None else searcher.weighting
        score, bound = _scorer(weighting_, searcher, self.lexicon, self.fieldname, self.text)
        m = _UnionMatcher(children, score, bound)
        return WrappingMatcher(m, boost=self.boost) if self.boost != 1.0 else m


class FoldPhrase(wq.Phrase):
    """Folded syllables next to each other, in order (Whoosh's phrase over :class:`FoldTerm`)."""

    def __init__(self, fieldname: str, words: list[str], lexicon, boost: float = 1.0):
        super().__init__(fieldname, words, slop=1, boost=boost)
        self.lexicon = lexicon

    def __deepcopy__(self, memo) -> FoldPhrase:
        return FoldPhrase(self.fieldname, list(self.words), self.lexicon, self.boost)

    def _terms(self) -> list[FoldTerm]:
        return [FoldTerm(self.fieldname, w, self.lexicon) for w in self.words]

    def estimate_size(self, ixreader) -> int:
        return wq.And(self._terms()).estimate_size(ixreader)

    def matcher(self, searcher, context=None):
        # As Whoosh's Phrase: a word the index lacks matches nothing.
        if not self.words or any(self.lexicon.doc_frequency(self.fieldname, w) == 0 for w in self.words):
            return NullMatcher()
        m = SpanNear2(self._terms(), slop=self.slop, ordered=True, mindist=1).matcher(searcher, context)
        return WrappingMatcher(m, boost=self.boost) if self.boost != 1.0 else m


def _scorer(weighting_, searcher, lexicon, fieldname: str, text: str) -> tuple[Callable[[int, float], float], float]:
    """Whoosh's BM25F scorer for the folded term (its IDF, the exact field's lengths), and
    a bound no score reaches (Whoosh's collectors prune matchers by it once a page is full)."""
    if not isinstance(weighting_, BM25F):
        return (lambda docnum, weight: weight), inf  # Whoosh's WeightScorer
    base = base_of(fieldname)
    B = weighting_._field_B.get(fieldname, weighting_.B)
    K1 = weighting_.K1
    idf = lexicon.idf(fieldname, text)
    avgfl = lexicon.avg_field_length(fieldname) or 1

    def score(docnum: int, weight: float) -> float:
        return bm25(idf, weight, searcher.doc_field_length(docnum, base, 1), avgfl, B, K1)

    return score, idf * (K1 + 1)  # BM25's frequency part stays below K1 + 1


class _UnionMatcher(Matcher):
    """The documents of any child; weights (frequencies) summed, positions merged."""

    def __init__(self, children: list, score: Callable[[int, float], float], bound: float):
        self._all = children
        self._active = [c for c in children if c.is_active()]
        self._score = score
        self._bound = bound

    def is_active(self) -> bool:
        return bool(self._active)

    def id(self) -> int:
        return min(c.id() for c in self._active)

    def _current(self) -> list:
        docnum = self.id()
        return [c for c in self._active if c.id() == docnum]

    def next(self) -> None:
        for c in self._current():
            c.next()
        self._active = [c for c in self._active if c.is_active()]

    def skip_to(self, target: int) -> None:
        for c in self._active:
            if c.id() < target:
                c.skip_to(target)
        self._active = [c for c in self._active if c.is_active()]

    def reset(self) -> None:
        for c in self._all:
            c.reset()
        self._active = [c for c in self._all if c.is_active()]

    def copy(self) -> _UnionMatcher:
        return _UnionMatcher([c.copy() for c in self._active], self._score, self._bound)

    def replace(self, minquality=0):
        return self if self._active else NullMatcher()

    def supports_block_quality(self) -> bool:
        return False

    def max_quality(self) -> float:
        return self._bound

    def children(self) -> list:
        return list(self._active)

    def supports(self, astype: str) -> bool:
        return all(c.supports(astype) for c in self._active)

    def weight(self) -> float:
        return sum(c.weight() for c in self._current())

    def score(self) -> float:
        return self._score(self.id(), self.weight())

    def value_as(self, astype: str):
        if astype == "positions":
            return sorted(p for c in self._current() for p in c.value_as("positions"))
        if astype == "frequency":
            return sum(c.value_as("frequency") for c in self._current())
        raise ValueError(f"a folded term has no {astype!r} values")

    def spans(self) -> list:
        return [Span(p) for p in self.value_as("positions")]


def whoosh_query(q, lexicon):
    """The plan's tree with folded terms and phrases made Whoosh-searchable."""
    if isinstance(q, wq.Term) and base_of(q.fieldname):
        return FoldTerm(q.fieldname, q.text, lexicon, boost=q.boost)
    if isinstance(q, wq.Phrase) and base_of(q.fieldname):
        return FoldPhrase(q.fieldname, list(q.words), lexicon, boost=q.boost)
    if isinstance(q, wq.BinaryQuery):  # AndNot, AndMaybe (before CompoundQuery: they are that too)
        return type(q)(whoosh_query(q.a, lexicon), whoosh_query(q.b, lexicon))
    if isinstance(q, wq.CompoundQuery):
        return type(q)([whoosh_query(c, lexicon) for c in q.subqueries], boost=q.boost)
    return q


# --- evaluation ---------------------------------------------------------------------------
def open_searcher(index_dir, ranking: Ranking = DEFAULT.ranking):
    """A Whoosh searcher on the live generation, scoring as the engine does."""
    from whoosh import index as whoosh_index

    from indexer.store.generations import current_generation

    return whoosh_index.open_dir(str(current_generation(index_dir)), indexname="MAIN").searcher(
        weighting=weighting(ranking))


def evaluate(q, searcher, lexicon, ranking: Ranking = DEFAULT.ranking) -> list[tuple[int, float]]:
    """(docnum, score) of every live document matching ``q``, by Whoosh's matchers (the
    searcher scoring with ``weighting(ranking)``: see :func:`open_searcher`)."""
    hits = searcher.search(whoosh_query(q, lexicon), limit=None, terms=False)
    return sorted((h.docnum, h.score) for h in hits)


def newest(q, searcher, lexicon, limit: int) -> list:
    """Dates of the ``limit`` newest matches, by Whoosh's sorting; undated articles, which
    Whoosh sorts as the largest date, come last, as the engine puts them."""
    results = searcher.search(whoosh_query(q, lexicon), limit=None, terms=False,
                              sortedby=sorting.FieldFacet("date", reverse=True))
    dates = [searcher.stored_fields(h.docnum).get("date") for h in results]
    return ([d for d in dates if d is not None] + [d for d in dates if d is None])[:limit]


def facets(q, searcher, lexicon) -> dict[str, dict]:
    """Matches per year and per category, as Whoosh's Count facets report them."""
    results = searcher.search(whoosh_query(q, lexicon), limit=None, terms=False, groupedby={
        "year": sorting.FieldFacet("year", maptype=sorting.Count),
        "category": sorting.FieldFacet("category", maptype=sorting.Count)})
    no_year = 2**32 - 1  # Whoosh's "no date" in the year column: not a year to list
    return {name: {k: v for k, v in results.groups(name).items() if k != no_year} for name in ("year", "category")}


# --- bonuses ------------------------------------------------------------------------------
def _on_candidates(matcher, candidates: list[int]) -> Iterator[int]:
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


def _positions(searcher, lexicon, field: str, syllable: str, candidates: list[int]) -> dict[int, set[int]]:
    if not lexicon.doc_frequency(field, syllable):
        return {}
    matcher = whoosh_query(wq.Term(field, syllable), lexicon).matcher(searcher)
    return {d: set(matcher.value_as("positions")) for d in _on_candidates(matcher, candidates)}


def rescore(bonus, searcher, lexicon, candidates: list[int], ranking: Ranking = DEFAULT.ranking) -> dict[int, float]:
    """What a rescore item adds to each candidate, from Whoosh's postings."""
    if isinstance(bonus, AdjacentPairs):
        if bonus.own_idf:  # shingles: their own saturation and length normalisation
            return _pairs(bonus, searcher, lexicon, candidates, ranking.shingle_k1, ranking.shingle_b)
        return _pairs(bonus, searcher, lexicon, candidates, ranking.k1, ranking.b)
    if isinstance(bonus, LeadTerms):
        return _lead(bonus, searcher, lexicon, candidates, ranking.k1, ranking.b)
    found = dict(evaluate(bonus, searcher, lexicon, ranking))
    return {d: found[d] for d in candidates if d in found}


def _pairs(self: AdjacentPairs, searcher, lexicon, candidates, K1, B) -> dict[int, float]:
    shingles = self.shingles()
    if not shingles or not candidates or self.field not in lexicon.schema:
        return {}
    words = dict.fromkeys(self.syllables + [s for form in self.forms for s in form])
    positions = {s: _positions(searcher, lexicon, self.field, s, candidates) for s in words}

    def count(run, docnum) -> int:
        found = [positions[s].get(docnum) for s in run]
        if not all(found):
            return 0
        return sum(1 for p in found[0] if all(p + k in found[k] for k in range(1, len(found))))

    tfs = [{d: count(run, d) + (sum(count(form, d) for form in self.forms) if with_forms else 0)
            for d in candidates} for run, _, with_forms in shingles]
    if self.own_idf:
        idfs = [idf(lexicon.doc_count_all(), sum(1 for v in tf.values() if v)) for tf in tfs]
    else:
        idfs = [sum(lexicon.idf(self.field, s) for s in run) / len(run) for run, _, _ in shingles]
    avg = lexicon.field_length(self.field) / max(1, lexicon.doc_count())
    base = base_of(self.field) or self.field
    out: dict[int, float] = {}
    for docnum in candidates:
        total = 0.0
        length = searcher.doc_field_length(docnum, base, 1) or 1
        for tf, (_, weight, _), term_idf in zip(tfs, shingles, idfs):
            if tf[docnum]:
                total += weight * bm25(term_idf, tf[docnum], length, avg or 1, B, K1)
        if total:
            out[docnum] = total
    return out


def _lead(self: LeadTerms, searcher, lexicon, candidates, K1, B) -> dict[int, float]:
    if not self.boost or not candidates or self.field not in lexicon.schema:
        return {}
    base = base_of(self.field) or self.field
    out: dict[int, float] = {}
    for s in dict.fromkeys(self.syllables):
        idf = lexicon.idf(self.field, s)
        for docnum, positions in _positions(searcher, lexicon, self.field, s, candidates).items():
            tf = sum(1 for p in positions if p < self.lead)
            if tf:
                length = min(searcher.doc_field_length(docnum, base, 1) or 1, self.lead)
                out[docnum] = out.get(docnum, 0.0) + self.boost * bm25(idf, tf, length, self.lead, B, K1)
    return out
