"""The posting pool of :class:`~indexer.store.segment_writer.FastSegmentWriter`.

Whoosh keeps one tuple per posting and spills runs with a pickle per posting; this
pool groups postings by term, hands text fields' term lists to a
:class:`~indexer.store.inversion.TermInverter`, and spills compact marshalled chunks.
"""

from __future__ import annotations

import heapq
import marshal
import struct
from collections.abc import Iterator
from itertools import groupby
from operator import attrgetter, itemgetter
from pickle import dumps

import numpy as np
from whoosh.system import pack_uint
from whoosh.writing import PostingPool

from .fields import COUNT_ONE, ONE_POSITION
from .inversion import TermInverter, Window

__all__ = ["TermPool", "window_values"]

RUN_CHUNK = 8192  # postings per marshalled chunk of a spilled run (at least one term)
_CHUNK_SIZE = struct.Struct("<Q")


class TermPool(PostingPool):
    """Whoosh's posting pool, holding postings grouped by term as they arrive,
    with a :class:`TermInverter` beside it for the term lists.

    Whoosh keeps one ``(fieldname, btext, docnum, weight, value)`` tuple per
    posting, sorts them all, and merges spilled runs posting by posting through
    a heap.  A writer's postings of one term arrive in document order, so here
    only the terms are sorted and merged (a tenth as many items); each term's
    rows are still sorted, which costs one pass when they are in order.  The
    sorted stream is Whoosh's; runs spill at the same size estimate, marshalled a
    chunk of terms at a time (Whoosh pickles each posting on its own).
    """

    runs: list[str]  # file names of the spilled runs (Whoosh's SortingPool sets and extends it)

    def __init__(self, tempstore, segment, limitmb=128):
        super().__init__(tempstore, segment, limitmb=limitmb)
        self.terms: dict[tuple[str, bytes], list[tuple]] = {}
        # Term lists (nearly all postings) are inverted in compact arrays instead; both
        # take about ``limitmb`` before spilling to disk.
        self.inverter = TermInverter(tempstore.folder, chunk_terms=self.limit / 128,
                                     window_postings=self.limit / 512)

    def cleanup(self):
        super().cleanup()
        self.inverter.cleanup()

    def iter_fields(self) -> Iterator[tuple[str, str, Iterator]]:
        """``(fieldname, kind, items)`` per field in Whoosh's order: kind ``"rows"`` with items
        ``((fieldname, btext), rows)`` (see :meth:`iter_terms`), or ``"windows"`` with the
        inverter's :class:`~indexer.store.inversion.Window` items."""
        rows = groupby(self.iter_terms(), _fieldname)
        windows = groupby(self.inverter.windows(), attrgetter("fieldname"))
        row, window = next(rows, None), next(windows, None)
        # Each group is consumed before its stream moves on (groupby invalidates it then).
        while row is not None or window is not None:
            if window is None or (row is not None and row[0] < window[0]):
                assert row is not None  # the loop's condition: one of the two is left
                yield row[0], "rows", row[1]
                row = next(rows, None)
            elif row is None or window[0] < row[0]:
                yield window[0], "windows", window[1]
                window = next(windows, None)
            else:  # a field given term lists and text values (Whoosh's path): merge their terms
                yield row[0], "rows", _merge_terms(row[1], window[1])
                row, window = next(rows, None), next(windows, None)

    def add(self, item):
        # PostingPool.add without its type assertions and the field-name set only
        # Whoosh's MpWriter reads; the same size estimate decides when to spill.
        self.currentsize += 150 + len(item[0]) + 2 * len(item[1]) + len(item[4] or b"")
        if self.currentsize > self.limit:
            self.save()
        key = item[:2]
        rows = self.terms.get(key)
        if rows is None:
            self.terms[key] = [item[2:]]
        else:
            rows.append(item[2:])

    def add_field(self, fieldname: str, docnum: int, items, boost: float, scorable: bool) -> int:
        """``add`` for each of a field's ``(btext, freq, weight, value)``; returns the field length."""
        terms, limit = self.terms, self.limit
        base = 150 + len(fieldname)
        length = 0
        for btext, freq, weight, value in items:
            if scorable:
                length += freq
            self.currentsize += base + 2 * len(btext) + len(value or b"")
            if self.currentsize > limit:
                self.save()
                terms = self.terms
            rows = terms.get((fieldname, btext))
            if rows is None:
                terms[(fieldname, btext)] = [(docnum, weight * boost, value)]
            else:
                rows.append((docnum, weight * boost, value))
        return length

    def _sorted_terms(self) -> list[tuple[tuple[str, bytes], list[tuple]]]:
        items = sorted(self.terms.items(), key=itemgetter(0))
        for _, rows in items:
            rows.sort()
        self.terms = {}
        return items

    def save(self):
        if self.terms:
            path, f = self._new_run()
            self._write_run(f, self._sorted_terms())
            self._add_run(path)
        self.currentsize = 0

    def iter_terms(self) -> Iterator[tuple[tuple[str, bytes], list[tuple]]]:
        """``((fieldname, btext), rows)`` in Whoosh's order, rows ``(docnum, weight, value)`` sorted."""
        if not self.runs:
            return iter(self._sorted_terms())
        self.save()
        runs, self.runs = self.runs, []
        return self._merge_runs(runs)

    def iter_postings(self):
        """``(fieldname, btext, docnum, weight, value)`` in Whoosh's order."""
        for _, kind, items in self.iter_fields():
            for key, rows in (items if kind == "rows" else _rows_of_windows(items)):
                for row in rows:
                    yield key + row

    def _merge_runs(self, paths):
        merged = heapq.merge(*[self._read_run(path) for path in paths], key=itemgetter(0))
        for key, group in groupby(merged, itemgetter(0)):
            rows = next(group)[1]
            more = False
            for _, later in group:  # noqa: B031 - the rest of the group: the same term in later runs
                rows += later
                more = True
            if more:
                rows.sort()
            yield key, rows

    def _write_run(self, f, items):
        # marshal, not pickle: these files live only as long as this writer, hold only
        # tuples, lists, str, bytes, int and float, and marshal is 1.7x faster both ways.
        # Each chunk is length-prefixed and read whole: marshal.load on a file reads
        # object by object, one method call each.  A chunk ends after RUN_CHUNK postings
        # (not terms): merging holds one chunk of every run in memory at once.
        start = count = 0
        for i, (_, rows) in enumerate(items):
            count += len(rows)
            if count >= RUN_CHUNK or i == len(items) - 1:
                data = marshal.dumps(items[start:i + 1])
                f.write(_CHUNK_SIZE.pack(len(data)))
                f.write(data)
                start, count = i + 1, 0
        f.close()

    def _read_run(self, path):
        f = self._open_run(path)
        try:
            while True:
                head = f.read(_CHUNK_SIZE.size)
                if not head:
                    return
                yield from marshal.loads(f.read(_CHUNK_SIZE.unpack(head)[0]))
        finally:
            f.close()
            self._remove_run(path)


