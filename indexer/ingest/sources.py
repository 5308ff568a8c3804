"""Reading articles: seed-style text files and JSON lines, tolerant of bad input.

A bad article never stops a run.  :func:`iter_articles` yields
:class:`Article` objects and :class:`Problem` reports side by side: a file
that cannot be decoded or holds no article text is skipped with its reason;
a field that cannot be parsed (a date such as 31/02/2020) is dropped and the
article is indexed without it; text in a legacy encoding (Windows-1258/1252)
or with damaged UTF-8 is read as well as it can be, with a warning (see
:func:`decode.decode_bytes`).  A source that cannot be read whole says so
(``Problem.fails_source``).  Files are only read, never modified.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from .articlefile import read_article_file
from .jsonl import iter_jsonl
from .records import Article, Problem, ReadMeter, Unchanged

__all__ = ["iter_articles", "origin_of"]

ARTICLE_SUFFIXES = (".txt",)
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")
NOT_SOURCES = (".json", ".json.gz")  # a JSON document (an array, often) is not one article per line


def origin_of(path: str | Path) -> str:
    """The key under which articles read from ``path`` are tracked: its absolute path with
    the folders above it resolved, so ``seeds``, ``./seeds/``, ``$PWD/seeds`` and ``.`` in it
    are one source.  The last step stays as named: ``articles -> releases/r2`` switched to
    ``releases/r3`` (a deploy) is still the source ``articles``, updated, not a new one.
    Links are resolved before ``..`` is applied: ``link/../x`` is the ``x`` beside the
    link's target, as the system reads it, not the ``x`` beside the link."""
    raw = os.path.join(os.getcwd(), os.fspath(path)).rstrip(os.sep) or os.sep
    last = os.path.basename(raw)
    if last in ("", ".", ".."):
        return os.path.realpath(raw)
    return os.path.join(os.path.realpath(os.path.dirname(raw)), last)


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


class _Read(NamedTuple):
    """A file to read: ``id`` for an article file (None: JSON lines), ``canonical`` the path its
    article records, ``size`` its size on disk (0 when not measured)."""

    path: Path
    id: str | None
    canonical: str | None
    size: int


def _size(path: Path, measure: bool) -> int:
    if not measure:
        return 0
    try:
        return os.stat(path).st_size
    except OSError:  # reading it says why
        return 0


def _listed(raw: str | Path, origin: str, measure: bool) -> tuple[list[Problem], list[_Read]]:
    """What is wrong with the source ``raw`` as listed, and the files it holds, sorted."""
    try:
        st = os.stat(raw)
    except OSError as exc:
        reason = "no such file or folder" if isinstance(exc, FileNotFoundError) else \
            f"could not read: {exc.strerror or exc}"
        return [Problem(str(raw), reason, origin=origin, fails_source=True)], []
    if stat.S_ISDIR(st.st_mode) and _is_jsonl(Path(raw)):
        return [Problem(str(raw), "a folder, not a JSON-lines file: not read", origin=origin, fails_source=True)], []
    if stat.S_ISDIR(st.st_mode):
        folder = Path(origin)  # walked as its canonical path: the articles' paths do not depend on spelling
        failures: list[Problem] = []
        files = _source_files(folder, origin, failures)
        return failures, [_Read(f, None if _is_jsonl(f) else f.relative_to(folder).as_posix(), None,
                                _size(f, measure)) for f in files]
    if Path(raw).name.endswith(NOT_SOURCES):
        return [Problem(str(raw), "a .json file is not read: a feed holds one article per line, named .jsonl, "
                                  ".jsonl.gz or .ndjson", origin=origin, fails_source=True)], []
    # A file is read and named as given (a link to a device stays a link).
    return [], [_Read(Path(raw), None if _is_jsonl(Path(raw)) else Path(raw).name, origin, st.st_size)]


def iter_articles(paths: list[str | Path], known: dict[bytes, tuple[str, str]] | None = None,
                  meter: ReadMeter | None = None) -> Iterator[Article | Problem | Unchanged]:
    """Every article under ``paths`` (folders are walked, sorted, hidden names skipped).

    ``known`` maps :func:`line_key` of JSON lines to the ``(id, hash)`` of their
    article: such a line is not parsed but reported :class:`Unchanged`.  A source
    that cannot be read whole (missing, unreadable, truncated) yields a Problem with
    ``fails_source`` set.  Paths are read as their canonical form (:func:`origin_of`).
    Every source is listed before the first is read: ``meter`` (if given) gets the size
    of them all, then counts the bytes read.
    """
    sources = [(origin, *_listed(raw, origin, meter is not None)) for origin, raw in
               ((origin_of(raw), raw) for raw in paths)]
    if meter is not None:
        meter.total += sum(read.size for _, _, reads in sources for read in reads)
    for origin, problems, reads in sources:
        yield from problems
        for read in reads:
            start = meter.done if meter is not None else 0
            if read.id is None:
                yield from iter_jsonl(read.path, origin, known, meter)
            else:
                yield from read_article_file(read.path, read.id, origin, canonical=read.canonical)
            if meter is not None:
                meter.done = start + read.size
