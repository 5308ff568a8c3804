"""Per-segment posting arrays: what vectorised search (``vectorized.py``) reads.

Whoosh stores each block of 128 postings as a zlib-compressed pickle of Python
tuples, so reading a common syllable's 50,000 postings costs ~40 ms before a
single document is scored, and its matchers then spend microseconds per
posting in Python.  After every commit each segment gets a directory
``vec_<segid>/`` beside it holding the same postings as flat NumPy arrays
(memory-mapped at search time):

* ``keys.bin``/``key_offsets.npy``: the sorted terms, ``field \\x1f term`` in UTF-8;
* ``term_postings.npy``/``term_positions.npy``: where each term's postings and
  positions start;
* ``docs.npy`` (segment-local docnums), ``tfs.npy`` (term frequencies),
  ``positions.npy`` (syllable positions, per posting in docnum order);
* ``fold_keys.bin``/``fold_offsets.npy``/``fold_members.npy``/``fold_df.npy``:
  for each folded syllable, the terms of the exact field that fold to it and
  the number of documents holding any of them (the ``*_fold`` fields have no
  postings of their own: they are unions of their variants, see ``folded.py``);
* ``lengths_<field>.npy``, ``date.npy``, ``year.npy``, ``category.npy``: the
  per-document values BM25, filters and facets need.

The arrays are derived from the postings Whoosh writes, never from analysis
output, so they hold exactly what Whoosh would match: the segment writer
(``writer.py``) fills them term by term as it writes the segment, and
:func:`build_missing` reads a finished segment back for any segment without
them (the two give the same files, tested).  A segment without its directory
is simply searched by Whoosh.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .schema import LENGTH_FIELDS, POSITION_FIELDS

__all__ = ["NO_DATE", "NO_YEAR", "Postings", "SEP", "SegmentArrays", "arrays_dir", "term_lists"]

FORMAT_VERSION = "2"  # 2: fold_df.npy
SEP = "\x1f"
NO_DATE = np.iinfo(np.uint64).max    # Whoosh's column default for a missing date
NO_YEAR = np.iinfo(np.uint32).max
POSTINGS_CACHE_BYTES = 16 << 20  # per segment: the postings of the last terms read
CUM_CACHE_BYTES = 32 << 20  # per segment: cached position offsets of recently read terms
READ_DENSITY = 8  # ... unless the needed entries are at least 1 in this many of the range
READ_GAP = 4096   # positions: a gap wider than this between needed entries is skipped, not read


def arrays_dir(generation: Path, segid: str) -> Path:
    return Path(generation) / f"vec_{segid}"


# --- building -------------------------------------------------------------------
class _Column:
    """A 1-d ``.npy`` file read by ranges with ``os.pread``.

    Not memory-mapped: pages a search touches would stay in the server's resident
    set (the posting arrays of the full corpus are ~0.5 GB); reads of the page
    cache cost microseconds and their memory is freed with the search.
    """

    fd = -1

    def __init__(self, path: Path):
        with open(path, "rb") as f:
            major, _ = np.lib.format.read_magic(f)
            read_header = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read_header(f)
            self.offset = f.tell()
        if len(shape) != 1 or fortran:
            raise ValueError(f"{path}: not a 1-d array")
        self.dtype = np.dtype(dtype)
        self.size = shape[0]
        self.fd = os.open(path, os.O_RDONLY)

    def read(self, lo: int, hi: int) -> np.ndarray:
        item = self.dtype.itemsize
        if hi <= lo:
            return np.zeros(0, dtype=self.dtype)
        data = os.pread(self.fd, (hi - lo) * item, self.offset + lo * item)
        return np.frombuffer(data, dtype=self.dtype)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __del__(self):
        self.close()


class _Strings:
    """A sorted list of byte strings, searched without loading it into Python objects."""

    def __init__(self, folder: Path, name: str):
        self.blob = (folder / f"{name}.bin").read_bytes()
        self.offsets = np.load(folder / f"{name}_offsets.npy")
        self.n = len(self.offsets) - 1

    def get(self, i: int) -> bytes:
        return self.blob[self.offsets[i]:self.offsets[i + 1]]

    def prefixed(self, prefix: bytes) -> tuple[int, int]:
        """The range of strings that start with ``prefix``."""
        lo, hi = self._bisect(prefix), self.n
        if prefix:
            end = bytearray(prefix)
            while end and end[-1] == 0xFF:
                end.pop()
            if end:
                end[-1] += 1
                hi = self._bisect(bytes(end))
        return lo, hi

    def _bisect(self, key: bytes) -> int:
        blob, offsets = self.blob, self.offsets
        lo, hi = 0, self.n
        while lo < hi:
            mid = (lo + hi) // 2
            if blob[offsets[mid]:offsets[mid + 1]] < key:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def find(self, key: bytes) -> int:
        lo = self._bisect(key)
        return lo if lo < self.n and self.get(lo) == key else -1


@dataclass
class Postings:
    """One term's postings in one segment (positions read on demand)."""

    docs: np.ndarray       # segment-local docnums, ascending (unless ``union``)
    tfs: np.ndarray        # float64 term frequencies
    segment: SegmentArrays
    term_ids: np.ndarray   # for each posting, the term it came from (several for a folded syllable)
    rows: np.ndarray       # for each posting, its row in the segment's posting arrays
    union: bool = False    # several terms: docs are neither sorted nor unique

    def per_doc(self) -> tuple[np.ndarray, np.ndarray]:
        """(ascending docnums, tfs) with one entry per document (a folded syllable's variants summed)."""
        if not self.union:
            return self.docs, self.tfs
        tf = np.bincount(self.docs, weights=self.tfs, minlength=self.segment.doc_count)
        docs = np.flatnonzero(tf)
        return docs, tf[docs]

    def positions(self, which: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(posting index, position) pairs for the postings ``which`` (indices into ``docs``)."""
        seg = self.segment
        rows = self.rows[which]
        term_ids = self.term_ids[which]
        # Positions of row r start at term_positions[t] + sum of tfs of the term's earlier rows.
        starts = seg.position_starts(term_ids, rows)
        counts = self.tfs[which].astype(np.int64)
        total = int(counts.sum())
        if total == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        owner = np.repeat(np.arange(len(rows)), counts)
        first = np.cumsum(counts) - counts
        index = starts[owner] + (np.arange(total) - first[owner])
        return which[owner], seg.read_positions(index, term_ids[owner])


class SegmentArrays:
    """The memory-mapped arrays of one segment."""

    def __init__(self, folder: Path):
        self.folder = folder
        meta = json.loads((folder / "meta.json").read_text())
        if meta.get("version") != FORMAT_VERSION:
            raise ValueError(f"{folder}: posting arrays version {meta.get('version')}")
        self.doc_count: int = meta["doc_count"]
        self.categories: list[str] = meta["categories"]
        self.keys = _Strings(folder, "keys")
        self.folds = _Strings(folder, "fold_keys")
        self.term_postings = np.load(folder / "term_postings.npy")
        self.term_positions = np.load(folder / "term_positions.npy")
        self.docs = _Column(folder / "docs.npy")
        self.tfs = _Column(folder / "tfs.npy")
        self.positions = _Column(folder / "positions.npy")
        self.fold_offsets = np.load(folder / "fold_offsets.npy")
        self.fold_members = np.load(folder / "fold_members.npy")
        self.fold_df = np.load(folder / "fold_df.npy")
        self.lengths = {f: np.load(folder / f"lengths_{f}.npy") for f in LENGTH_FIELDS}
        self.date = np.load(folder / "date.npy")
        self.year = np.load(folder / "year.npy")
        self.category = np.load(folder / "category.npy")
        self._cum_tfs: dict[int, np.ndarray] = {}  # term -> offsets of its postings' positions
        self._cum_bytes = 0
        self._postings: dict[tuple, Postings] = {}  # term ids -> their postings (postings())
        self._postings_bytes = 0

    @classmethod
    def open(cls, generation: Path, segid: str) -> SegmentArrays | None:
        folder = arrays_dir(generation, segid)
        if not (folder / "meta.json").exists():
            return None
        try:
            return cls(folder)
        except (OSError, ValueError, KeyError):
            return None

    def term_ids(self, fieldname: str, text: str) -> list[int]:
        """The terms a query term stands for: itself, or every variant of a folded syllable."""
        if fieldname.endswith("_fold") and fieldname[:-5] in POSITION_FIELDS:
            i = self.folds.find(f"{fieldname[:-5]}{SEP}{text}".encode())
            if i < 0:
                return []
            return self.fold_members[self.fold_offsets[i]:self.fold_offsets[i + 1]].tolist()
        i = self.keys.find(f"{fieldname}{SEP}{text}".encode())
        return [] if i < 0 else [i]

    def postings(self, term_ids: list[int]) -> Postings:
        """The postings of the union of ``term_ids`` (tfs summed per document); the last ones
        read are kept (bounded): a query reads a syllable's again for its shingles and readings."""
        key = tuple(term_ids)
        found = self._postings.get(key)
        if found is None:
            found = self._read_postings(term_ids)
            for array in (found.docs, found.tfs, found.term_ids, found.rows):
                array.flags.writeable = False  # shared by every reader of the cache
            size = found.docs.nbytes + found.tfs.nbytes + found.term_ids.nbytes + found.rows.nbytes
            if self._postings_bytes + size > POSTINGS_CACHE_BYTES:
                self._postings.clear()
                self._postings_bytes = 0
            self._postings[key] = found
            self._postings_bytes += size
        return found

    def _read_postings(self, term_ids: list[int]) -> Postings:
        if not term_ids:
            empty = np.zeros(0, dtype=np.int64)
            return Postings(empty, np.zeros(0), self, empty, empty)
        spans = [(int(self.term_postings[t]), int(self.term_postings[t + 1]), t) for t in term_ids]
        docs = [self.docs.read(lo, hi) for lo, hi, _ in spans]
        tfs = [self.tfs.read(lo, hi) for lo, hi, _ in spans]
        rows = [np.arange(lo, hi) for lo, hi, _ in spans]
        owners = [np.full(hi - lo, t) for lo, hi, t in spans]
        if len(spans) == 1:
            return Postings(docs[0].astype(np.int64), tfs[0].astype(np.float64), self, owners[0], rows[0])
        return Postings(np.concatenate(docs).astype(np.int64), np.concatenate(tfs).astype(np.float64), self,
                        np.concatenate(owners), np.concatenate(rows), union=True)

    def position_starts(self, term_ids: np.ndarray, rows: np.ndarray) -> np.ndarray:
        starts = np.empty(len(rows), dtype=np.int64)
        for t in np.unique(term_ids):
            sel = term_ids == t
            cum = self._cum_tf(int(t))
            starts[sel] = self.term_positions[t] + cum[rows[sel] - int(self.term_postings[t])]
        return starts

    def read_positions(self, index: np.ndarray, term_ids: np.ndarray) -> np.ndarray:
        """``positions[index]``, reading for each term only the range its indices span."""
        out = np.zeros(len(index), dtype=np.int64)
        for t in np.unique(term_ids):
            sel = np.flatnonzero(term_ids == t)
            part = index[sel]
            lo, hi = int(part.min()), int(part.max()) + 1
            if hi - lo <= max(READ_GAP, READ_DENSITY * len(part)):
                out[sel] = self.positions.read(lo, hi)[part - lo]
                continue
            # A few documents spread over a common word's positions (candidates being
            # rescored): read the runs they sit in, not the megabytes between them.
            order = np.argsort(part, kind="stable")
            ordered = part[order]
            breaks = np.flatnonzero(np.diff(ordered) > READ_GAP) + 1
            values = np.empty(len(part), dtype=np.int64)
            for run in np.split(np.arange(len(ordered)), breaks):
                a, b = int(ordered[run[0]]), int(ordered[run[-1]]) + 1
                values[run] = self.positions.read(a, b)[ordered[run] - a]
            out[sel[order]] = values
        return out

    def _cum_tf(self, t: int) -> np.ndarray:
        cum = self._cum_tfs.get(t)
        if cum is None:
            lo, hi = int(self.term_postings[t]), int(self.term_postings[t + 1])
            tf = self.tfs.read(lo, hi).astype(np.int64)
            cum = np.cumsum(tf) - tf
            if self._cum_bytes + cum.nbytes > CUM_CACHE_BYTES:  # bounded: common words' arrays are big
                self._cum_tfs.clear()
                self._cum_bytes = 0
            self._cum_tfs[t] = cum
            self._cum_bytes += cum.nbytes
        return cum


def term_lists(arrays: SegmentArrays, fieldname: str, positional: bool, live: np.ndarray, texts: bool = True,
               chunk_docs: int = 4096) -> Iterator[tuple[int, list[str] | None]]:
    """The term lists a segment's documents ``live`` (ascending) were written from, read back
    from its ``arrays``: ``(docnum, terms)`` for each document with terms in the
    field, in docnum order (positions 0, 1, ... for a positional field; for the others
    each term as often as its frequency, in term order).  A merge inverts them again
    instead of copying postings one Python call at a time (``writer.py``).

    Raises ``ValueError`` unless positions are exactly 0 .. length - 1 in every document
    (what a term list gives; an analyser that skips or stacks positions does not), so a
    caller can check a whole field first with ``texts=False``, which yields ``None`` lists.
    """
    lo, hi = arrays.keys.prefixed(f"{fieldname}{SEP}".encode())
    if lo == hi or not len(live):
        return
    p0, p1 = int(arrays.term_postings[lo]), int(arrays.term_postings[hi])
    docs = arrays.docs.read(p0, p1)
    tfs = arrays.tfs.read(p0, p1)
    freqs = tfs.astype(np.int32)
    if (freqs != tfs).any() or (freqs < 1).any():
        raise ValueError(f"{fieldname}: frequencies are not whole counts")
    term = np.repeat(np.arange(hi - lo, dtype=np.int32), np.diff(arrays.term_postings[lo:hi + 1]))
    if positional:
        q0, q1 = int(arrays.term_positions[lo]), int(arrays.term_positions[hi])
        if q1 - q0 != int(freqs.sum()):
            raise ValueError(f"{fieldname}: positions do not match frequencies")
        all_positions = np.load(arrays.folder / "positions.npy", mmap_mode="r")
        start = q0 + np.cumsum(freqs, dtype=np.int64) - freqs  # each posting's first position
    names = [arrays.keys.get(i).decode("utf-8").split(SEP, 1)[1] for i in range(lo, hi)] if texts else []
    is_live = np.zeros(arrays.doc_count, dtype=bool)
    is_live[live] = True
    for c in range(0, len(live), chunk_docs):
        first_doc, last_doc = int(live[c]), int(live[min(c + chunk_docs, len(live)) - 1])
        sel = np.flatnonzero((docs >= first_doc) & (docs <= last_doc))
        sel = sel[is_live[docs[sel]]]
        f = freqs[sel]
        total = int(f.sum())
        if total == 0:
            continue
        owner = np.repeat(sel, f)
        doc, tid = docs[owner], term[owner]
        if positional:
            ahead = np.repeat(np.cumsum(f) - f, f)
            pos = np.asarray(all_positions[np.repeat(start[sel], f) + (np.arange(total) - ahead)], dtype=np.int64)
            order = np.lexsort((pos, doc))
        else:
            order = np.argsort(doc, kind="stable")  # term order kept within a document
        doc, tid = doc[order], tid[order]
        cut = np.flatnonzero(np.diff(doc)) + 1
        begins = np.concatenate(([0], cut))
        if positional:
            expected = np.arange(total) - np.repeat(begins, np.diff(np.append(begins, total)))
            if not np.array_equal(pos[order], expected):
                raise ValueError(f"{fieldname}: positions are not 0 .. length - 1")
        for d, a, b in zip(doc[begins].tolist(), begins.tolist(), np.append(cut, total).tolist()):
            yield d, ([names[i] for i in tid[a:b].tolist()] if texts else None)
