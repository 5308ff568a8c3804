"""Reading articles: seed-style text files and JSON lines, tolerant of bad input.

A bad article never stops a run.  :func:`iter_articles` yields
:class:`Article` objects and :class:`Problem` reports side by side: a file
that cannot be decoded or holds no article text is skipped with its reason;
a field that cannot be parsed (a date such as 31/02/2020) is dropped and the
article is indexed without it; text in a legacy encoding (Windows-1258/1252)
or with damaged UTF-8 is read as well as it can be, with a warning (see
:func:`decode_bytes`).  Files are only read, never modified.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import stat
import unicodedata
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Iterator

from .text.normalize import fold
from .text.syllables import is_well_spelled

__all__ = ["Article", "Problem", "Unchanged", "iter_articles", "parse_article_text", "decode_bytes", "origin_of",
           "id_problem", "MAX_ID_CHARS"]

ARTICLE_SUFFIXES = (".txt",)
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz")
# A news article is tens of kilobytes; anything past this is a dump, not an article.
MAX_ARTICLE_BYTES = 5 * 1024 * 1024
MAX_TITLE_CHARS = 300  # a longer first line is text, not a title
# What one JSON-lines source may cost before it is given up as not what it claims to be
# (its articles are then kept, see Problem.fails_source): a .gz inflating past
# MAX_INFLATION times its size (news text compresses 3-5x) once past INFLATION_FLOOR
# bytes, MAX_LINES_WITHOUT_ARTICLE lines in a row (blank ones too) yielding no article,
# or one line over MAX_SKIPPED_LINE bytes.
MAX_INFLATION = 100
INFLATION_FLOOR = 256 * 2**20
MAX_LINES_WITHOUT_ARTICLE = 10_000
MAX_SKIPPED_LINE = 64 * 2**20  # a "line" longer than this is not a record to skip but a file to give up
# Every indexed id must be servable as /article/<id>: the web layer refuses the rest, so
# the indexer refuses them too (one policy, :func:`id_problem`) rather than list dead links.
MAX_ID_CHARS = 512
_BAD_ID_RE = re.compile(r"[\x00-\x1f\x7f]|(^|/)\.\.(/|$)|^/|\\")


def id_problem(doc_id: str) -> str | None:
    """Why ``doc_id`` cannot be an article id (indexed and served), or None if it can."""
    if not doc_id.strip():
        return "empty id"
    if len(doc_id) > MAX_ID_CHARS:
        return f"id longer than {MAX_ID_CHARS} characters"
    if _BAD_ID_RE.search(doc_id):
        return "id holds a control character, a backslash, a leading '/' or a '..' path step"
    return None


@dataclass
class Article:
    """One article as indexed.  ``title``/``body``/``author`` are the text as written."""

    id: str
    title: str
    body: str
    date: datetime | None = None
    has_time: bool = False
    author: str = ""
    source: str = ""
    category: str = ""
    url: str = ""
    path: str = ""
    origin: str = ""
    where: str = field(default="", compare=False)  # file or file:line, for reports only
    line_key: bytes | None = field(default=None, compare=False)  # see Unchanged

    @cached_property
    def hash(self) -> str:
        """Changes whenever anything that is indexed or shown changes (computed once: an
        update compares it, and the worker that indexes the article stores it)."""
        from .schema import SCHEMA_VERSION

        # Each value length-prefixed, so no two different articles hash the same bytes.
        # (Not a JSON dump: an update hashes every article it reads, and escaping a
        # long body for JSON cost more than reading it.)
        digest = hashlib.sha1()
        for value in (SCHEMA_VERSION, self.title, self.body, self.date.isoformat() if self.date else "-",
                      "1" if self.has_time else "0", self.author, self.source, self.category, self.url,
                      self.path):
            data = value.encode("utf-8", "surrogatepass")
            digest.update(len(data).to_bytes(8, "little"))
            digest.update(data)
        return digest.hexdigest()


@dataclass
class Unchanged:
    """A JSON line read before byte for byte, whose article the index holds as it is:
    not parsed again.  ``line_key`` identifies the line (:func:`line_key`); the caller
    passes :func:`iter_articles` the keys it knows, checked against its index."""

    id: str
    hash: str
    origin: str
    where: str
    line_key: bytes


def line_key(path: Path, raw: bytes) -> bytes:
    """A JSON line's identity: its bytes and the file they were read from."""
    digest = hashlib.blake2b(os.fsencode(path), digest_size=16)
    digest.update(b"\0")
    digest.update(raw)
    return digest.digest()


