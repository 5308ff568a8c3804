"""A search request: its arguments, checked once (``ValueError`` for what is out of range;
never for the query text, which any input is)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from ..config import Limits
from .parser import parse_date_bound

__all__ = ["SORTS", "BadSearchArgument", "Request"]

SORTS = ("relevance", "date")
MODES = ("all", "any")


class BadSearchArgument(ValueError):
    """A search argument out of range: ``str()`` says it in English (for Python callers),
    ``message_vi`` in Vietnamese (what the CLI and the web API show readers)."""

    def __init__(self, message: str, message_vi: str):
        super().__init__(message)
        self.message_vi = message_vi


@dataclass(frozen=True)
class Request:
    query: str
    page: int = 1
    per_page: int = 10
    sort: str = "relevance"
    date_from: datetime | None = None
    date_to: datetime | None = None
    mode: str = "all"
    facets: bool = False
    snippet_chars: int = 240
    category: str | None = None
    highlight: bool = True
    as_typed: bool = False  # no reading of unaccented words as the collection writes them
    explain: bool = False   # each hit says how its score was made
    suggest: bool = True    # did-you-mean when little is found (not for counting alternatives)

    @classmethod
    def make(cls, query: object, limits: Limits, page: int = 1, per_page: int = 10, sort: str = "relevance",
             date_from: datetime | str | None = None, date_to: datetime | str | None = None, mode: str = "all",
             facets: bool = False, snippet_chars: int = 240, category: str | None = None,
             highlight: bool = True, as_typed: bool | str = False, explain: bool | str = False) -> Request:
        page, per_page = int(page), int(per_page)
        depth = limits.max_results_depth
        if page < 1 or not 1 <= per_page <= limits.max_per_page or page * per_page > depth:
            raise BadSearchArgument(
                f"page must be >= 1, per_page 1..{limits.max_per_page}, page*per_page <= {depth}",
                "số trang phải từ 1 trở lên" if page < 1 else
                f"số kết quả mỗi trang phải trong khoảng 1..{limits.max_per_page}"
                if not 1 <= per_page <= limits.max_per_page else
                f"chỉ xem được {depth:,} kết quả đầu: số trang × số kết quả mỗi trang không được quá "
                f"{depth:,}".replace(",", "."))
        if sort not in SORTS:
            raise BadSearchArgument(f"sort must be one of {', '.join(SORTS)}",
                                    f"cách sắp xếp phải là một trong: {', '.join(SORTS)}")
        if mode not in MODES:
            raise BadSearchArgument("mode must be 'all' or 'any'", "chế độ phải là 'all' hoặc 'any'")
        return cls(query if isinstance(query, str) else str(query), page, per_page, sort,
                   _bound(date_from, end=False), _bound(date_to, end=True), mode, facets, snippet_chars,
                   category or None, highlight, _flag(as_typed), _flag(explain))

    def for_query(self, query: str) -> Request:
        return replace(self, query=query)

    @property
    def wanted(self) -> int:
        """How many top matches the page needs."""
        return self.page * self.per_page


def _flag(value: bool | str) -> bool:
    """A switch given as a bool or as a web parameter ("1", "true", "yes", "on"; "0" is off)."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _bound(value: datetime | str | None, end: bool) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    parsed = parse_date_bound(str(value), end=end)
    if parsed is None:
        raise BadSearchArgument(f"invalid date {value!r}; use YYYY, YYYY-MM or YYYY-MM-DD",
                                f"ngày không hợp lệ {value!r}: dùng YYYY, YYYY-MM hoặc YYYY-MM-DD")
    return parsed
