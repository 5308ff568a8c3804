"""What emptied a result, and the searches without it, each with how many it finds.

A reader who finds nothing learns more from "without the quotes: 153" than from
generic tips: each condition the query or the request adds (quotes, excluded words,
a field, a date filter, a category) is dropped in turn and the search counted
again, as Google's "Missing: …" and Elasticsearch's relaxed suggestions do.  Plain
words need no such step: a search for all of them that finds nothing already falls
back to any of them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from .parser import And, DateRange, Node, Not, Or, Phrase, Word, parse
from .request import Request

__all__ = ["Alternative", "alternatives", "render"]

RELAX_SECONDS = 0.5  # counting alternatives stops here: a reader waits for the empty page too


@dataclass(frozen=True)
class Alternative:
    """A search without one condition of the one that found nothing."""

    kind: str       # "quotes", "exclusions", "fields", "dates", "category" or "plain" (all of them)
    label: str      # what was dropped, in Vietnamese, for the page
    query: str      # the query to search instead
    total: int      # how many articles it finds
    some_words: bool = False  # it finds them only with some of the words
    # Request parameters it drops, as the keyword arguments of ``Index.search`` set to None.
    dropped: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "label": self.label, "query": self.query, "total": self.total,
                "some_words": self.some_words, "dropped": list(self.dropped)}


def _map(node: Node | None, change: Callable[[Node], Node | None]) -> Node | None:
    """``node`` with ``change`` applied bottom-up (None drops a node)."""
    if node is None:
        return None
    if isinstance(node, (And, Or)):
        kids: list[Node] = []
        for kid in (_map(c, change) for c in node.children):
            if isinstance(kid, And) and isinstance(node, And):
                kids.extend(kid.children)  # an unquoted phrase's words join the words around it
            elif kid is not None:
                kids.append(kid)
        joined: Node | None = type(node)(kids) if len(kids) > 1 else (kids[0] if kids else None)
        return change(joined) if joined is not None else None
    return change(node)  # an excluded part is dropped whole or kept as typed


def _changes(node: Node | None, drop: Callable[[Node], Node | None]) -> bool:
    """Whether ``drop`` changes some part of ``node``."""
    found = False

    def look(n: Node) -> Node:
        nonlocal found
        found = found or drop(n) is not n
        return n

    _map(node, look)
    return found


def _unquote(n: Node) -> Node | None:
    return And([Word(w, n.field) for w in n.text.split()]) if isinstance(n, Phrase) and n.text.split() else n


def _unfield(n: Node) -> Node | None:
    return replace(n, field=None) if isinstance(n, (Word, Phrase)) and n.field else n


DROPS: dict[str, Callable[[Node], Node | None]] = {
    "quotes": _unquote,
    "exclusions": lambda n: None if isinstance(n, Not) else n,
    "fields": _unfield,
    "dates": lambda n: None if isinstance(n, DateRange) else n,
}
LABELS = {"quotes": "bỏ ngoặc kép", "exclusions": "bỏ các từ bị loại trừ", "fields": "tìm trong cả bài",
          "dates": "bỏ lọc ngày", "category": "bỏ lọc chuyên mục", "plain": "chỉ tìm các từ, bỏ mọi điều kiện"}


OPERATORS = {"OR", "HOẶC", "AND", "VÀ", "NOT", "KHÔNG"}  # words the parser reads as operators in capitals


def _day(d: datetime) -> str:
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"  # strftime writes the year 999 as "999"


def _bounds(node: DateRange) -> str:
    """``date:`` terms for the range: a start at the end of a day is "after it", an end at the
    start of a day "before it" (``date:>2024``, ``date:<2020``), as the parser reads them."""
    start, end = node.start, node.end
    after = start is not None and (start.hour, start.minute, start.second) == (23, 59, 59)
    before = end is not None and (end.hour, end.minute, end.second) == (0, 0, 0)
    if start and end and not after and not before:
        return f"date:{_day(start)}..{_day(end)}"
    parts = ([f"date:>{_day(start)}" if after else f"date:>={_day(start)}"] if start else []) + (
        [f"date:<{_day(end)}" if before else f"date:<={_day(end)}"] if end else [])
    return " ".join(parts)


def render(node: Node | None, inside: bool = False) -> str:
    """Query text that parses back to ``node`` (``alternatives`` checks that it does)."""
    if node is None:
        return ""
    if isinstance(node, Word):
        text = node.text.lower() if node.text in OPERATORS else node.text  # a quoted "KHÔNG" stays a word
        return (f"{node.field}:" if node.field else "") + text + ("*" if node.prefix else "") + (
            f"~{node.fuzzy}" if node.fuzzy else "")
    if isinstance(node, Phrase):
        return (f"{node.field}:" if node.field else "") + f'"{node.text}"'
    if isinstance(node, Not):  # "-title:x" would exclude the word "title:x"
        child = node.child
        return ("NOT " if isinstance(child, (Word, Phrase)) and child.field else "-") + render(child, inside=True)
    if isinstance(node, DateRange):
        return _bounds(node)
    joiner = " OR " if isinstance(node, Or) else " "
    text = joiner.join(render(c, inside=True) for c in node.children)
    return f"({text})" if inside else text


def _canonical(node: Node | None) -> Node | None:
    """``node`` with its words in lower case: what a search matches does not depend on it."""
    if isinstance(node, (Word, Phrase)):
        return replace(node, text=node.text.lower())
    if isinstance(node, Not):
        return Not(_canonical(node.child))  # type: ignore[arg-type]
    if isinstance(node, (And, Or)):
        return type(node)([_canonical(c) for c in node.children])  # type: ignore[misc]
    return node


def _flat(node: Node | None) -> Node | None:
    """An And of And's as one (the parser writes ``date:>a date:<=b`` as two ranges side by side)."""
    if isinstance(node, (And, Or)):
        kids: list = []
        for c in (_flat(k) for k in node.children):
            kids.extend(c.children if isinstance(c, And) and isinstance(node, And) else [c])
        return type(node)(kids)
    return node


