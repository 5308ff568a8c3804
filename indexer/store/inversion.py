"""Inverting a segment's term lists into sorted postings, with NumPy.

An article's text fields arrive as lists of terms (``build.analyze_article``),
about 690 terms and 335 postings per article.  Whoosh's posting pool keeps a
Python tuple per posting, sorts them all, and spills runs of them to disk and
reads them back one object at a time: for a full build that is half of the
writing time.  Here a field's terms are numbered as they arrive (one dict
lookup per term) and only those numbers are kept, four bytes each; every
``chunk_terms`` of them are inverted at once by a stable sort (positions and
documents keep their order) into compact arrays, spilled to a temporary file.
At the end the chunks are read back a window of the sorted lexicon at a time
and each term is handed over with its documents, frequencies and positions as
arrays, in Whoosh's term order.  What Whoosh writes from them is unchanged
(``writer.py``; ``tests/test_writer.py`` compares every segment file).
"""

from __future__ import annotations

import os
import uuid
from array import array
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

__all__ = ["TermInverter", "Window"]


class _Vocab(dict):
    """A field's term -> number, new terms numbered on first sight into a shared key list."""

    __slots__ = ("fieldname", "key_list", "flags", "positional")  # not "keys": dict.keys stays a method

    def __init__(self, fieldname: str, keys: list[tuple[str, bytes]], flags: array, positional: bool):
        super().__init__()
        self.fieldname = fieldname
        self.key_list = keys
        self.flags = flags
        self.positional = positional

    def __missing__(self, term: str) -> int:
        number = self[term] = len(self.key_list)
        self.key_list.append((self.fieldname, term.encode("utf-8")))
        self.flags.append(self.positional)
        return number


@dataclass
class Window:
    """Consecutive terms of one field with their postings: term ``k``'s postings are
    ``term_at[k]:term_at[k + 1]`` (documents ascending, each with its frequency) and its
    positions ``pos_at[k]:pos_at[k + 1]``, each posting's in order, one after the other."""

    fieldname: str
    has_positions: bool
    btexts: list[bytes]
    term_at: np.ndarray     # int64, len(btexts) + 1
    pos_at: np.ndarray      # int64, len(btexts) + 1
    docs: np.ndarray        # int64 docnums
    freqs: np.ndarray       # int64
    positions: np.ndarray   # int64