@dataclass
class Problem:
    """Something wrong with the input.  ``skipped`` is False when the article was
    indexed without the bad field; ``id`` is set when the article is known (its
    previously indexed version is then kept, not deleted); ``fails_source`` when the
    source (``origin``) could not be read whole, so nothing it held may be removed."""

    where: str
    reason: str
    skipped: bool = True
    id: str | None = None
    origin: str = ""
    fails_source: bool = False

    def __post_init__(self) -> None:
        # A file name that is not UTF-8 must still print and serialise.
        self.where = self.where.encode("utf-8", "backslashreplace").decode("utf-8")

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}" + ("" if self.skipped else " (still indexed)")


class DecodeError(ValueError):
    pass


# --- decoding -------------------------------------------------------------
def decode_bytes(data: bytes) -> tuple[str, str | None]:
    """Bytes to text, and a note when the bytes were not clean UTF-8/UTF-16.

    UTF-8 and UTF-16 (with or without BOM) decode silently.  Anything else is
    still text a newsroom wants found, so rather than drop it: a character cut
    off at the end of a truncated file is dropped; UTF-8 with a few damaged
    bytes gets U+FFFD in their place; a legacy file is read as Windows-1258
    when that gives Vietnamese, else as Windows-1252.  Each of these returns a
    note saying so.  Raises :class:`DecodeError` with a reader-facing reason
    for binary data or bytes no encoding explains.  Line ends become ``\n``.
    """
    note = None
    if data.startswith(b"\xef\xbb\xbf"):
        text = _strict(data[3:], "utf-8", "invalid UTF-8 after a UTF-8 BOM")
    elif data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):  # before UTF-16's: it starts the same
        text = _strict(data, "utf-32", "invalid UTF-32")
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = _strict(data, "utf-16", "invalid UTF-16")
    elif b"\x00" in data:
        guess = _utf16_without_bom(data)
        if guess is None:
            raise DecodeError("binary file (contains NUL bytes)")
        text = _strict(data, guess, "invalid UTF-16")
    else:
        controls = sum(data.count(b) for b in _CONTROL_BYTES)
        if controls > max(2, len(data) // 100):
            raise DecodeError("binary file (control characters)")
        text, note = decode_text(data)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    controls = sum(1 for c in text if unicodedata.category(c) == "Cc" and c not in "\n\t")
    if controls > max(2, len(text) // 100):
        raise DecodeError("binary file (control characters)")
    return text, note


_CONTROL_BYTES = [bytes([b]) for b in range(32) if b not in (9, 10, 12, 13)] + [b"\x7f"]


def decode_text(data: bytes) -> tuple[str, str | None]:
    """Text bytes without BOM: UTF-8, else damaged UTF-8, Windows-1258 or Windows-1252."""
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        first_error = exc
    if first_error.reason == "unexpected end of data" and len(data) - first_error.start < 4:
        return data[: first_error.start].decode("utf-8", errors="replace"), \
            "truncated file: an incomplete character at the end was dropped"
    replaced = data.decode("utf-8", errors="replace")
    bad = replaced.count("\ufffd")
    good = sum(1 for c in replaced if ord(c) > 127 and c != "\ufffd")
    if good >= 4 * bad:  # mostly UTF-8: a few bytes were damaged
        return replaced, f"{bad} invalid UTF-8 byte sequence(s) replaced by \ufffd (first at byte {first_error.start})"
    try:
        legacy = unicodedata.normalize("NFC", data.decode("cp1258"))
    except UnicodeDecodeError:
        legacy = None
    if legacy is not None and _reads_as_vietnamese(legacy):
        return legacy, "not UTF-8: read as Windows-1258 (Vietnamese)"
    try:
        western = data.decode("cp1252")
    except UnicodeDecodeError:
        western = None
    # Western European text is mostly ASCII letters; Russian (KOI8-R), Chinese (GB18030)
    # and the like decoded as Windows-1252 are mostly accented capitals: garbage to index.
    if western is not None and _mostly_ascii_letters(western):
        return western, "not UTF-8: read as Windows-1252"
    raise DecodeError(f"not valid UTF-8 (at byte {first_error.start}), nor Vietnamese in Windows-1258 nor "
                      "Western text in Windows-1252: an unsupported legacy encoding") from None


_WORD_RE = re.compile(r"\w+")


def _reads_as_vietnamese(text: str) -> bool:
    """Whether words with marks are Vietnamese syllables: 85-100% of them in real articles
    read this way, under 50% for Russian or Chinese bytes decoded as Windows-1258."""
    marked = [w for w in _WORD_RE.findall(text[:20_000].lower()) if not w.isascii()]
    if len(marked) < 3:
        return False
    return sum(map(is_well_spelled, marked)) >= 0.7 * len(marked)


def _mostly_ascii_letters(text: str) -> bool:
    letters = [c for c in text[:20_000] if c.isalpha()]
    return sum(1 for c in letters if not c.isascii()) <= 0.3 * len(letters)


def _strict(data: bytes, encoding: str, reason: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise DecodeError(f"{reason} at byte {exc.start}") from None


def _utf16_without_bom(data: bytes) -> str | None:
    """Text in UTF-16 without a BOM has a NUL in every other byte for Latin text."""
    sample = data[:4096]
    if len(sample) < 4:
        return None
    even = sample[0::2].count(0) / (len(sample) / 2)
    odd = sample[1::2].count(0) / (len(sample) / 2)
    if odd > 0.3 and even < 0.05:
        return "utf-16-le"
    if even > 0.3 and odd < 0.05:
        return "utf-16-be"
    return None


# --- seed-style article files ---------------------------------------------
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


_SURROGATE_ESCAPE_RE = re.compile(rb"\\u[dD][89a-fA-F]")


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True


# --- JSON lines -----------------------------------------------------------
_JSON_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?")


def _json_date(value: str) -> tuple[datetime, bool]:
    m = _JSON_DATE_RE.match(value.strip())
    if not m:
        raise ValueError(f"unrecognised date {value!r}")
    parts = [int(p) if p else 0 for p in m.groups()]
    try:
        return datetime(*parts[:3], parts[3], parts[4], parts[5]), m.group(4) is not None
    except ValueError:
        raise ValueError(f"impossible date {value!r}") from None


def parse_json_record(record: object, where: str, surrogates: bool = True) -> tuple[Article | None, list[Problem]]:
    """An article from one decoded JSON record, with what was wrong with it.

    ``surrogates=False``: the caller knows no string holds a lone UTF-16 surrogate
    (its JSON text has no ``\\uD800``-``\\uDFFF`` escape), and the check is skipped.
    """
    if not isinstance(record, dict):
        return None, [Problem(where, f"expected a JSON object, got {type(record).__name__}")]
    rid = record.get("id")
    if isinstance(rid, bool) or not isinstance(rid, (str, int)) or str(rid).strip() == "":
        return None, [Problem(where, "missing or invalid 'id'")]
    rid = str(rid).strip()
    if surrogates and _has_surrogates(rid):
        return None, [Problem(where, "'id' holds an invalid character (a lone UTF-16 surrogate)")]
    reason = id_problem(rid)
    if reason is not None:
        return None, [Problem(where, f"'id' cannot be an article id: {reason}")]
    problems: list[Problem] = []
    values: dict[str, str] = {}
    for key in ("title", "body", "category", "url", "source", "author"):
        value = record.get(key)
        if value is None:
            values[key] = ""
        elif isinstance(value, str):
            if surrogates and _has_surrogates(value):  # "\ud800" is valid JSON but not text
                value = value.encode("utf-8", "replace").decode("utf-8")
                problems.append(Problem(where, f"'{key}': lone UTF-16 surrogates replaced by '?'", False, rid))
            values[key] = value.replace("\r\n", "\n").replace("\r", "\n")
        else:
            values[key] = ""
            if key in ("title", "body"):
                return None, [Problem(where, f"'{key}' must be a string, got {type(value).__name__}", id=rid)]
            problems.append(Problem(where, f"'{key}' must be a string, got {type(value).__name__}", False, rid))
    if not values["body"].strip() and not values["title"].strip():
        return None, problems + [Problem(where, "no title and no body", id=rid)]
    date, has_time = None, False
    raw_date = record.get("date")
    if raw_date not in (None, ""):
        try:
            if not isinstance(raw_date, str):
                raise ValueError(f"'date' must be a string, got {type(raw_date).__name__}")
            date, has_time = _json_date(raw_date)
        except ValueError as exc:
            problems.append(Problem(where, str(exc), skipped=False, id=rid))
    article = Article(
        id=rid, title=values["title"].strip(), body=values["body"], date=date, has_time=has_time,
        author=values["author"].strip(), source=values["source"].strip(),
        category=values["category"].strip(), url=values["url"].strip(),
    )
    return article, problems


def _iter_jsonl(path: Path, origin: str, known: dict[bytes, tuple[str, str]] | None = None
                ) -> Iterator[Article | Problem | Unchanged]:
    """The articles of a JSON-lines file, reading at most a line's limit at a time.

    Whatever stops the reading part-way (a truncated or damaged gzip stream, an I/O
    error, a guard below) is a Problem with ``fails_source``: the caller then removes
    nothing this source held, since what it no longer holds is unknown.
    """
    where = str(path)
    try:
        fh = _open_regular(path)
    except NotRegular as exc:
        yield Problem(where, str(exc), origin=origin, fails_source=True)
        return
    except OSError as exc:
        yield Problem(where, f"could not open: {exc.strerror or exc}", origin=origin, fails_source=True)
        return
    opened = os.fstat(fh.fileno())
    stored = opened.st_size
    gz = path.name.endswith(".gz")
    if gz and stored == 0:  # even a gzip of nothing has a header: a copy cut short, not "no articles"
        fh.close()
        yield Problem(where, "empty file, not a gzip stream", origin=origin, fails_source=True)
        return
    articles = bad = without_article = read = 0
    try:
        with fh, (gzip.GzipFile(fileobj=fh, mode="rb") if gz else fh) as stream:
            for lineno, (raw, size, ended) in enumerate(_bounded_lines(stream, MAX_ARTICLE_BYTES), 1):
                read += size
                if gz and read > max(MAX_INFLATION * stored, INFLATION_FLOOR):
                    yield Problem(where, f"decompresses to over {MAX_INFLATION}x its size ({read:,} bytes from "
                                         f"{stored:,}): not read further", origin=origin, fails_source=True)
                    return
                without_article += 1
                if without_article > MAX_LINES_WITHOUT_ARTICLE:
                    yield Problem(where, f"no article in {MAX_LINES_WITHOUT_ARTICLE:,} lines in a row: not a JSON-lines "
                                         "file of articles, not read further", origin=origin, fails_source=True)
                    return
                if raw is None and size > MAX_SKIPPED_LINE:
                    yield Problem(where, f"line {lineno} is over {MAX_SKIPPED_LINE:,} bytes: not a JSON-lines file of "
                                         "articles, not read further", origin=origin, fails_source=True)
                    return
                if raw is not None and not raw.strip():
                    continue
                item_where = f"{path}:{lineno}"
                if raw is None:
                    bad += 1
                    yield Problem(item_where, f"record too large for a news article ({size:,} bytes; the limit is "
                                              f"{MAX_ARTICLE_BYTES:,})", origin=origin)
                    continue
                for item in _parse_json_line(path, raw, lineno, item_where, origin, known):
                    if isinstance(item, Problem):
                        bad += item.skipped
                        # A last line cut short is the mark of a file copied or written part-way.
                        if not ended and item.skipped and item.reason.startswith("invalid JSON"):
                            item.reason += " (the last line has no end: the file looks cut short)"
                            item.fails_source = True
                    else:
                        articles += 1
                        without_article = 0
                    yield item
            if _changed(opened, fh):
                yield Problem(where, "changed while it was read (written in place, not replaced by a rename): read "
                                     "again next time", origin=origin, fails_source=True)
                return
    except (OSError, EOFError, zlib.error) as exc:
        yield Problem(where, f"could not read further: {exc}", origin=origin, fails_source=True)
        return
    if bad and not articles:
        yield Problem(where, "no line of it is an article: not a JSON-lines file of articles", origin=origin,
                      fails_source=True)


def _changed(opened: os.stat_result, fh) -> bool:
    """Whether the open file was written to since ``opened``: a feed rewritten in place
    while read may have lost what followed the point read (a rename leaves the open file
    whole)."""
    now = os.fstat(fh.fileno())
    return (now.st_size, now.st_mtime_ns) != (opened.st_size, opened.st_mtime_ns)


def _parse_json_line(path: Path, raw: bytes, lineno: int, where: str, origin: str,
                     known: dict[bytes, tuple[str, str]] | None) -> Iterator[Article | Problem | Unchanged]:
    key = line_key(path, raw)
    if known is not None:
        hit = known.get(key)
        if hit is not None:
            yield Unchanged(hit[0], hit[1], origin, where, key)
            return
    if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        line, note = decode_text(raw)
        record = json.loads(line)
    except DecodeError as exc:
        yield Problem(where, str(exc), origin=origin)
        return
    except ValueError as exc:
        yield Problem(where, f"invalid JSON: {exc}", origin=origin)
        return
    except RecursionError:
        yield Problem(where, "invalid JSON: nested too deeply", origin=origin)
        return
    # A lone surrogate can only come from a \uD800-\uDFFF escape (UTF-8 has none).
    article, problems = parse_json_record(record, where, _SURROGATE_ESCAPE_RE.search(raw) is not None)
    if note and article is not None:
        problems.insert(0, Problem(where, note, skipped=False, id=article.id))
    for p in problems:
        p.origin = origin
        yield p
    if article is not None:
        article.origin = origin
        article.where = where
        if not problems:  # a line read with a warning is read again, to warn again
            article.line_key = key
        yield article


def _bounded_lines(stream, limit: int) -> Iterator[tuple[bytes | None, int, bool]]:
    """``(line, size, ended)`` triples, ``ended`` False for a last line with no newline; a
    line over ``limit`` bytes is skipped a megabyte at a time, never held whole, and comes
    as ``(None, size, ended)``; skipping stops past ``MAX_SKIPPED_LINE`` bytes."""
    while True:
        raw = stream.readline(limit + 1)
        if not raw:
            return
        if len(raw) <= limit:
            yield raw, len(raw), raw.endswith(b"\n")
            continue
        size = len(raw)
        while raw and not raw.endswith(b"\n") and size <= MAX_SKIPPED_LINE:
            raw = stream.readline(1 << 20)
            size += len(raw)
        yield None, size, raw.endswith(b"\n")


class NotRegular(OSError):
    """A path that is a FIFO, a device or a socket: reading it could block or never end."""


_FILE_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
               (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"))


def _open_regular(path: Path):
    """``path`` opened for binary reading, if it is a regular file (symbolic links followed).

    Opened without blocking, then checked on the open descriptor: a FIFO checked first
    and opened after could block the run for ever (or be swapped in between).
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _FILE_KINDS if test(mode)), "not a regular file")
            raise NotRegular(f"{kind}, not a regular file: not read")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _read_article_file(path: Path, id: str, origin: str, canonical: str | None = None
                       ) -> Iterator[Article | Problem]:
    where = str(path)
    if _has_surrogates(id):
        yield Problem(where, "file name is not valid UTF-8", origin=origin)
        return
    reason = id_problem(id)
    if reason is not None:
        yield Problem(where, f"file name cannot be an article id: {reason}", origin=origin)
        return
    try:
        with _open_regular(path) as fh:
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


def origin_of(path: str | Path) -> str:
    """The key under which articles read from ``path`` are tracked: its absolute path with
    the folders above it resolved, so ``seeds``, ``./seeds/``, ``$PWD/seeds`` and ``.`` in it
    are one source.  The last step stays as named: ``articles -> releases/r2`` switched to
    ``releases/r3`` (a deploy) is still the source ``articles``, updated, not a new one."""
    absolute = os.path.abspath(path)
    return os.path.join(os.path.realpath(os.path.dirname(absolute)), os.path.basename(absolute))


def _is_jsonl(path: Path) -> bool:
    return path.name.endswith(JSONL_SUFFIXES)


def _source_files(folder: Path, origin: str, failures: list[Problem]) -> list[Path]:
    """Article and JSON-lines files under ``folder``, sorted, hidden names skipped; a
    subfolder that cannot be listed is a failure (os.walk would pass over it silently)."""
    def failed(exc: OSError) -> None:
        failures.append(Problem(str(exc.filename or folder), f"could not list folder: {exc.strerror or exc}",
                                origin=origin, fails_source=True))

    files = []
    for dirpath, dirnames, filenames in os.walk(folder, onerror=failed):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith(".") and (name.endswith(ARTICLE_SUFFIXES) or name.endswith(JSONL_SUFFIXES)):
                files.append(Path(dirpath) / name)
    return files


def iter_articles(paths: list[str | Path], known: dict[bytes, tuple[str, str]] | None = None
                  ) -> Iterator[Article | Problem | Unchanged]:
    """Every article under ``paths`` (folders are walked, sorted, hidden names skipped).

    ``known`` maps :func:`line_key` of JSON lines to the ``(id, hash)`` of their
    article: such a line is not parsed but reported :class:`Unchanged`.  A source
    that cannot be read whole (missing, unreadable, truncated) yields a Problem with
    ``fails_source`` set.  Paths are read as their canonical form (:func:`origin_of`).
    """
    for raw in paths:
        origin = origin_of(raw)
        try:
            mode = os.stat(raw).st_mode
        except OSError as exc:
            reason = "no such file or folder" if isinstance(exc, FileNotFoundError) else \
                f"could not read: {exc.strerror or exc}"
            yield Problem(str(raw), reason, origin=origin, fails_source=True)
            continue
        if stat.S_ISDIR(mode) and _is_jsonl(Path(raw)):
            yield Problem(str(raw), "a folder, not a JSON-lines file: not read", origin=origin, fails_source=True)
        elif stat.S_ISDIR(mode):
            folder = Path(origin)  # walked as its canonical path: the articles' paths do not depend on spelling
            failures: list[Problem] = []
            files = _source_files(folder, origin, failures)
            yield from failures
            for file in files:
                if _is_jsonl(file):
                    yield from _iter_jsonl(file, origin, known)
                else:
                    yield from _read_article_file(file, file.relative_to(folder).as_posix(), origin)
        elif _is_jsonl(Path(raw)):  # a file is read and named as given (a link to a device stays a link)
            yield from _iter_jsonl(Path(raw), origin, known)
        else:
            yield from _read_article_file(Path(raw), Path(raw).name, origin, canonical=origin)