def alternatives(request: Request, count: Callable[[Request], tuple[int, bool]],
                 limit: int = 4) -> list[Alternative]:
    """The searches without each condition of ``request`` that find something: those with all the
    words first, one condition dropped before all of them, then by how many they find.

    ``count``: how many articles a request finds, and whether only with some of its words.
    """
    node, _ = parse(request.query)
    in_query = [k for k, drop in DROPS.items() if _changes(node, drop)]
    kinds = list(in_query)
    if (request.date_from or request.date_to) and "dates" not in kinds:
        kinds.append("dates")
    if request.category:
        kinds.append("category")
    if len(kinds) > 1:
        kinds.append("plain")
    budget = time.perf_counter() + RELAX_SECONDS
    found = []
    for kind in kinds:
        if time.perf_counter() > budget:
            break
        drops = [k for k in in_query if kind in (k, "plain")]
        changed = node
        for drop in drops:
            changed = _map(changed, DROPS[drop])
        dropped = tuple(name for name in ("date_from", "date_to", "category")
                        if getattr(request, name) and kind in ("plain", "category" if name == "category" else "dates"))
        query = render(changed) if drops else request.query
        if not query.strip() and not dropped:
            continue
        if drops and _canonical(_flat(parse(query)[0])) != _canonical(_flat(changed)):
            continue  # text that would search something else than what the link says
        relaxed = replace(request, query=query, page=1, per_page=1, highlight=False, facets=False, explain=False,
                          suggest=False)
        for name in dropped:
            relaxed = replace(relaxed, **{name: None})  # type: ignore[arg-type]
        total, some_words = count(relaxed)
        if total:
            found.append(Alternative(kind, LABELS[kind], query, total, some_words, dropped))
    found.sort(key=lambda a: (a.some_words, a.kind == "plain", -a.total))  # one condition dropped before all
    return found[:limit]
