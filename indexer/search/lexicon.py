"""The ``*_fold`` fields, derived from the exact ones: their statistics and Whoosh queries.

A folded syllable ("thanh") stands for every syllable of the exact field that
folds to it (thanh, thành, thánh, ...).  Writing those postings a second time
was a third of all postings and about a fifth of indexing time, so the
folded fields are declared in the schema (queries name them) but never
written.  :class:`Lexicon` answers what a folded term needs: its document
frequency (documents holding any variant, deleted ones included, as Whoosh
counts), the exact field's lengths (folding keeps every token), its variants
and a field's folded terms for prefix, fuzzy and did-you-mean lookups.
:class:`FoldTerm` and :class:`FoldPhrase` let Whoosh's matchers search a
folded term as the union of its variants, scored as one BM25F term, as when
the folded fields had postings of their own; the NumPy path
(``vectorized.py``) reads the same unions from the posting arrays, and
``tests/test_vectorized.py`` compares the two.

Statistics come from the posting arrays (per segment: fold tables with
document frequencies) when every segment has them, else from Whoosh's
lexicon and postings (slower: the fall-back path).
"""

from __future__ import annotations

import bisect
import heapq
from math import log
from typing import Callable, Iterator

from whoosh import query as wq
from whoosh.matching import Matcher, NullMatcher, WrappingMatcher
from whoosh.query.spans import Span, SpanNear2
from whoosh.scoring import BM25F, bm25
from rapidfuzz import process as fuzz_process
from rapidfuzz.distance import OSA

from ..text.normalize import fold
from ..store.arrays_read import SEP
from ..store.schema import POSITION_FIELDS, POSTING_FIELDS
from ..text.syllables import tone_last

__all__ = ["FoldPhrase", "FoldTerm", "Lexicon", "base_of"]

SUFFIX = "_fold"
CACHE_TERMS = 50_000  # frequencies and IDFs kept per open index
TONE_KEY_CACHE = 16   # close_terms: term lists (by field and first letter) kept with their keys (~0.3 MB each)


def base_of(fieldname: str) -> str | None:
    """The exact field a folded field is derived from, or None for any other field."""
    if fieldname.endswith(SUFFIX) and fieldname[: -len(SUFFIX)] in POSITION_FIELDS:
        return fieldname[: -len(SUFFIX)]
    return None


def _text(text) -> str:
    return text.decode("utf-8") if isinstance(text, bytes) else text


