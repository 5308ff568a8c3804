"""Writing a segment's postings in Whoosh's format, a term's blocks at a time, and the
posting arrays beside them (byte for byte what Whoosh writes: tests/test_writer.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pickle import loads

import numpy as np
from whoosh.codec.whoosh3 import W3FieldWriter, W3PostingsWriter

from .arrays_read import SEP
from .arrays_write import TermArrays, array_fields
from .inversion import Window
from .pool import window_values
from .schema import POSITION_FIELDS

__all__ = ["Lengths", "add_postings", "postings_of"]


class Lengths:
    """A segment's field lengths, each column read once (Whoosh reads one per posting)."""

    def __init__(self, reader, doc_count: int):
        self.reader = reader
        self.doc_count = doc_count
        self.columns: dict[str, list[int]] = {}

    def column(self, fieldname: str) -> list[int]:
        column = self.columns.get(fieldname)
        if column is None:
            column = self.columns[fieldname] = [
                self.reader.doc_field_length(d, fieldname, 0) for d in range(self.doc_count)]
        return column

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int:
        return self.column(fieldname)[docnum]

    def array(self, fieldname: str) -> np.ndarray:
        return np.asarray([n or 0 for n in self.column(fieldname)], dtype=np.int64)  # None: no length


def postings_of(reader, fieldnames: list[str]) -> Iterator[tuple]:
    """``reader.iter_postings()`` for some fields only (deleted documents left out)."""
    for fieldname in fieldnames:
        for btext in reader.lexicon(fieldname):
            m = reader.postings(fieldname, btext)
            while m.is_active():
                yield fieldname, btext, m.id(), m.weight(), m.value()
                m.next()


def add_postings(fw: W3FieldWriter, schema, lengths: Lengths | None, fields,
                  arrays: TermArrays | None = None) -> None:
    """``FieldWriter.add_postings`` + ``W3PostingsWriter.add_posting``, a term at a time.

    ``fields`` are the pool's :meth:`_TermPool.iter_fields`.  Each block gets what
    Whoosh's per-posting calls would have put in it (ids, weights, non-empty values,
    the extreme non-zero lengths, the largest weight), and is written at the same
    points: when a 129th posting arrives, and at the end of the term.
    """
    wanted = set(array_fields()) if arrays is not None else ()
    _track_position(fw._postfile)
    _track_position(fw._tindex.dbfile)
    for fieldname, kind, items in fields:
        fw.start_field(fieldname, schema[fieldname])
        pw = fw._postwriter
        if type(pw) is not W3PostingsWriter:
            raise TypeError(f"unexpected postings writer {type(pw).__name__}")
        collect = arrays if fieldname in wanted else None
        with_positions = fieldname in POSITION_FIELDS
        prefix = f"{fieldname}{SEP}".encode()
        if kind == "rows":
            column = lengths.column(fieldname) if lengths is not None else None
            _add_rows(fw, pw, column, items, collect, with_positions, prefix)
        else:
            lengths_array = lengths.array(fieldname) if lengths is not None else None
            for window in items:
                _add_window(fw, pw, lengths_array, window, collect, with_positions, prefix)
        fw.finish_field()


def _add_rows(fw, pw, column: list[int] | None, terms, arrays: TermArrays | None, with_positions: bool,
              prefix: bytes) -> None:
    """Terms given as ``((fieldname, btext), rows)``, rows ``(docnum, weight, value)``."""
    limit = pw._blocklimit
    for (_, btext), rows in terms:
        if rows[0][0] == -1:  # -1: Whoosh's spelling-only rows (they sort first)
            rows = [r for r in rows if r[0] != -1]
            if not rows:
                continue
        fw.start_term(btext)
        all_ids = [r[0] for r in rows]
        all_weights = [r[1] for r in rows]
        for start in range(0, len(rows), limit):
            if start:
                pw._write_block()
            if len(rows) > limit:
                block = rows[start:start + limit]
                ids = all_ids[start:start + limit]
                weights = all_weights[start:start + limit]
            else:
                block, ids, weights = rows, all_ids, all_weights
            pw._ids.extend(ids)
            pw._weights.extend(weights)
            pw._values.extend([v for v in (r[2] for r in block) if v])
            pw._maxweight = max(pw._maxweight, max(weights))
            if column is not None:
                found = [n for n in (column[d] for d in ids) if n]
                if found:
                    low = min(found)
                    if pw._minlength is None or low < pw._minlength:
                        pw._minlength = low
                    pw._maxlength = max(pw._maxlength, max(found))
        fw.finish_term()
        if arrays is not None:
            deltas: list[int] = []
            counts: list[int] = []
            if with_positions:  # each value: 4-byte count, then the pickled position gaps
                for r in rows:
                    gaps = loads(r[2][4:])
                    counts.append(len(gaps))
                    deltas += gaps
            arrays.add(prefix + btext, all_ids, all_weights, deltas, counts)


def _add_window(fw, pw, column: np.ndarray | None, window: Window,
                arrays: TermArrays | None, with_positions: bool, prefix: bytes) -> None:
    """An inverted window's terms: block statistics computed for all its blocks at once."""
    limit = pw._blocklimit
    docs = window.docs.tolist()
    weights = window.freqs.astype(np.float64).tolist()
    values = window_values(window)
    term_at = window.term_at
    sizes = np.diff(term_at)
    blocks = (sizes + limit - 1) // limit
    first_block = np.cumsum(blocks) - blocks
    block_at = np.repeat(term_at[:-1], blocks) + (np.arange(int(blocks.sum())) - np.repeat(first_block, blocks)) * limit
    max_weights = np.maximum.reduceat(window.freqs, block_at).astype(np.float64).tolist()
    if column is not None:
        lengths = column[window.docs]
        max_lengths = np.maximum.reduceat(lengths, block_at).tolist()
        min_lengths = np.minimum.reduceat(np.where(lengths > 0, lengths, np.iinfo(np.int64).max),
                                          block_at).tolist()
    bounds = term_at.tolist()
    b = 0
    for k, (btext, n) in enumerate(zip(window.btexts, blocks.tolist())):
        fw.start_term(btext)
        start, stop = bounds[k], bounds[k + 1]
        for j in range(n):
            if j:
                pw._write_block()
            s = start + j * limit
            e = min(stop, s + limit)
            pw._ids.extend(docs[s:e])
            pw._weights.extend(weights[s:e])
            pw._values.extend(values[s:e])
            pw._maxweight = max_weights[b]
            if column is not None and max_lengths[b]:  # else no posting has a length
                pw._minlength = min_lengths[b]
                pw._maxlength = max_lengths[b]
            b += 1
        fw.finish_term()
    if arrays is not None:
        arrays.add_many([prefix + t for t in window.btexts], term_at, window.pos_at, window.docs,
                        window.freqs, window.positions if with_positions else None)


class _PositionTrackingFile:
    """A write-only file that counts its bytes: ``tell`` on a buffered file is a system
    call, and the postings writer asks twice per term."""

    def __init__(self, f):
        self._file = f
        self._pos = f.tell()

    def write(self, data) -> int:
        self._pos += len(data)
        return self._file.write(data)

    def tell(self) -> int:
        return self._pos

    def seek(self, *args):
        result = self._file.seek(*args)
        self._pos = self._file.tell()
        return result

    def __getattr__(self, name):
        return getattr(self._file, name)


def _track_position(structfile) -> None:
    if not isinstance(structfile.file, _PositionTrackingFile):
        structfile.file = _PositionTrackingFile(structfile.file)