@dataclass
class _Chunk:
    """An inverted chunk: terms sorted by key, their posting and position offsets, and
    the arrays themselves, in memory or at byte ``offsets`` of ``path``."""

    terms: np.ndarray        # term numbers in key order
    post_at: np.ndarray      # int64, len(terms) + 1
    pos_at: np.ndarray       # int64, len(terms) + 1
    path: str | None = None
    offsets: tuple[int, int, int] = (0, 0, 0)  # docs, freqs, positions
    docs: np.ndarray | None = None
    freqs: np.ndarray | None = None
    positions: np.ndarray | None = None

    def read(self, first: int, last: int, f=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Docs, freqs and positions of terms ``first:last`` (indexes into ``terms``)."""
        p0, p1 = int(self.post_at[first]), int(self.post_at[last])
        q0, q1 = int(self.pos_at[first]), int(self.pos_at[last])
        if self.path is None:  # in memory: the arrays are set until the chunk is spilled
            assert self.docs is not None and self.freqs is not None and self.positions is not None
            return self.docs[p0:p1], self.freqs[p0:p1], self.positions[q0:q1]
        out = []
        for offset, start, stop in ((self.offsets[0], p0, p1), (self.offsets[1], p0, p1),
                                    (self.offsets[2], q0, q1)):
            f.seek(offset + 4 * start)
            out.append(np.fromfile(f, dtype=np.uint32, count=stop - start))
        return out[0], out[1], out[2]


class TermInverter:
    """Collects documents' term lists and yields each term's postings in key order.

    ``chunk_terms`` bounds the term numbers held before a chunk is inverted and
    spilled to ``folder`` (the inversion's temporary arrays take about 60 bytes
    a term); reading back takes ``window_postings`` postings at a time.
    """

    def __init__(self, folder: str, chunk_terms: int = 2_000_000, window_postings: int = 1_000_000):
        self.folder = folder
        self.chunk_terms = max(1, int(chunk_terms))
        self.window_postings = max(1, int(window_postings))
        self.keys: list[tuple[str, bytes]] = []
        self._positional = array("b")  # per term number: does its field keep positions
        self._vocabs: dict[str, _Vocab] = {}
        self._chunks: list[_Chunk] = []
        self._reset()

    def _reset(self) -> None:
        self._terms = array("I")   # term numbers, in document and position order
        self._lengths = array("I")  # terms per (document, field)
        self._docnums = array("I")  # the document of each (document, field)

    @property
    def spilled(self) -> int:
        """Chunks written to disk so far."""
        return sum(1 for c in self._chunks if c.path is not None)

    def add(self, fieldname: str, docnum: int, terms: list[str], positions: bool = True) -> None:
        """A document's terms of one field, positions 0, 1, ... in list order (kept if
        ``positions``; a field must always be added the same way)."""
        if not terms:
            return
        vocab = self._vocabs.get(fieldname)
        if vocab is None:
            vocab = self._vocabs[fieldname] = _Vocab(fieldname, self.keys, self._positional, positions)
        self._terms.extend(map(vocab.__getitem__, terms))
        self._lengths.append(len(terms))
        self._docnums.append(docnum)
        if len(self._terms) >= self.chunk_terms:
            self._spill(self._invert())

    def _invert(self) -> _Chunk | None:
        """The buffered terms as postings grouped by term, terms in key order."""
        if not self._terms:
            return None
        terms = np.frombuffer(self._terms, dtype=np.uint32)
        lengths = np.frombuffer(self._lengths, dtype=np.uint32).astype(np.int64)
        docnums = np.frombuffer(self._docnums, dtype=np.uint32)
        present = np.unique(terms)
        keys = self.keys
        by_key = present[np.asarray(sorted(range(len(present)), key=lambda i: keys[present[i]]),
                                    dtype=np.int64)] if len(present) > 1 else present
        rank = np.empty(len(keys), dtype=np.int64)
        rank[by_key] = np.arange(len(by_key))
        term_ranks = rank[terms]
        order = np.argsort(term_ranks, kind="stable")  # by term; document and position order kept
        group = np.repeat(np.arange(len(lengths)), lengths)  # (document, field) of each term
        starts = np.cumsum(lengths) - lengths
        positions = (np.arange(len(terms), dtype=np.int64) - np.repeat(starts, lengths))[order]
        group = group[order]
        sorted_ranks = term_ranks[order]
        new = np.empty(len(order), dtype=bool)
        new[0] = True
        np.not_equal(group[1:], group[:-1], out=new[1:])
        new[1:] |= sorted_ranks[1:] != sorted_ranks[:-1]
        first = np.flatnonzero(new)  # each posting's first position
        freqs = np.diff(np.append(first, len(order)))
        posting_ranks = sorted_ranks[first]
        post_at = np.searchsorted(posting_ranks, np.arange(len(by_key) + 1))
        keep = np.frombuffer(self._positional, dtype=np.int8)[terms[order]].astype(bool)
        kept_before = np.concatenate(([0], np.cumsum(keep)))  # positions kept before each term
        pos_at = kept_before[np.append(first, len(order))[post_at]]
        self._reset()
        return _Chunk(terms=by_key.astype(np.uint32), post_at=post_at.astype(np.int64),
                      pos_at=pos_at.astype(np.int64), docs=docnums[group[first]].astype(np.uint32),
                      freqs=freqs.astype(np.uint32), positions=positions[keep].astype(np.uint32))

    def _spill(self, chunk: _Chunk | None) -> None:
        if chunk is None:
            return
        path = os.path.join(self.folder, f"inv-{uuid.uuid4().hex}.chunk")
        offsets = []
        with open(path, "wb") as f:
            for data in (chunk.docs, chunk.freqs, chunk.positions):
                assert data is not None  # a chunk is spilled once, from memory
                offsets.append(f.tell())
                f.write(data.tobytes())
        chunk.path, chunk.offsets = path, (offsets[0], offsets[1], offsets[2])
        chunk.docs = chunk.freqs = chunk.positions = None
        self._chunks.append(chunk)

    def cleanup(self) -> None:
        """Delete the spilled chunks (also done once :meth:`windows` is exhausted)."""
        for chunk in self._chunks:
            if chunk.path is not None:
                try:
                    os.remove(chunk.path)
                except FileNotFoundError:
                    pass
        self._chunks = []
        self._reset()

    def windows(self) -> Iterator[Window]:
        """Every term with its postings, in ``(fieldname, btext)`` order; consumes the inverter."""
        last = self._invert()
        if last is not None:
            self._chunks.append(last)
        chunks, keys = self._chunks, self.keys
        try:
            if not chunks:
                return
            order = np.asarray(sorted(range(len(keys)), key=keys.__getitem__), dtype=np.int64)
            rank = np.empty(len(keys), dtype=np.int64)
            rank[order] = np.arange(len(keys))
            flags = np.frombuffer(self._positional, dtype=np.int8)[order].astype(np.int64)
            ranks = [rank[c.terms] for c in chunks]  # ascending: chunks are in key order
            counts = np.zeros(len(keys), dtype=np.int64)
            for c, r in zip(chunks, ranks):
                counts[r] += np.diff(c.post_at)
            total = np.cumsum(counts)
            bounds = [0]
            while bounds[-1] < len(keys):
                done = total[bounds[-1] - 1] if bounds[-1] else 0
                nxt = int(np.searchsorted(total, done + self.window_postings, side="right"))
                bounds.append(min(len(keys), max(nxt, bounds[-1] + 1)))
            files = [open(c.path, "rb") if c.path else None for c in chunks]
            try:
                for lo, hi in zip(bounds, bounds[1:]):
                    yield from self._window(chunks, ranks, files, lo, hi, order, flags)
            finally:
                for f in files:
                    if f is not None:
                        f.close()
        finally:
            self.cleanup()

    def _window(self, chunks, ranks, files, lo: int, hi: int, order, flags) -> Iterator[Window]:
        """Terms ranked ``lo:hi``: each chunk's share, in chunk (= document) order.
        ``flags[rank]``: 1 if the term's field keeps positions."""
        parts = []
        for c, r, f in zip(chunks, ranks, files):
            i0, i1 = np.searchsorted(r, [lo, hi])
            if i0 == i1:
                continue
            docs, freqs, positions = c.read(int(i0), int(i1), f)
            posting_ranks = np.repeat(r[i0:i1], np.diff(c.post_at[i0:i1 + 1]))
            parts.append((posting_ranks, docs, freqs, positions))
        if not parts:
            return
        if len(parts) == 1:
            posting_ranks, docs, freqs, positions = parts[0]
            docs, freqs, positions = (a.astype(np.int64) for a in (docs, freqs, positions))
        else:
            posting_ranks = np.concatenate([p[0] for p in parts])
            docs = np.concatenate([p[1] for p in parts]).astype(np.int64)
            freqs = np.concatenate([p[2] for p in parts]).astype(np.int64)
            positions = np.concatenate([p[3] for p in parts]).astype(np.int64)
            by_term = np.argsort(posting_ranks, kind="stable")  # a term's documents stay ascending
            moved = np.empty_like(by_term)
            moved[by_term] = np.arange(len(by_term))
            owner = np.repeat(moved, freqs * flags[posting_ranks])  # each position's posting, renumbered
            positions = positions[np.argsort(owner, kind="stable")]
            posting_ranks, docs, freqs = posting_ranks[by_term], docs[by_term], freqs[by_term]
        term_at = np.append(np.flatnonzero(np.diff(posting_ranks, prepend=-1)), len(posting_ranks))
        pos_at = np.concatenate(([0], np.cumsum(freqs * flags[posting_ranks])))[term_at]
        keys = self.keys
        names = [keys[t] for t in order[posting_ranks[term_at[:-1]]].tolist()]
        start = 0
        while start < len(names):  # a window may span fields: one Window per field
            fieldname = names[start][0]
            stop = start + 1
            while stop < len(names) and names[stop][0] == fieldname:
                stop += 1
            a, b = int(term_at[start]), int(term_at[stop])
            q0, q1 = int(pos_at[start]), int(pos_at[stop])
            yield Window(fieldname, bool(flags[posting_ranks[a]]), [k[1] for k in names[start:stop]],
                         term_at[start:stop + 1] - a, pos_at[start:stop + 1] - q0, docs[a:b], freqs[a:b],
                         positions[q0:q1])
            start = stop
