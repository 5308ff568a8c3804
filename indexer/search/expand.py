"""What a prefix (``mặt*``) or fuzzy (``huấn~``) word expands to: the index's most frequent
matching terms, with boosts that do not favour the rarest."""

from __future__ import annotations

import heapq

from ..config import Limits
from .lexicon import Lexicon

__all__ = ["blended", "fuzzy_terms", "prefix_terms"]


def blended(lexicon: Lexicon, fieldname: str, terms: list[str], typed: str | None,
            variant_weight: float) -> dict[str, float]:
    """Boosts giving every expansion the IDF of the most frequent one.

    Unblended, the rarest expansion of "học~" (a typo, "hóc") has the highest IDF and
    ranks first: Elasticsearch blends term frequencies for the same reason
    (``top_terms_blended_freqs``).  A fuzzy word's own form (``typed``) stays ahead of its
    variants, which weigh ``variant_weight``.
    """
    idf = {t: lexicon.idf(fieldname, t) for t in terms}
    common = min(idf.values())
    return {t: (common / idf[t] if idf[t] > 0 else 1.0) * (1.0 if typed in (None, t) else variant_weight)
            for t in terms}


def prefix_terms(lexicon: Lexicon, limits: Limits, fieldname: str, prefix: str) -> list[str]:
    """The most frequent terms of ``fieldname`` starting with ``prefix``."""
    if fieldname not in lexicon.schema:
        return []
    found = lexicon.prefix_frequencies(fieldname, prefix, limits.max_scan)
    return [t for _, t in heapq.nlargest(limits.max_expansions, found)]


def fuzzy_terms(lexicon: Lexicon, limits: Limits, fieldname: str, text: str, maxdist: int) -> list[str]:
    """The most frequent terms of ``fieldname`` within ``maxdist`` edits of ``text``."""
    if fieldname not in lexicon.schema or len(text) < 3:
        return [text]
    found = []
    for i, term in enumerate(lexicon.terms_within(fieldname, text, maxdist, prefix=1)):
        if i >= limits.max_scan:
            break
        found.append((lexicon.doc_frequency(fieldname, term), term))
    return [t for _, t in heapq.nlargest(limits.max_expansions, found)]
