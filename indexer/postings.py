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
import pickle
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
from whoosh.codec.whoosh3 import W3LeafMatcher

from .text.normalize import fold

__all__ = ["POSITION_FIELDS", "POSTING_FIELDS", "SegmentArrays", "build_missing", "arrays_dir",
           "remove_stale", "term_lists"]

FORMAT_VERSION = "2"  # 2: fold_df.npy
# Fields with postings and positions; their *_fold companions are derived.
POSITION_FIELDS = ("title", "body", "author")
# Fields with postings only (rescoring bonuses and filters).
POSTING_FIELDS = ("title_word", "body_word", "category", "source")
LENGTH_FIELDS = POSITION_FIELDS + ("title_word", "body_word")
SEP = "\x1f"
NO_DATE = np.iinfo(np.uint64).max    # Whoosh's column default for a missing date
NO_YEAR = np.iinfo(np.uint32).max
CUM_CACHE_BYTES = 32 << 20  # per segment: cached position offsets of recently read terms
READ_DENSITY = 8  # ... unless the needed entries are at least 1 in this many of the range
READ_GAP = 4096   # positions: a gap wider than this between needed entries is skipped, not read


def arrays_dir(generation: Path, segid: str) -> Path:
    return Path(generation) / f"vec_{segid}"


# --- building -------------------------------------------------------------------
class TermArrays:
    """A segment's term arrays, written as terms arrive in sorted order.

    Both ways of building feed it: reading a finished segment back
    (:func:`build_missing`) and the segment writer handing over each term's
    postings as it writes them (``writer.py``, no read-back).  Postings are
    buffered as Python lists and appended to raw files a chunk at a time, so
    memory stays bounded whatever the segment's size; :meth:`finish` turns
    the raw files into the ``.npy`` arrays and writes the fold tables.
    """

    CHUNK = 1 << 16  # postings buffered before they are appended to the raw files

    def __init__(self, out: Path):
        self.out = out
        out.mkdir(parents=True)
        self.keys: list[bytes] = []
        self.term_postings, self.term_positions = [0], [0]
        self.n_post = self.n_pos = 0
        self.wide = False  # some term's frequencies do not fit uint16 (or it has none)
        self._docs: list[int] = []
        self._tfs: list[float] = []
        self._deltas: list[int] = []  # every posting's position gaps, one after the other
        self._counts: list[int] = []  # how many positions each posting has
        self._raw = {name: open(out / f"{name}.raw", "wb") for name in ("docs", "tfs", "positions")}

    def add(self, key: bytes, docs: list[int], tfs: list[float], deltas: list[int] | None,
            counts: list[int] | None) -> None:
        """One term: its docnums and frequencies, and (fields with positions) the position
        gaps of all its postings with the number each has."""
        if self.keys and key <= self.keys[-1]:  # binary search needs sorted keys
            raise RuntimeError("segment lexicon is not sorted")
        self.keys.append(key)
        if not tfs or max(tfs) >= 65536:
            self.wide = True
        self._docs += docs
        self._tfs += tfs
        self.n_post += len(docs)
        self.term_postings.append(self.n_post)
        if deltas:
            self._deltas += deltas
            self._counts += counts
            self.n_pos += len(deltas)
        self.term_positions.append(self.n_pos)
        if len(self._docs) >= self.CHUNK:
            self._spill()

    def add_many(self, keys: list[bytes], term_at: np.ndarray, pos_at: np.ndarray, docs: np.ndarray,
                 tfs: np.ndarray, positions: np.ndarray | None) -> None:
        """Consecutive terms at once: term ``k``'s postings are ``term_at[k]:term_at[k + 1]``
        of ``docs``/``tfs`` and (fields with positions) its absolute positions, each
        posting's in order, ``pos_at[k]:pos_at[k + 1]`` of ``positions``."""
        if not keys:
            return
        if (self.keys and keys[0] <= self.keys[-1]) or any(a >= b for a, b in zip(keys, keys[1:])):
            raise RuntimeError("segment lexicon is not sorted")
        self._spill()  # what add() buffered goes first
        self.keys += keys
        if len(tfs) and tfs.max() >= 65536:
            self.wide = True
        self._raw["docs"].write(docs.astype(np.int32).tobytes())
        self._raw["tfs"].write(tfs.astype(np.float32).tobytes())
        self.term_postings += (self.n_post + term_at[1:]).tolist()
        self.n_post += int(term_at[-1])
        if positions is not None:
            self._raw["positions"].write(positions.astype(np.uint32).tobytes())
            self.term_positions += (self.n_pos + pos_at[1:]).tolist()
            self.n_pos += int(pos_at[-1])
        else:
            self.term_positions += [self.n_pos] * len(keys)

    def _spill(self) -> None:
        if not self._docs:
            return
        self._raw["docs"].write(np.asarray(self._docs, dtype=np.int32).tobytes())
        self._raw["tfs"].write(np.asarray(self._tfs, dtype=np.float32).tobytes())
        if self._deltas:
            d = np.asarray(self._deltas, dtype=np.int64)
            c = np.asarray(self._counts, dtype=np.int64)
            total = np.cumsum(d)
            first = np.cumsum(c) - c  # where each posting's positions start
            positions = total - np.repeat(total[first] - d[first], c)
            self._raw["positions"].write(positions.astype(np.uint32).tobytes())
        self._docs, self._tfs, self._deltas, self._counts = [], [], [], []

    def finish(self) -> None:
        self._spill()
        for f in self._raw.values():
            f.close()
        out = self.out
        _save_strings(out, "keys", self.keys)
        np.save(out / "term_postings.npy", np.asarray(self.term_postings, dtype=np.int64))
        np.save(out / "term_positions.npy", np.asarray(self.term_positions, dtype=np.int64))
        for name, raw_dtype in (("docs", np.int32), ("tfs", np.float32), ("positions", np.uint32)):
            raw = out / f"{name}.raw"
            values = np.fromfile(raw, dtype=raw_dtype)
            if name == "tfs" and not self.wide:
                values = values.astype(np.uint16)
            np.save(out / f"{name}.npy", values)
            del values
            raw.unlink()
        # Folded syllable -> the exact terms that fold to it, per field.
        folds: dict[bytes, list[int]] = {}
        for i, key in enumerate(self.keys):
            fieldname, text = key.decode("utf-8").split(SEP, 1)
            if fieldname in POSITION_FIELDS:
                folds.setdefault(f"{fieldname}{SEP}{fold(text)}".encode("utf-8"), []).append(i)
        fold_keys = sorted(folds)
        _save_strings(out, "fold_keys", fold_keys)
        members = [folds[k] for k in fold_keys]
        np.save(out / "fold_offsets.npy", np.cumsum([0] + [len(m) for m in members], dtype=np.int64))
        np.save(out / "fold_members.npy", np.asarray([i for m in members for i in m], dtype=np.int64))
        # A folded syllable's document frequency: its variants' postings counted once per
        # document (deleted documents included, as Whoosh counts a term's documents).
        starts = np.asarray(self.term_postings, dtype=np.int64)
        docs = np.load(out / "docs.npy", mmap_mode="r")
        df = np.empty(len(members), dtype=np.int64)
        for k, m in enumerate(members):
            if len(m) == 1:
                df[k] = starts[m[0] + 1] - starts[m[0]]
            else:
                df[k] = len(np.unique(np.concatenate([docs[starts[t]:starts[t + 1]] for t in m])))
        np.save(out / "fold_df.npy", df)