class Lexicon:
    """Term statistics of one open index, folded fields included.

    It answers the reader and searcher methods the query layer uses
    (``doc_frequency``, ``idf``, ``avg_field_length``, ``expand_prefix``,
    ``terms_within``, ...): Whoosh's own answers for real fields, derived
    ones for folded fields.  ``segments``: the searcher's posting arrays
    (``search.Index``), or None to derive everything from Whoosh.
    """

    def __init__(self, reader, segments=None):
        self.reader = reader
        self.segments = segments
        self.schema = reader.schema
        self._doc_count_all = reader.doc_count_all()
        self._idf: dict[tuple[str, str], float] = {}
        self._df: dict[tuple[str, str], int] = {}
        self._folds: dict[str, dict[str, list[str]]] = {}  # Whoosh path: base -> folded -> variants
        self._sorted: dict[str, list[str]] = {}
        self._tone_keys: dict[tuple[str, str], tuple[list[str], list[str]]] = {}  # close_terms

    def __deepcopy__(self, memo) -> "Lexicon":
        return self  # shared and read-only: Whoosh deep-copies the queries that hold it

    # --- counts -----------------------------------------------------------------
    def doc_count_all(self) -> int:
        return self._doc_count_all

    def doc_count(self) -> int:
        return self.reader.doc_count()

    def doc_frequency(self, fieldname: str, text) -> int:
        base = base_of(fieldname)
        if base is None:
            return self.reader.doc_frequency(fieldname, text)
        key = (base, _text(text))
        df = self._df.get(key)
        if df is None:
            if len(self._df) >= CACHE_TERMS:  # a long-lived server meets many terms
                self._df.clear()
            df = self._df[key] = self._fold_frequency(*key)
        return df

    def idf(self, fieldname: str, text) -> float:
        """Whoosh's IDF (``WeightingModel.idf``) over this lexicon's frequencies."""
        key = (fieldname, _text(text))
        idf = self._idf.get(key)
        if idf is None:
            if len(self._idf) >= CACHE_TERMS:
                self._idf.clear()
            # max(…, 1): an index with no articles still builds queries (and matches nothing)
            idf = self._idf[key] = log(max(self._doc_count_all, 1) / (self.doc_frequency(fieldname, text) + 1)) + 1
        return idf

    def field_length(self, fieldname: str) -> int:
        return self.reader.field_length(base_of(fieldname) or fieldname)

    def avg_field_length(self, fieldname: str, default=None):
        if not self.schema[fieldname].scorable:
            return default
        return self.field_length(fieldname) / (self._doc_count_all or 1)

    def doc_field_length(self, docnum: int, fieldname: str, default=0):
        return self.reader.doc_field_length(docnum, base_of(fieldname) or fieldname, default)

    # --- terms -------------------------------------------------------------------
    def variants(self, fieldname: str, text) -> list[str]:
        """The exact terms a folded term stands for (the term itself for other fields)."""
        base = base_of(fieldname)
        text = _text(text)
        if base is None:
            return [text]
        if self.segments is None:
            return self._fold_map(base).get(text, [])
        found: set[str] = set()
        head = len(base) + 1
        for seg in self.segments:
            a = seg.arrays
            i = a.folds.find(f"{base}{SEP}{text}".encode("utf-8"))
            if i >= 0:
                for t in a.fold_members[a.fold_offsets[i]:a.fold_offsets[i + 1]].tolist():
                    found.add(a.keys.get(t)[head:].decode("utf-8"))
        return sorted(found)

    def expand_prefix(self, fieldname: str, prefix: str) -> Iterator:
        """The field's terms that start with ``prefix``, in order (bytes for real fields, as Whoosh)."""
        base = base_of(fieldname)
        if base is None:
            yield from self.reader.expand_prefix(fieldname, prefix)
            return
        if self.segments is None:
            terms = self._sorted_folds(base)
            for term in terms[bisect.bisect_left(terms, prefix):]:
                if not term.startswith(prefix):
                    return
                yield term
            return
        last = None
        for term in heapq.merge(*[self._segment_prefix(seg.arrays, base, prefix)[1] for seg in self.segments]):
            if term != last:
                yield term
                last = term

    def prefix_frequencies(self, fieldname: str, prefix: str, scan: int) -> list[tuple[int, str]]:
        """(document frequency, term) of the first ``scan`` terms, in order, that start with ``prefix``.

        What ``expand_prefix`` and ``doc_frequency`` give term by term; a folded field
        reads the frequencies of a whole range of the arrays' fold table at once.
        """
        if base_of(fieldname) is None or self.segments is None:
            out = []
            for i, term in enumerate(self.expand_prefix(fieldname, prefix)):
                if i >= scan:
                    break
                term = _text(term)
                out.append((self.doc_frequency(fieldname, term), term))
            return out
        base = base_of(fieldname)
        found: dict[str, int] = {}
        for seg in self.segments:  # the first ``scan`` of every segment hold the first ``scan`` of all
            lo, terms = self._segment_prefix(seg.arrays, base, prefix, scan)
            dfs = seg.arrays.fold_df[lo:lo + scan].tolist()
            for df, term in zip(dfs, terms):
                found[term] = found.get(term, 0) + df
        return [(found[t], t) for t in sorted(found)[:scan]]

    def terms_within(self, fieldname: str, text: str, maxdist: int, prefix: int = 0) -> Iterator[str]:
        """Terms within ``maxdist`` edits of ``text`` sharing its first ``prefix`` letters (as Whoosh).

        Whoosh's distance is this restricted Damerau-Levenshtein (optimal string
        alignment) in pure Python, ~25 µs a term, over a term list merged from every
        segment one term at a time: a did-you-mean scanning the terms that start with
        "t" took 150-200 ms.  The terms come from the posting arrays' sorted tables
        and rapidfuzz computes the same distance in C++.
        """
        terms = self._terms_with_prefix(fieldname, text[:prefix])
        for term, _, _ in fuzz_process.extract_iter(text, terms, scorer=OSA.distance, score_cutoff=maxdist):
            yield term

    def close_terms(self, fieldname: str, text: str, maxdist: int, prefix: int = 1) -> list[str]:
        """``terms_within`` for a reader's typos: also counting the tone mark as one letter
        at the end of the syllable (``syllables.tone_last``), so a tone on the wrong vowel
        or a typo in a word the index spells "thuỷ" is not three edits away."""
        key = (fieldname, text[:prefix])
        cached = self._tone_keys.get(key)
        if cached is None:
            if len(self._tone_keys) >= TONE_KEY_CACHE:
                self._tone_keys.clear()
            terms = self._terms_with_prefix(fieldname, text[:prefix])
            cached = self._tone_keys[key] = (terms, [tone_last(t) for t in terms])
        terms, keys = cached
        # Either way of counting: a doubled marked vowel ("dọọa") is one edit from "dọa"
        # as written, two with its two tone marks moved to the end.
        near = {i for _, _, i in fuzz_process.extract_iter(tone_last(text), keys, scorer=OSA.distance,
                                                             score_cutoff=maxdist)}
        near.update(i for _, _, i in fuzz_process.extract_iter(text, terms, scorer=OSA.distance, score_cutoff=maxdist))
        return [terms[i] for i in sorted(near)]

    def _terms_with_prefix(self, fieldname: str, prefix: str) -> list[str]:
        """``expand_prefix`` as text, read from the arrays' key tables where they hold the field."""
        if self.segments is None or fieldname not in POSITION_FIELDS + POSTING_FIELDS:
            return [_text(t) for t in self.expand_prefix(fieldname, prefix)]
        found: set[str] = set()
        for seg in self.segments:
            found.update(_prefixed(seg.arrays.keys, fieldname, prefix)[1])
        return sorted(found)

    # --- queries ------------------------------------------------------------------
    def term(self, fieldname: str, text: str, boost: float = 1.0) -> wq.Term:
        if base_of(fieldname) is None:
            return wq.Term(fieldname, text, boost=boost)
        return FoldTerm(fieldname, text, self, boost=boost)

    def phrase(self, fieldname: str, words: list[str], boost: float = 1.0) -> wq.Phrase:
        if base_of(fieldname) is None:
            return wq.Phrase(fieldname, words, boost=boost)
        return FoldPhrase(fieldname, words, self, boost=boost)

    # --- derivation ---------------------------------------------------------------
    def _fold_frequency(self, base: str, text: str) -> int:
        if self.segments is not None:
            key = f"{base}{SEP}{text}".encode("utf-8")
            total = 0
            for seg in self.segments:
                i = seg.arrays.folds.find(key)
                if i >= 0:
                    total += int(seg.arrays.fold_df[i])
            return total
        variants = self.variants(base + SUFFIX, text)
        if len(variants) <= 1:
            return sum(self.reader.doc_frequency(base, v) for v in variants)
        total = 0
        for leaf, _ in self.reader.leaf_readers():
            fmt = leaf.schema[base].format
            docs: set[int] = set()
            for v in variants:
                btext = v.encode("utf-8")
                if (base, btext) in leaf:  # every posting, deleted documents too (as Whoosh counts)
                    docs.update(leaf._terms.matcher(base, btext, fmt, scorer=None).all_ids())
            total += len(docs)
        return total

    def _fold_map(self, base: str) -> dict[str, list[str]]:
        folds = self._folds.get(base)
        if folds is None:
            folds = {}
            if base in self.schema:
                for btext in self.reader.lexicon(base):
                    term = btext.decode("utf-8")
                    folds.setdefault(fold(term), []).append(term)
            self._folds[base] = folds
        return folds

    def _sorted_folds(self, base: str) -> list[str]:
        terms = self._sorted.get(base)
        if terms is None:
            terms = self._sorted[base] = sorted(self._fold_map(base))
        return terms

    @staticmethod
    def _segment_prefix(arrays, base: str, prefix: str, limit: int | None = None) -> tuple[int, Iterator[str]]:
        """The fold-table row of a segment's first folded term starting with ``prefix``, and
        those terms in order (at most ``limit``)."""
        return _prefixed(arrays.folds, base, prefix, limit)


