"""What a search returns: hits, result pages and stored articles, with their JSON shapes."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import datetime

from .relax import Alternative

__all__ = ["Hit", "SearchResults", "StoredArticle", "date_text", "elapsed_ms", "join_notices", "stored_article"]


@dataclass
class Hit:
    id: str
    title: str
    date: str | None
    score: float | None
    url: str
    snippet: str
    title_html: str = ""
    author: str = ""
    source: str = ""
    category: str = ""
    explanation: dict | None = None  # how the score was made, when asked (``search(explain=True)``)

    def to_dict(self) -> dict:
        """The public JSON shape of a hit (CLI ``--json`` and the web API); ``explanation`` when asked."""
        out = {k: getattr(self, k) for k in ("id", "title", "date", "score", "url", "snippet")}
        if self.explanation is not None:
            out["explanation"] = self.explanation
        return out


@dataclass
class SearchResults:
    query: str
    total: int
    page: int
    per_page: int
    took_ms: float
    hits: list[Hit] = field(default_factory=list)
    suggestion: str | None = None
    notice: str | None = None
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    # How ``total`` relates to the real number of matches: always "eq" (exact), every
    # match being counted; kept in the JSON shape, as Elasticsearch's ``total.relation``.
    total_relation: str = "eq"
    # How words typed without diacritics were read ("mặt trận tổ quốc"), when one reading leads.
    reading: str | None = None
    # When nothing is found: the searches without each condition that find something (relax.py).
    alternatives: list[Alternative] = field(default_factory=list)

    @property
    def total_text(self) -> str:
        """The total as a reader should read it, in Vietnamese grouping: "1.234"."""
        return f"{self.total:,}".replace(",", ".")

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    def to_dict(self) -> dict:
        return {
            "query": self.query, "total": self.total, "total_relation": self.total_relation,
            "page": self.page, "per_page": self.per_page,
            "took_ms": self.took_ms, "suggestion": self.suggestion, "notice": self.notice, "reading": self.reading,
            "alternatives": [a.to_dict() for a in self.alternatives],
            "hits": [h.to_dict() for h in self.hits],
        }


@dataclass
class StoredArticle:
    """A stored article, as written, for the article page (not ``ingest.Article``, the
    record read from a source)."""

    id: str
    title: str
    body: str
    date: str | None
    author: str
    source: str
    category: str
    url: str
    path: str

    @property
    def paragraphs(self) -> list[str]:
        return [p.strip() for p in self.body.split("\n") if p.strip()]

    def to_dict(self) -> dict:
        return asdict(self)


def elapsed_ms(started: float) -> float:
    """Milliseconds since ``started`` (``time.perf_counter()``), as ``took_ms`` shows them."""
    return round((time.perf_counter() - started) * 1000, 2)


def join_notices(notices: list[str]) -> str | None:
    """The notices as one, each once, in order; None when there are none."""
    notices = list(dict.fromkeys(n for n in notices if n))
    return " ".join(notices) if notices else None


def date_text(stored: dict) -> str | None:
    d = stored.get("date")
    if not isinstance(d, datetime):
        return None
    return d.isoformat(timespec="minutes") if stored.get("has_time") else d.date().isoformat()


def stored_article(stored: dict) -> StoredArticle:
    return StoredArticle(id=stored["id"], title=stored.get("title", ""), body=stored.get("body", ""),
                         date=date_text(stored), author=stored.get("author", ""), source=stored.get("source", ""),
                         category=stored.get("category", ""), url=stored.get("url", ""), path=stored.get("path", ""))