def array_fields() -> list[str]:
    """The fields whose terms the arrays hold, in the order segments list them."""
    return sorted(POSITION_FIELDS + POSTING_FIELDS)


def _term_postings(leaf, fieldname: str, text, with_positions: bool):
    """(docnums, tfs, position gaps, position counts) of one term, decoded a block at a time.

    Deleted documents included, as the segment writer hands them over: searches mask them.
    """
    m = leaf._terms.matcher(fieldname, text, leaf.schema[fieldname].format, scorer=None)
    docs: list[int] = []
    tfs: list[float] = []
    deltas: list[int] = []   # every posting's position deltas, one after the other
    counts: list[int] = []   # how many positions each posting has
    if isinstance(m, W3LeafMatcher):
        loads = pickle.loads
        while True:
            if m._data is None:
                m._read_data()
            ids, weights, values = m._data[0], m._data[1], m._data[2]
            n = len(ids)
            docs += (np.cumsum(ids, dtype=np.int64) if not m._byteids else np.asarray(ids, dtype=np.int64)).tolist()
            if weights is None:
                tfs += [1.0] * n
            elif isinstance(weights, float):
                tfs += [weights] * n
            else:
                tfs += list(weights)
            if with_positions:
                for v in values:  # 4-byte count, then a pickled list of position deltas
                    d = loads(v[4:])
                    counts.append(len(d))
                    deltas += d
            if m._lastblock:
                break
            m._goto(m._nextoffset)
    else:  # short lists Whoosh keeps inline in the term dictionary
        fmt = leaf.schema[fieldname].format
        while m.is_active():
            docs.append(m.id())
            tfs.append(m.weight())
            if with_positions:
                poses = list(fmt.decode_positions(m.value()))
                counts.append(len(poses))
                deltas += [b - a for a, b in zip([0] + poses, poses)]
            m.next()
    return docs, tfs, deltas, counts


def _build(leaf, out: Path) -> None:
    terms = TermArrays(out)
    for fieldname in array_fields():
        if fieldname not in leaf.schema:
            continue
        with_positions = fieldname in POSITION_FIELDS
        prefix = f"{fieldname}{SEP}".encode("utf-8")
        for btext in leaf.lexicon(fieldname):
            docs, tfs, deltas, counts = _term_postings(leaf, fieldname, btext, with_positions)
            terms.add(prefix + btext, docs, tfs, deltas, counts)
    terms.finish()
    write_documents(leaf, out)


