"""What reading articles produces: :class:`Article` records, :class:`Problem` reports,
:class:`Unchanged` lines, and the id policy shared with the web layer."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

__all__ = ["Article", "MAX_ARTICLE_BYTES", "MAX_ID_CHARS", "Problem", "ReadMeter", "Unchanged", "has_surrogates",
           "id_problem", "line_key"]

# A news article is tens of kilobytes; anything past this is a dump, not an article.
MAX_ARTICLE_BYTES = 5 * 1024 * 1024
MAX_TITLE_CHARS = 300  # a longer first line is text, not a title
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

    _hashes: dict[str, str] = field(default_factory=dict, init=False, compare=False, repr=False)

    def content_hash(self, version: str) -> str:
        """Changes whenever anything that is indexed or shown changes, or ``version`` (the
        index schema's: a new one re-indexes everything).  Computed once per version: an
        update compares it, and the worker that indexes the article stores it."""
        cached = self._hashes.get(version)
        if cached is not None:
            return cached
        # Each value length-prefixed, so no two different articles hash the same bytes.
        # (Not a JSON dump: an update hashes every article it reads, and escaping a
        # long body for JSON cost more than reading it.)
        digest = hashlib.sha1()
        for value in (version, self.title, self.body, self.date.isoformat() if self.date else "-",
                      "1" if self.has_time else "0", self.author, self.source, self.category, self.url,
                      self.path):
            data = value.encode("utf-8", "surrogatepass")
            digest.update(len(data).to_bytes(8, "little"))
            digest.update(data)
        self._hashes[version] = digest.hexdigest()
        return self._hashes[version]


@dataclass
class ReadMeter:
    """How far a run has read its sources, for a progress bar: ``done`` of ``total`` bytes as the
    files are on disk (a ``.gz`` counted compressed), every source listed before the first is read."""

    total: int = 0
    done: int = 0


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


def has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True
