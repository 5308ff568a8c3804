"""BM25F, written once: every score the engine gives is made here.

As tantivy's ``query/bm25.rs`` takes its statistics from a provider, the
callers pass what a :class:`~indexer.search.lexicon.Lexicon` knows (document
frequency, average field length) and the per-document lengths from the posting
arrays.  The formula and the IDF are Whoosh's ``BM25F`` (``whoosh.scoring``),
so scores are those of the index format's own scorer, to the last bits.
"""

from __future__ import annotations

from math import log

import numpy as np

__all__ = ["bm25", "idf"]


def idf(doc_count: int, doc_frequency: int) -> float:
    """Whoosh's IDF, ``log(N / (df + 1)) + 1``; an index with no articles still builds
    queries (and matches nothing), so N is at least 1."""
    return log(max(doc_count, 1) / (doc_frequency + 1)) + 1


def bm25(term_idf: float, tf: np.ndarray, length: np.ndarray, avg_length: float, b: float, k1: float) -> np.ndarray:
    """BM25's score of a term ``tf`` times in fields of ``length`` syllables."""
    return term_idf * ((tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * length / avg_length)))
