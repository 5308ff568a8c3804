"""What a search returns: hits, result pages and stored articles, with their JSON shapes."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from urllib.parse import quote, urlsplit

from .relax import Alternative

__all__ = ["ARTICLE_PAGE", "Hit", "SearchResults", "StoredArticle", "date_text", "elapsed_ms", "join_notices",
           "json_dates", "page_url", "stored_article", "web_link"]

ARTICLE_PAGE = "/article/"  # the web page of an article is ARTICLE_PAGE + its id, percent-encoded


def page_url(doc_id: str) -> str:
    """The path of an article's page on the web app, percent-encoded as Flask's ``url_for`` does
    for a ``<path:>`` rule (a ``/`` in an id stays one)."""
    return ARTICLE_PAGE + quote(doc_id, safe="!$&'()*+,/:;=@")


def web_link(url: str | None) -> str:
    """``url`` if it is a web link (http or https, with a host), else "": a feed's ``url`` may hold
    anything, and a seed file has none."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else ""


def json_dates(date: str | None) -> dict[str, str | None]:
    """The JSON form of a date as :func:`date_text` writes it: ``date`` always the day
    (``YYYY-MM-DD``), ``datetime`` the minute (``YYYY-MM-DDTHH:MM``) when the article gives
    its time, else None; both None when the date is unknown."""
    return {"date": date[:10] if date else None, "datetime": date if date and "T" in date else None}


@dataclass
class Hit:
    """One result.  ``date`` is the day, or the day and minute when known (what the page shows);
    ``url`` the article's web link, or ""."""

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
        out: dict = {"id": self.id, "title": self.title, **json_dates(self.date), "score": self.score,
               "url": self.url or None, "page_url": page_url(self.id), "snippet": self.snippet}
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
            "page": self.page, "per_page": self.per_page, "pages": self.pages,
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
        """``vnsearch show --json``: the fields, dates and links as in a search hit's JSON."""
        out = asdict(self)
        return {"id": self.id, "title": self.title, "body": self.body, **json_dates(self.date),
                **{k: out[k] for k in ("author", "source", "category")}, "url": self.url or None,
                "path": self.path or None, "page_url": page_url(self.id)}


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
                         category=stored.get("category", ""), url=web_link(stored.get("url")),
                         path=stored.get("path", ""))
