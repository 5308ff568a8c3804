"""Seed-style article files: title line, date line, body, signature, then site chrome."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from ..text.normalize import fold
from .decode import DecodeError, decode_bytes
from .files import NotRegular, open_regular
from .records import MAX_ARTICLE_BYTES, Article, Problem, has_surrogates, id_problem

__all__ = ["parse_article_text", "parse_date", "read_article_file"]

MAX_TITLE_CHARS = 300  # a longer first line is text, not a title


_DATE_LINE_RE = re.compile(
    r"^\s*(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})"
    r"(?:\s*[-–,]?\s*(\d{1,2})\s*[:hg]\s*(\d{2})(?:\s*([AaPp][Mm]))?)?\s*$"
)
_TITLE_DATE_RE = re.compile(r"\s*\((\d{1,2}/\d{1,2}/\d{4}(?:[^)]*)?)\)\s*$")
# Lines where the site's own furniture starts; everything from there on is not article text.
_CHROME_RE = re.compile(
    r"^(cac tin tuc khac|tin tuc khac|cac tin khac|tin khac|danh muc tin tuc|tin da dua|"
    r"luot xem|tin lien quan|bai viet lien quan|xem them|ban in|quay lai|chia se|"
    r"trang \d+ / \d+|go to|xem theo ngay)\b",
)
_CHROME_HEADING_RE = re.compile(r"(cac tin tuc khac|tin tuc khac|cac tin khac|tin khac|danh muc tin tuc|"
                                r"tin lien quan|bai viet lien quan|xem them)[:.]?")
_SENTENCE_END = (".", "!", "?", ":", ";", "…", ",")


def _plain(line: str) -> str:
    """Line reduced for pattern checks: spaces collapsed, folded, lower-case."""
    return fold(" ".join(line.replace("\u00a0", " ").split())).lower()


_INVISIBLE = str.maketrans("", "", "\u00a0\u00ad\u200b\u200c\u200d\u2060\ufeff")


def _is_blank(line: str) -> bool:
    return not line.translate(_INVISIBLE).strip()


def parse_date(text: str) -> tuple[datetime, bool]:
    """'27/09/2019 - 06:20 PM' -> (datetime, has_time).  Raises ValueError if impossible."""
    m = _DATE_LINE_RE.match(text)
    if not m:
        raise ValueError(f"unrecognised date {text.strip()!r}")
    day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
    hour = minute = 0
    has_time = m.group(4) is not None
    if has_time:
        hour, minute = int(m.group(4)), int(m.group(5))
        ampm = (m.group(6) or "").lower()
        if ampm and not 1 <= hour <= 12:
            raise ValueError(f"impossible time in {text.strip()!r}")
        if ampm == "pm" and hour != 12:
            hour += 12
        elif ampm == "am" and hour == 12:
            hour = 0
    try:
        return datetime(year, month, day, hour, minute), has_time
    except ValueError:
        raise ValueError(f"impossible date {text.strip()!r}") from None


def _looks_like_signature(line: str) -> bool:
    words = line.split()
    stripped = " ".join(words)
    return 0 < len(words) <= 10 and len(stripped) <= 80 and not stripped.endswith(_SENTENCE_END)


def parse_article_text(text: str, id: str, where: str = "") -> tuple[Article | None, list[Problem]]:
    """Split a seed-style page into title, date, body, author; drop site chrome."""
    where = where or id
    problems: list[Problem] = []
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for i, line in enumerate(lines):
        # A title may start like chrome ("Chia sẻ kinh nghiệm…"); only a bare heading counts there.
        if (_CHROME_RE.match(_plain(line)) if i > 0 else _CHROME_HEADING_RE.fullmatch(_plain(line))):
            lines = lines[:i]
            break
    content = [(i, line) for i, line in enumerate(lines) if not _is_blank(line)]
    if not content:
        return None, [Problem(where, "empty file or only site chrome", id=id)]
    title = content[0][1].strip()
    if len(title) > MAX_TITLE_CHARS:  # no title line: the text starts at once
        problems.append(Problem(where, "no title line; the title is taken from the first words", skipped=False, id=id))
        content.insert(1, content[0])
        title = _title_from_text(title)
    date = None
    has_time = False
    date_text = None
    m = _TITLE_DATE_RE.search(title)
    if m:
        date_text = m.group(1)
        title = title[: m.start()].strip()
    rest = content[1:]
    # A repeated title (possibly with a date in parentheses) and a date line may follow.
    while rest:
        line = rest[0][1].strip()
        m = _TITLE_DATE_RE.search(line)
        if line == title or (m and line[: m.start()].strip() == title):
            date_text = m.group(1) if m else date_text
            rest = rest[1:]
        elif _DATE_LINE_RE.match(line) or re.match(r"^\d{1,2}/\d{1,2}/\d{4}\b", line):
            date_text = line
            rest = rest[1:]
        else:
            break
    if date_text:
        try:
            date, has_time = parse_date(date_text)
        except ValueError as exc:
            problems.append(Problem(where, str(exc), skipped=False, id=id))
    author = ""
    if len(rest) >= 2 and _looks_like_signature(rest[-1][1]):
        author = " ".join(rest[-1][1].split())
        rest = rest[:-1]
    body = "\n".join(line.rstrip() for _, line in rest)
    if not body.strip():
        return None, problems + [Problem(where, "no article text (title only, or only site chrome)", id=id)]
    return Article(id=id, title=title, body=body, date=date, has_time=has_time, author=author), problems


def _title_from_text(text: str) -> str:
    sentence = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
    words = sentence.split()
    return " ".join(words[:20]) + ("…" if len(words) > 20 else "")


def read_article_file(path: Path, id: str, origin: str, canonical: str | None = None
                       ) -> Iterator[Article | Problem]:
    where = str(path)
    if has_surrogates(id):
        yield Problem(where, "file name is not valid UTF-8", origin=origin)
        return
    reason = id_problem(id)
    if reason is not None:
        yield Problem(where, f"file name cannot be an article id: {reason}", origin=origin)
        return
    try:
        with open_regular(path) as fh:
            size = os.fstat(fh.fileno()).st_size
            data = fh.read(MAX_ARTICLE_BYTES + 1)  # the file may have grown since
        if size > MAX_ARTICLE_BYTES or len(data) > MAX_ARTICLE_BYTES:
            yield Problem(where, f"too large for a news article ({max(size, len(data)):,} bytes; the limit is "
                                 f"{MAX_ARTICLE_BYTES:,})", id=id, origin=origin)
            return
        text, note = decode_bytes(data)
    except DecodeError as exc:
        yield Problem(where, str(exc), id=id, origin=origin)
        return
    except NotRegular as exc:
        yield Problem(where, str(exc), id=id, origin=origin)
        return
    except OSError as exc:  # permission denied, I/O error: what else the folder holds is unknown too
        yield Problem(where, f"could not read: {exc.strerror or exc}", id=id, origin=origin, fails_source=True)
        return
    article, problems = parse_article_text(text, id, where)
    if note and article is not None:
        problems.insert(0, Problem(where, note, skipped=False, id=id))
    for p in problems:
        p.origin = origin
        yield p
    if article is not None:
        article.path = canonical or where
        article.origin = origin
        article.where = where
        yield article