def _prefixed(table, field: str, prefix: str, limit: int | None = None) -> tuple[int, Iterator[str]]:
    """The row of the first ``field`` term starting with ``prefix`` in a sorted table of
    ``field SEP term`` strings (``postings._Strings``), and those terms in order (at most
    ``limit``)."""
    head = f"{field}{SEP}".encode("utf-8")
    lo, hi = table.prefixed(head + prefix.encode("utf-8"))
    if limit is not None:
        hi = min(hi, lo + limit)

    def terms() -> Iterator[str]:
        blob, skip = table.blob, len(head)
        for chunk in range(lo, hi, 1024):  # offsets as Python ints, a chunk at a time
            offsets = table.offsets[chunk:min(hi, chunk + 1024) + 1].tolist()
            for start, end in zip(offsets, offsets[1:]):
                yield blob[start + skip:end].decode("utf-8")

    return lo, terms()


class FoldTerm(wq.Term):
    """A folded syllable in Whoosh: the union of its exact variants, scored as one term."""

    def __init__(self, fieldname: str, text: str, lexicon: Lexicon, boost: float = 1.0):
        super().__init__(fieldname, text, boost=boost)
        self.lexicon = lexicon

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
        weighting = context.weighting if context is not None else searcher.weighting
        score, bound = _scorer(weighting, searcher, self.lexicon, self.fieldname, self.text)
        m = _UnionMatcher(children, score, bound)
        return WrappingMatcher(m, boost=self.boost) if self.boost != 1.0 else m


