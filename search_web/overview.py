"""What the home page says about the index: how many articles, from when to when, the
newest ones and a few searches that find something in it.

Made through the engine's public API only (``Index.search``, ``stats``).  The newest
articles and the dates are asked for on every view (a filter and the newest k: about a
millisecond on 6,400 articles).  The example searches cost more (a search each, 100 ms
for the lot there), so they are kept for a state of the index: a new generation, a commit
that adds or removes articles or segments, and at most ``REFRESH_SECONDS`` (a commit can
leave every count as it was).
"""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass, field

from indexer import Hit, Index, NoIndexError

__all__ = ["EXAMPLES", "Overview", "overview"]

# Searches offered on the home page, those that find something (every word, no notice)
# in this index, in this order, up to SHOWN_EXAMPLES.
EXAMPLES = ("mặt trận tổ quốc", "giá vàng", "an toàn giao thông", "bóng đá", "covid", "tập huấn", "bầu cử",
            "học sinh", "nông thôn mới", "Hà Nội", "UBND", "thời tiết")
SHOWN_EXAMPLES = 6
LATEST = 5
REFRESH_SECONDS = 600
_OLDEST_DEPTH = 10_000  # the engine pages no deeper (Limits.max_results_depth)


@dataclass(frozen=True)
class Overview:
    articles: int
    dated: int = 0  # how many have a date (the corpus's largest sources have none)
    first: str | None = None  # the oldest and newest articles' dates (yyyy-mm-dd), or the years
    last: str | None = None
    latest: list[Hit] = field(default_factory=list)  # newest first
    examples: list[tuple[str, int]] = field(default_factory=list)  # (query, how many it finds)


_lock = threading.Lock()
_examples: weakref.WeakKeyDictionary[Index, tuple[tuple, float, list]] = weakref.WeakKeyDictionary()


def overview(ix: Index) -> Overview | None:
    """The home page's overview of ``ix``, None when it holds no article (or none is built)."""
    try:
        stats = ix.stats()
        if not stats["articles"]:
            return None
        dated = ix.search("", date_from="1000", sort="date", per_page=LATEST, facets=True, highlight=False)
        years = sorted(dated.facets.get("year", {}))
        first = last = None
        if dated.hits and years:
            last = (dated.hits[0].date or "")[:10]
            first = _oldest(ix, years[0], dated.facets["year"][years[0]])
        state = (stats["generation"], stats["articles"], stats["deleted"], stats["segments"])
        return Overview(stats["articles"], dated.total, first, last, dated.hits, _examples_of(ix, state))
    except NoIndexError:  # removed while being read
        return None


def _examples_of(ix: Index, state: tuple) -> list[tuple[str, int]]:
    with _lock:  # one thread counts them; the others wait for it
        known = _examples.get(ix)  # (the index's state, when, the examples)
        if known and known[0] == state and time.monotonic() - known[1] < REFRESH_SECONDS:
            return known[2]
        examples = []
        for query in EXAMPLES:
            found = ix.search(query, per_page=1, highlight=False)
            if found.total and not found.notice:
                examples.append((query, found.total))
                if len(examples) == SHOWN_EXAMPLES:
                    break
        _examples[ix] = (state, time.monotonic(), examples)
        return examples


def _oldest(ix: Index, year: str, count: int) -> str:
    """The oldest article's date: the last, newest first, of its year's; the year if too deep."""
    if count > _OLDEST_DEPTH:
        return year
    found = ix.search("", date_from=year, date_to=year, sort="date", page=count, per_page=1, highlight=False)
    return (found.hits[0].date or year)[:10] if found.hits else year
