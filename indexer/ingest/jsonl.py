"""JSON-lines feeds (``.jsonl``, ``.jsonl.gz``): one article per line, read with bounded
memory and time whatever the file holds."""

from __future__ import annotations

import gzip
import json
import os
import re
import zlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from .decode import DecodeError, decode_text
from .files import NotRegular, open_regular
from .records import MAX_ARTICLE_BYTES, Article, Problem, ReadMeter, Unchanged, has_surrogates, id_problem, line_key

__all__ = ["iter_jsonl", "parse_json_record"]

# What one JSON-lines source may cost before it is given up as not what it claims to be
# (its articles are then kept, see Problem.fails_source): a .gz inflating past
# MAX_INFLATION times its size (news text compresses 3-5x) once past INFLATION_FLOOR
# bytes, MAX_LINES_WITHOUT_ARTICLE lines in a row (blank ones too) yielding no article,
# or one line over MAX_SKIPPED_LINE bytes.
MAX_INFLATION = 100
INFLATION_FLOOR = 256 * 2**20
MAX_LINES_WITHOUT_ARTICLE = 10_000
MAX_SKIPPED_LINE = 64 * 2**20  # a "line" longer than this is not a record to skip but a file to give up

_SURROGATE_ESCAPE_RE = re.compile(rb"\\u[dD][89a-fA-F]")


_JSON_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?")


def _json_date(value: str) -> tuple[datetime, bool]:
    m = _JSON_DATE_RE.match(value.strip())
    if not m:
        raise ValueError(f"unrecognised date {value!r}")
    parts = [int(p) if p else 0 for p in m.groups()]
    try:
        return datetime(parts[0], parts[1], parts[2], parts[3], parts[4], parts[5]), m.group(4) is not None
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
    if surrogates and has_surrogates(rid):
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
            if surrogates and has_surrogates(value):  # "\ud800" is valid JSON but not text
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


def iter_jsonl(path: Path, origin: str, known: dict[bytes, tuple[str, str]] | None = None,
               meter: ReadMeter | None = None) -> Iterator[Article | Problem | Unchanged]:
    """The articles of a JSON-lines file, reading at most a line's limit at a time; ``meter.done``
    counts the bytes read of the file as it is on disk.

    Whatever stops the reading part-way (a truncated or damaged gzip stream, an I/O
    error, a guard below) is a Problem with ``fails_source``: the caller then removes
    nothing this source held, since what it no longer holds is unknown.
    """
    where = str(path)
    try:
        fh = open_regular(path)
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
    start = meter.done if meter is not None else 0
    try:
        with fh, (gzip.GzipFile(fileobj=fh, mode="rb") if gz else fh) as stream:
            for lineno, (raw, size, ended) in enumerate(_bounded_lines(stream, MAX_ARTICLE_BYTES), 1):
                read += size
                if meter is not None:  # compressed bytes for a .gz: what its size on disk counts
                    meter.done = start + (fh.tell() if gz else read)
                if gz and read > max(MAX_INFLATION * stored, INFLATION_FLOOR):
                    yield Problem(where, f"decompresses to over {MAX_INFLATION}x its size ({read:,} bytes from "
                                         f"{stored:,}): not read further", origin=origin, fails_source=True)
                    return
                without_article += 1
                if without_article > MAX_LINES_WITHOUT_ARTICLE:
                    yield Problem(where, f"no article in {MAX_LINES_WITHOUT_ARTICLE:,} lines in a row: not a "
                                         "JSON-lines file of articles, not read further",
                                  origin=origin, fails_source=True)
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