class FoldPhrase(wq.Phrase):
    """Folded syllables next to each other, in order (Whoosh's phrase over :class:`FoldTerm`)."""

    def __init__(self, fieldname: str, words: list[str], lexicon: Lexicon, boost: float = 1.0):
        super().__init__(fieldname, words, slop=1, boost=boost)
        self.lexicon = lexicon

    def _terms(self) -> list[FoldTerm]:
        return [FoldTerm(self.fieldname, w, self.lexicon) for w in self.words]

    def _and_query(self):
        return wq.And(self._terms())

    def estimate_size(self, ixreader) -> int:
        return self._and_query().estimate_size(ixreader)

    def matcher(self, searcher, context=None):
        # As Whoosh's Phrase: a word the index lacks matches nothing.
        if not self.words or any(self.lexicon.doc_frequency(self.fieldname, w) == 0 for w in self.words):
            return NullMatcher()
        m = SpanNear2(self._terms(), slop=self.slop, ordered=True, mindist=1).matcher(searcher, context)
        return WrappingMatcher(m, boost=self.boost) if self.boost != 1.0 else m


def _scorer(weighting, searcher, lexicon: Lexicon, fieldname: str,
            text: str) -> tuple[Callable[[int, float], float], float]:
    """Whoosh's BM25F scorer for the folded term (its IDF, the exact field's lengths), and
    a bound no score reaches (Whoosh's collectors prune matchers by it once a page is full)."""
    if not isinstance(weighting, BM25F):
        return (lambda docnum, weight: weight), float("inf")  # Whoosh's WeightScorer
    base = base_of(fieldname)
    B = weighting._field_B.get(fieldname, weighting.B)
    K1 = weighting.K1
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

    def copy(self) -> "_UnionMatcher":
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