def write_documents(leaf, out: Path) -> None:
    """The per-document arrays (lengths, dates, years, categories) and ``meta.json``, last:
    a directory with ``meta.json`` is complete."""
    n = leaf.doc_count_all()
    for fieldname in LENGTH_FIELDS:
        np.save(out / f"lengths_{fieldname}.npy",
                np.fromiter((_length(leaf, d, fieldname) for d in range(n)), dtype=np.uint32, count=n))
    np.save(out / "date.npy", _column(leaf, "date", n, np.uint64, NO_DATE))
    np.save(out / "year.npy", _column(leaf, "year", n, np.uint32, NO_YEAR))
    categories = leaf.column_reader("category") if leaf.has_column("category") else None
    names: dict[str, int] = {}
    codes = np.fromiter((names.setdefault(categories[d] if categories is not None else "", len(names))
                         for d in range(n)), dtype=np.int32, count=n)
    np.save(out / "category.npy", codes)
    (out / "meta.json").write_text(json.dumps({"version": FORMAT_VERSION, "doc_count": n,
                                                "categories": list(names)}, ensure_ascii=False))


def term_lists(arrays: "SegmentArrays", fieldname: str, positional: bool, live: np.ndarray, texts: bool = True,
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
    lo, hi = arrays.keys.prefixed(f"{fieldname}{SEP}".encode("utf-8"))
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
    names = [arrays.keys.get(i).decode("utf-8").split(SEP, 1)[1] for i in range(lo, hi)] if texts else None
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


def _length(leaf, docnum: int, fieldname: str) -> int:
    # What Whoosh's scorer sees: 1 when the segment has no lengths for the field,
    # None (here 0) for an empty field, which no term of that field matches.
    value = leaf.doc_field_length(docnum, fieldname, 1)
    return 0 if value is None else value


def _column(leaf, fieldname: str, n: int, dtype, missing) -> np.ndarray:
    if not leaf.has_column(fieldname):
        return np.full(n, missing, dtype=dtype)
    col = leaf.column_reader(fieldname, translate=False)
    return np.fromiter((col[d] for d in range(n)), dtype=dtype, count=n)


def _concat(parts: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype=dtype)


def _save_strings(out: Path, name: str, strings: list[bytes]) -> None:
    (out / f"{name}.bin").write_bytes(b"".join(strings))
    np.save(out / f"{name}_offsets.npy", np.cumsum([0] + [len(s) for s in strings], dtype=np.int64))


def _build_one(args: tuple[str, str, str]) -> str | None:
    """Worker: build the arrays of one segment (opened afresh in this process)."""
    from whoosh import index as whoosh_index

    generation, indexname, segid = args
    ix = whoosh_index.open_dir(generation, indexname=indexname)
    with ix.reader() as reader:
        for leaf, _ in reader.leaf_readers():
            if leaf.segment().segid == segid:
                target = arrays_dir(Path(generation), segid)
                tmp = target.with_name(target.name + f".tmp{os.getpid()}")
                shutil.rmtree(tmp, ignore_errors=True)
                _build(leaf, tmp)
                os.replace(tmp, target)  # readers see the whole directory or none
                return segid
    return None


def build_missing(generation: Path, indexname: str, jobs: int = 1) -> list[str]:
    """Build the arrays of every segment that has none; returns the segment ids built."""
    from whoosh import index as whoosh_index

    ix = whoosh_index.open_dir(str(generation), indexname=indexname)
    with ix.reader() as reader:
        segids = [leaf.segment().segid for leaf, _ in reader.leaf_readers()
                  if leaf.doc_count_all() and not (arrays_dir(generation, leaf.segment().segid) / "meta.json").exists()]
    ix.close()
    tasks = [(str(generation), indexname, s) for s in segids]
    if jobs > 1 and len(tasks) > 1:
        import multiprocessing

        with multiprocessing.get_context("fork").Pool(min(jobs, len(tasks))) as pool:
            built = pool.map(_build_one, tasks)
    else:
        built = [_build_one(t) for t in tasks]
    remove_stale(generation, indexname)
    return [b for b in built if b]


def remove_stale(generation: Path, indexname: str) -> None:
    """Delete arrays of segments that merges have removed (never those of live segments)."""
    from whoosh import index as whoosh_index

    ix = whoosh_index.open_dir(str(generation), indexname=indexname)
    live = {seg.segid for seg in ix._segments()}
    ix.close()
    for path in Path(generation).glob("vec_*"):
        segid = path.name[4:].split(".tmp")[0]
        if segid not in live or ".tmp" in path.name:
            shutil.rmtree(path, ignore_errors=True)


# --- reading ----------------------------------------------------------------------
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
    segment: "SegmentArrays"
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

    @classmethod
    def open(cls, generation: Path, segid: str) -> "SegmentArrays | None":
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
            i = self.folds.find(f"{fieldname[:-5]}{SEP}{text}".encode("utf-8"))
            if i < 0:
                return []
            return self.fold_members[self.fold_offsets[i]:self.fold_offsets[i + 1]].tolist()
        i = self.keys.find(f"{fieldname}{SEP}{text}".encode("utf-8"))
        return [] if i < 0 else [i]

    def postings(self, term_ids: list[int]) -> Postings:
        """The postings of the union of ``term_ids`` (tfs summed per document)."""
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
