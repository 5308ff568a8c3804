"""Term statistics of one open index, the ``*_fold`` fields included: the statistics
provider every score reads (``bm25.py``), as tantivy's BM25 reads its statistics.

A folded syllable ("thanh") stands for every syllable of the exact field that
folds to it (thanh, thành, thánh, ...).  Writing those postings a second time
was a third of all postings and about a fifth of indexing time, so the folded
fields are declared in the schema (queries name them) but never written.
:class:`Lexicon` answers what a folded term needs from the posting arrays' fold
tables: its document frequency (documents holding any variant, deleted ones
included, as Whoosh counts), the exact field's lengths (folding keeps every
token), its variants, and a field's folded terms for prefix, fuzzy and
did-you-mean lookups.  Real fields' statistics are Whoosh's own (the index
format's).  ``tests/test_folded.py`` checks every answer against an index
written with real folded postings.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator

from rapidfuzz import process as fuzz_process
from rapidfuzz.distance import OSA

from ..store.arrays_read import SEP
from ..store.schema import POSITION_FIELDS, POSTING_FIELDS, base_of
from ..text.syllables import tone_last
from .bm25 import idf

__all__ = ["Lexicon"]

CACHE_TERMS = 50_000  # frequencies and IDFs kept per open index
TONE_KEY_CACHE = 16   # close_terms: term lists (by field and first letter) kept with their keys (~0.3 MB each)


def _text(text) -> str:
    return text.decode("utf-8") if isinstance(text, bytes) else text


class Lexicon:
    """Term statistics of one open index, folded fields included.

    ``reader``: the index's Whoosh reader; ``segments``: its posting arrays
    (``evaluate.Segment``, one per segment).
    """

    def __init__(self, reader, segments: list):
        self.reader = reader
        self.segments = segments
        self.schema = reader.schema
        self._doc_count_all = reader.doc_count_all()
        self._idf: dict[tuple[str, str], float] = {}
        self._df: dict[tuple[str, str], int] = {}
        self._tone_keys: dict[tuple[str, str], tuple[list[str], list[str]]] = {}  # close_terms

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
        value = self._idf.get(key)
        if value is None:
            if len(self._idf) >= CACHE_TERMS:
                self._idf.clear()
            value = self._idf[key] = idf(self._doc_count_all, self.doc_frequency(fieldname, text))
        return value

    def field_length(self, fieldname: str) -> int:
        return self.reader.field_length(base_of(fieldname) or fieldname)

    def avg_field_length(self, fieldname: str, default=None):
        if not self.schema[fieldname].scorable:
            return default
        return self.field_length(fieldname) / (self._doc_count_all or 1)

    # --- terms -------------------------------------------------------------------
    def variants(self, fieldname: str, text) -> list[str]:
        """The exact terms a folded term stands for (the term itself for other fields)."""
        base = base_of(fieldname)
        text = _text(text)
        if base is None:
            return [text]
        found: set[str] = set()
        head = len(base) + 1
        for seg in self.segments:
            a = seg.arrays
            i = a.folds.find(f"{base}{SEP}{text}".encode())
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
        base = base_of(fieldname)
        if base is None:
            out = []
            for i, term in enumerate(self.expand_prefix(fieldname, prefix)):
                if i >= scan:
                    break
                term = _text(term)
                out.append((self.doc_frequency(fieldname, term), term))
            return out
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
        if fieldname not in POSITION_FIELDS + POSTING_FIELDS:
            return [_text(t) for t in self.expand_prefix(fieldname, prefix)]
        found: set[str] = set()
        for seg in self.segments:
            found.update(_prefixed(seg.arrays.keys, fieldname, prefix)[1])
        return sorted(found)

    # --- derivation ---------------------------------------------------------------
    def _fold_frequency(self, base: str, text: str) -> int:
        key = f"{base}{SEP}{text}".encode()
        total = 0
        for seg in self.segments:
            i = seg.arrays.folds.find(key)
            if i >= 0:
                total += int(seg.arrays.fold_df[i])
        return total

    @staticmethod
    def _segment_prefix(arrays, base: str, prefix: str, limit: int | None = None) -> tuple[int, Iterator[str]]:
        """The fold-table row of a segment's first folded term starting with ``prefix``, and
        those terms in order (at most ``limit``)."""
        return _prefixed(arrays.folds, base, prefix, limit)


def _prefixed(table, field: str, prefix: str, limit: int | None = None) -> tuple[int, Iterator[str]]:
    """The row of the first ``field`` term starting with ``prefix`` in a sorted table of
    ``field SEP term`` strings (``postings._Strings``), and those terms in order (at most
    ``limit``)."""
    head = f"{field}{SEP}".encode()
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
