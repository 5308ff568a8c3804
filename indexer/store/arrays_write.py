"""Writing a segment's posting arrays (see ``arrays_read.py`` for what they hold): as the
segment writer writes the segment (:class:`TermArrays`), or read back from a finished
segment for one that has none (:func:`build_missing`)."""

from __future__ import annotations

import atexit
import json
import os
import pickle
import shutil
import tempfile
import threading
from pathlib import Path

import numpy as np
from whoosh.codec.whoosh3 import W3LeafMatcher

from ..text.normalize import fold
from .arrays_read import FORMAT_VERSION, NO_DATE, NO_YEAR, SEP, SegmentArrays, arrays_dir
from .schema import LENGTH_FIELDS, POSITION_FIELDS, POSTING_FIELDS

__all__ = ["TermArrays", "array_fields", "build_missing", "ensure_arrays", "remove_stale", "write_documents"]


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
            assert counts is not None  # given with deltas
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
                folds.setdefault(f"{fieldname}{SEP}{fold(text)}".encode(), []).append(i)
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
        prefix = f"{fieldname}{SEP}".encode()
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


def _save_strings(out: Path, name: str, strings: list[bytes]) -> None:
    (out / f"{name}.bin").write_bytes(b"".join(strings))
    np.save(out / f"{name}_offsets.npy", np.cumsum([0] + [len(s) for s in strings], dtype=np.int64))


def ensure_arrays(generation: Path, leaf) -> SegmentArrays:
    """The arrays of ``leaf``'s segment, built now if it has none (an index written before
    them, or with an older format): search reads nothing else.

    Built beside the segment when the folder is writable (a reader that loses the race
    to another uses the other's), else in a private temporary folder for this process.
    """
    segid = leaf.segment().segid
    arrays = SegmentArrays.open(generation, segid)
    if arrays is not None and arrays.doc_count == leaf.doc_count_all():
        return arrays
    target = arrays_dir(generation, segid)
    tmp = target.with_name(f"{target.name}.tmp{os.getpid()}-{threading.get_ident()}")
    try:
        shutil.rmtree(tmp, ignore_errors=True)
        _build(leaf, tmp)
        if target.exists():  # an older format: set aside, then removed
            stale = target.with_name(f"{target.name}.tmp{os.getpid()}-old")
            os.replace(target, stale)
            shutil.rmtree(stale, ignore_errors=True)
        os.replace(tmp, target)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        arrays = SegmentArrays.open(generation, segid)  # another reader may have built them
        if arrays is not None and arrays.doc_count == leaf.doc_count_all():
            return arrays
        target = Path(tempfile.mkdtemp(prefix=f"vnsearch-arrays-{segid}-")) / "arrays"
        atexit.register(shutil.rmtree, target.parent, True)
        _build(leaf, target)
    built = SegmentArrays(target)
    if built.doc_count != leaf.doc_count_all():
        raise RuntimeError(f"posting arrays of segment {segid} do not match it")
    return built


def build_missing(generation: Path, indexname: str) -> list[str]:
    """Build the arrays of every segment that has none (an index written before they were,
    or with an older format), and drop those of merged-away segments; returns the segment
    ids built.  Commits write every segment's arrays with it, so this finds none after a
    normal run; a reader finding one missing builds it itself (:func:`ensure_arrays`)."""
    from whoosh import index as whoosh_index

    ix = whoosh_index.open_dir(str(generation), indexname=indexname)
    built = []
    with ix.reader() as reader:
        for leaf, _ in reader.leaf_readers():
            if not leaf.doc_count_all():  # an index with no articles: an empty reader, no segment
                continue
            segid = leaf.segment().segid
            if SegmentArrays.open(generation, segid) is None:
                ensure_arrays(generation, leaf)
                built.append(segid)
    ix.close()
    remove_stale(generation, indexname)
    return built


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