def window_values(window: Window) -> list[bytes]:
    """Each posting's value as ``Positions.encode``/``Frequency`` make it (new objects: see
    :func:`_encode_positions`)."""
    freqs = window.freqs.tolist()
    if not window.has_positions:
        return [pack_uint(f) for f in freqs]
    positions = window.positions
    gaps = positions.copy()
    gaps[1:] -= positions[:-1]
    first = window.freqs.cumsum() - window.freqs  # each posting's first position
    gaps[first] = positions[first]
    gaps = gaps.tolist()
    values: list[bytes] = []
    append = values.append
    one = ONE_POSITION
    at = 0
    for f in freqs:
        if f == 1:
            tail = one.get(gaps[at])
            if tail is None:
                tail = one[gaps[at]] = dumps(gaps[at:at + 1], 2)
            append(COUNT_ONE + tail)
        else:
            append(pack_uint(f) + dumps(gaps[at:at + f], 2))
        at += f
    return values


def _rows_of_windows(windows) -> Iterator[tuple[tuple[str, bytes], list[tuple]]]:
    """Windows as the pool's ``((fieldname, btext), rows)``."""
    for window in windows:
        values = window_values(window)
        docs = window.docs.tolist()
        weights = window.freqs.astype(np.float64).tolist()
        bounds = window.term_at.tolist()
        for k, btext in enumerate(window.btexts):
            a, b = bounds[k], bounds[k + 1]
            yield (window.fieldname, btext), list(zip(docs[a:b], weights[a:b], values[a:b]))


def _merge_terms(rows, windows) -> Iterator[tuple[tuple[str, bytes], list[tuple]]]:
    """One field's terms from the pool's rows and the inverter's windows, merged."""
    merged = heapq.merge(rows, _rows_of_windows(windows), key=itemgetter(0))
    for key, group in groupby(merged, itemgetter(0)):
        rows = [row for _, part in group for row in part]
        rows.sort()
        yield key, rows


def _fieldname(item) -> str:
    return item[0][0]
