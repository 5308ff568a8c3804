"""Collectors over evaluated matches: the top k by score, the newest k, facet counts.

As tantivy's ``collector/`` modules: what to keep of the matches is decided
here, not by the evaluation.  Ties are broken by article id (``rank``), so a
page shows the same articles after every rebuild, whichever worker wrote which.
"""

from __future__ import annotations

import numpy as np

from ..store.arrays_read import NO_DATE, NO_YEAR
from .evaluate import Segment

__all__ = ["by_date", "facets", "per_doc", "top"]


def top(docs: np.ndarray, scores: np.ndarray, k: int, rank: np.ndarray) -> list[tuple[int, float]]:
    """The k best (docnum, score), best first, equal scores in ``rank[docnum]`` order (not
    by docnum: docnums depend on how a build spread articles over workers)."""
    if len(docs) > k:
        cut = np.argpartition(-scores, k - 1)[:k]
        threshold = scores[cut].min()
        cut = np.flatnonzero(scores >= threshold)  # keep every tie at the threshold
        docs, scores = docs[cut], scores[cut]
    order = np.lexsort((rank[docs], -scores))[:k]
    return [(int(docs[i]), float(scores[i])) for i in order]


def by_date(docs: np.ndarray, dates: np.ndarray, k: int, rank: np.ndarray) -> list[int]:
    """The k newest of ``docs`` (undated last), equal dates in ``rank[docnum]`` order."""
    undated = dates == NO_DATE
    key = np.where(undated, 0, dates.astype(np.float64))
    order = np.lexsort((rank[docs], -key, undated))[:k]
    return [int(docs[i]) for i in order]


def per_doc(segments: list[Segment], docs: np.ndarray, column: str) -> np.ndarray:
    """A per-document array (``date``, ``year``, ``category``) at global ``docs``."""
    out = np.zeros(len(docs), dtype=getattr(segments[0].arrays, column).dtype) if segments else np.zeros(0)
    for seg in segments:
        inside = (docs >= seg.offset) & (docs < seg.offset + seg.arrays.doc_count)
        out[inside] = getattr(seg.arrays, column)[docs[inside] - seg.offset]
    return out


def facets(segments: list[Segment], docs: np.ndarray) -> dict[str, dict]:
    """Matches per year and per category (as Whoosh's Count facets report them)."""
    years: dict = {}
    categories: dict = {}
    for seg in segments:
        local = docs[(docs >= seg.offset) & (docs < seg.offset + seg.arrays.doc_count)] - seg.offset
        values, counts = np.unique(seg.arrays.year[local], return_counts=True)
        for v, c in zip(values.tolist(), counts.tolist()):
            if v == NO_YEAR:
                continue
            years[v] = years.get(v, 0) + c
        codes, counts = np.unique(seg.arrays.category[local], return_counts=True)
        for code, c in zip(codes.tolist(), counts.tolist()):
            name = seg.arrays.categories[code]
            categories[name] = categories.get(name, 0) + c
    return {"year": years, "category": categories}
