"""The query language readers type, parsed into a small syntax tree.

Supported: plain words (all must match), ``"quoted phrases"`` (``"thanh p*"``: the last
word a prefix), ``-word`` /
``-"phrase"`` / ``NOT word`` exclusion (``-16`` is a number, not an exclusion), ``OR`` (or ``|``), parentheses,
``field:value`` for title/body/author/source/category, ``word*`` prefixes,
``word~`` / ``word~2`` fuzzy terms, and dates: ``date:2020``,
``date:2020-05``, ``date:2019-01-01..2020-12-31``,
``date:[2019-01-01 to 2020-12-31]``, ``date:>=2020``.

:func:`parse` never raises: anything it cannot make sense of is read as
plain words, which is what a reader who typed it most likely meant.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from ..store.schema import KEYWORD_FIELDS, TEXT_FIELDS

__all__ = ["Word", "Phrase", "Not", "And", "Or", "DateRange", "Node", "parse", "parse_date_bound", "searched_text"]

MAX_DEPTH = 8          # deeper parentheses are read as plain grouping-free text
FIELD_ALIASES = {"tieude": "title", "tiêu_đề": "title", "noidung": "body", "tacgia": "author", "ngay": "date",
                 "ngày": "date", "nam": "date", "năm": "date", "year": "date", "chuyenmuc": "category",
                 "nguon": "source"}


@dataclass
class Word:
    text: str
    field: str | None = None
    prefix: bool = False  # word*
    fuzzy: int = 0        # word~N


@dataclass
class Phrase:
    text: str
    field: str | None = None


@dataclass
class Not:
    child: Node


@dataclass
class And:
    children: list[Node] = field(default_factory=list)


@dataclass
class Or:
    children: list[Node] = field(default_factory=list)


@dataclass
class DateRange:
    start: datetime | None
    end: datetime | None  # inclusive


Node = Word | Phrase | Not | And | Or | DateRange


# --- dates ----------------------------------------------------------------
_BOUND_RE = re.compile(r"^(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?$")
_VN_DATE_RE = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")


def parse_date_bound(text: str, end: bool = False) -> datetime | None:
    """'2020', '2020-05', '2020-05-17' or '17/05/2020' as the first (or last) moment it covers."""
    text = text.strip()
    m = _BOUND_RE.match(text)
    if m:
        year, month, day = int(m.group(1)), m.group(2), m.group(3)
    else:
        m = _VN_DATE_RE.match(text)
        if not m:
            return None
        year, month, day = int(m.group(3)), m.group(2), m.group(1)
    try:
        if month is None:
            return datetime(year, 12, 31, 23, 59, 59) if end else datetime(year, 1, 1)
        month = int(month)
        if day is None:
            last = calendar.monthrange(year, month)[1]
            return datetime(year, month, last, 23, 59, 59) if end else datetime(year, month, 1)
        day = int(day)
        return datetime(year, month, day, 23, 59, 59) if end else datetime(year, month, day)
    except (ValueError, OverflowError):
        return None


def _date_node(value: str) -> DateRange | None:
    value = value.strip()
    if value.startswith("[") and value.endswith("]"):
        value = value[1:-1]
    for op in (">=", "<=", ">", "<"):
        if value.startswith(op):
            bound = value[len(op):]
            if op[0] == ">":
                d = parse_date_bound(bound, end=(op == ">"))
                if d and op == ">":
                    d = d.replace(microsecond=0)
                return DateRange(d, None) if d else None
            d = parse_date_bound(bound, end=(op == "<="))
            return DateRange(None, d) if d else None
    parts = re.split(r"\s+(?:to|TO|đến|den)\s+|\.\.", value)
    if len(parts) == 2:
        start = parse_date_bound(parts[0]) if parts[0].strip() not in ("", "*") else None
        stop = parse_date_bound(parts[1], end=True) if parts[1].strip() not in ("", "*") else None
        if (start or parts[0].strip() in ("", "*")) and (stop or parts[1].strip() in ("", "*")):
            return DateRange(start, stop)
        return None
    start, stop = parse_date_bound(value), parse_date_bound(value, end=True)
    return DateRange(start, stop) if start and stop else None


# --- lexer ----------------------------------------------------------------
_TOKEN_RE = re.compile(
    r"""
    (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<field>[^\W\d][\w.]*):(?=\S)
  | (?P<range>\[[^\]]*\]?)
  | (?P<phrase>"[^"]*"?|“[^”]*”?)
  | (?P<word>[^\s()"“”]+)
    """,
    re.VERBOSE,
)


@dataclass
class _Tok:
    kind: str
    text: str


def _lex(text: str) -> list[_Tok]:
    # Every alternative of _TOKEN_RE is a named group, so ``lastgroup`` is never None.
    return [_Tok(cast(str, m.lastgroup), m.group(0)) for m in _TOKEN_RE.finditer(text)]


class _Parser:
    def __init__(self, tokens: list[_Tok]):
        self.toks = tokens
        self.i = 0
        self.depth = 0
        self.notices: list[str] = []

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def parse_or(self) -> Node | None:
        branches = [self.parse_and()]
        while (tok := self.peek()) is not None and tok.kind == "word" and tok.text in ("OR", "|", "||", "HOẶC"):
            self.take()
            branches.append(self.parse_and())
        found = [b for b in branches if b is not None]
        if not found:
            return None
        return found[0] if len(found) == 1 else Or(found)

    def parse_and(self) -> Node | None:
        children: list[Node] = []
        while (tok := self.peek()) is not None:
            if tok.kind == "rparen":
                if self.depth > 0:
                    break
                self.take()  # a stray ")" is ignored
                continue
            if tok.kind == "word" and tok.text in ("OR", "|", "||", "HOẶC"):
                if not children:
                    self.take()  # a leading OR means nothing
                    continue
                break
            if tok.kind == "word" and tok.text in ("AND", "&&", "VÀ"):
                self.take()
                continue
            node = self.parse_unary()
            if node is not None:
                children.append(node)
        if not children:
            return None
        return children[0] if len(children) == 1 else And(children)

    def parse_unary(self) -> Node | None:
        tok = self.peek()
        assert tok is not None  # parse_and calls this only with a token ahead
        negate = False
        if tok.kind == "word" and tok.text in ("NOT", "KHÔNG") and self.i + 1 < len(self.toks):
            self.take()
            negate = True
        elif tok.kind == "word" and tok.text.startswith("-") and len(tok.text) > 1 and not tok.text[1].isdigit():
            # "-16" is a number ("F -16", "-5 độ"), not an exclusion of 16.
            tok.text = tok.text[1:]
            negate = True
        elif tok.kind == "word" and tok.text == "-" and self.i + 1 < len(self.toks) and \
                self.toks[self.i + 1].kind in ("phrase", "lparen", "field"):
            self.take()
            negate = True
        elif tok.kind == "word" and tok.text.startswith("+") and len(tok.text) > 1:
            tok.text = tok.text[1:]
        node = self.parse_atom()
        if node is None:
            return None
        return Not(node) if negate else node

    def parse_atom(self) -> Node | None:
        tok = self.take()
        if tok.kind == "lparen":
            if self.depth >= MAX_DEPTH:
                return None  # too deep: the parenthesis is dropped, its words still count
            self.depth += 1
            node = self.parse_or()
            self.depth -= 1
            if (nxt := self.peek()) is not None and nxt.kind == "rparen":
                self.take()
            return node
        if tok.kind == "rparen":
            return None
        if tok.kind == "phrase":
            return Phrase(tok.text.strip('"“”'))
        if tok.kind == "range":
            return Word(tok.text.strip("[]"))
        if tok.kind == "field":
            name = tok.text[:-1].lower()
            name = FIELD_ALIASES.get(name, name)
            value = self.peek()
            if value is None:
                return Word(tok.text[:-1])
            if name == "date":
                self.take()
                raw = value.text
                if value.kind == "range" and not raw.endswith("]"):
                    raw += "]"
                node = _date_node(raw)
                if node is None:
                    self.notices.append(f"Bỏ qua ngày không hợp lệ: {raw}")
                return node
            if name in TEXT_FIELDS or name in KEYWORD_FIELDS:
                self.take()
                if value.kind == "phrase":
                    return Phrase(value.text.strip('"“”'), name)
                if value.kind in ("lparen", "rparen"):
                    return Word(tok.text[:-1])
                return self._word(value.text, name)
            # Not a field we know ("http:", "Lưu ý:"): the name is a word of its own.
            return Word(tok.text[:-1])
        return self._word(tok.text, None)

    @staticmethod
    def _word(text: str, field_name: str | None) -> Node | None:
        fuzzy = 0
        m = re.match(r"^(.*?)~(\d?)$", text)
        if m and m.group(1):
            text = m.group(1)
            fuzzy = min(int(m.group(2) or 1), 2) or 1
        prefix = text.endswith("*")
        text = text.rstrip("*")
        if not text.strip("*?~^"):
            return None
        return Word(text, field_name, prefix=prefix and not fuzzy, fuzzy=fuzzy)


def searched_text(node: Node | None) -> str:
    """The words and phrases a tree searches for, excluded ones left out: what the reader
    typed as wanted ("bien dong -biến" is typed without diacritics)."""
    if isinstance(node, (Word, Phrase)):
        return node.text
    if isinstance(node, (And, Or)):
        return " ".join(searched_text(c) for c in node.children)
    return ""


def parse(text: str) -> tuple[Node | None, list[str]]:
    """Syntax tree of ``text`` (None if nothing searchable) and notices for the reader."""
    parser = _Parser(_lex(text))
    try:
        return parser.parse_or(), parser.notices
    except (IndexError, ValueError, RecursionError):
        words: list[Node] = [Word(w) for w in re.findall(r"\w+", text)]
        return (And(words) if len(words) > 1 else (words[0] if words else None)), parser.notices
