"""Whoosh's segment writer with its per-posting overheads taken out.

A news article makes about 335 postings (syllables and words of three
fields, plus ids and dates), and Whoosh's ``SegmentWriter`` pays Python
function calls for each of them several times over:

* a text field given its terms as a list still goes through ``entoken`` and
  the format's ``word_values``, one Token update per term;
* its posting pool keeps a tuple per posting, and when it outgrows ``limitmb``
  spills sorted runs to disk with one ``pickle.dump`` per posting and reads
  them back with one ``pickle.load`` per posting (a full build spills dozens);
* writing the segment looks up the document's field length in the on-disk
  length column once per posting, hands each posting to the postings writer
  by three method calls with type assertions, and asks the file for its
  position (a system call) twice per term.

Here a text field's term list goes to :class:`~indexer.inversion.TermInverter`
(term numbers in NumPy arrays, inverted and spilled in compact chunks); the
few other postings (ids, dates) go to a pool that groups them by term.  Each
length column is read once, each term's 128-posting blocks are filled with
list operations and their statistics computed with NumPy, and file positions
are counted.  The index is byte for byte what Whoosh writes
(``tests/test_writer.py`` compares every segment file with Whoosh's own).
"""

from __future__ import annotations

import heapq
import marshal
import os
import shutil
import struct
from itertools import groupby
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import Iterator
from pickle import dumps, loads

import numpy as np
from whoosh.codec.whoosh3 import W3FieldWriter, W3PostingsWriter
from whoosh.fields import TEXT
from whoosh.formats import Frequency, Positions
from whoosh.system import pack_uint
from whoosh.reading import SegmentReader
from whoosh.writing import PostingPool, SegmentWriter

from .inversion import TermInverter, Window
from .postings import (POSITION_FIELDS, SEP, SegmentArrays, TermArrays, array_fields, arrays_dir, term_lists,
                       write_documents)

__all__ = ["FastSegmentWriter", "TermListText"]

RUN_CHUNK = 8192  # postings per marshalled chunk of a spilled run (at least one term)
RECLAIM_SHARE = 1 / 3  # a segment with more of its documents deleted is rewritten at a commit
_CHUNK_SIZE = struct.Struct("<Q")


class TermListText(TEXT):
    """A TEXT field whose value may be the list of its terms, analysed already.

    The indexer segments each article once and hands every field its terms
    (see ``build.analyze_article``); Whoosh numbers their positions 0, 1, ...
    and gives each a boost of 1.  Text values take Whoosh's usual path.
    """

    def index(self, value, **kwargs):
        fmt = self.format
        if not isinstance(value, list) or kwargs or type(fmt) not in (Positions, Frequency):
            return super().index(value, **kwargs)
        positions: dict[str, list[int]] = {}
        for i, term in enumerate(value):
            found = positions.get(term)
            if found is None:
                positions[term] = [i]
            else:
                found.append(i)
        fb = fmt.field_boost
        if type(fmt) is Positions:
            return [(term.encode("utf-8"), len(p), len(p) * fb, _encode_positions(p))
                    for term, p in positions.items()]
        return [(term.encode("utf-8"), len(p), len(p) * fb, pack_uint(len(p))) for term, p in positions.items()]


def _encode_positions(positions: list[int]) -> bytes:
    """``whoosh.formats.Positions.encode``: the count, then the pickled gaps.

    Most terms of an article occur once, so the pickle of a one-position list is
    kept per position.  The result is always a new object: a block pickles its
    values together, and pickle would write a shared object once and refer back
    to it, which is not the block Whoosh writes (tests/test_writer.py compares).
    """
    if len(positions) == 1:
        tail = _ONE_POSITION.get(positions[0])
        if tail is None:
            tail = _ONE_POSITION[positions[0]] = dumps(positions, 2)
        return _COUNT_ONE + tail  # concatenation allocates a new bytes object
    return pack_uint(len(positions)) + dumps([b - a for a, b in zip([0] + positions, positions)], 2)


_COUNT_ONE = pack_uint(1)
_ONE_POSITION: dict[int, bytes] = {}


class _TermPool(PostingPool):
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
        inverter's :class:`~indexer.inversion.Window` items."""
        rows = groupby(self.iter_terms(), _fieldname)
        windows = groupby(self.inverter.windows(), attrgetter("fieldname"))
        row, window = next(rows, None), next(windows, None)
        # Each group is consumed before its stream moves on (groupby invalidates it then).
        while row is not None or window is not None:
            if window is None or (row is not None and row[0] < window[0]):
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
            for _, later in group:  # the same term in later runs: later documents
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


class _Lengths:
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


class FastSegmentWriter(SegmentWriter):
    """``SegmentWriter`` with term lists inverted in bulk, a term-grouped posting pool
    for the rest, and cached field lengths."""

    def __init__(self, ix, arrays: bool = False, **kwargs):
        """``arrays=True``: also write the segment's posting arrays (``postings.py``) from
        the postings as they are written, instead of reading the segment back later."""
        super().__init__(ix, **kwargs)
        self.limitmb = kwargs.get("limitmb", 128)
        self.pool = _TermPool(self._tempstorage, self.newsegment, limitmb=self.limitmb)
        # Segments a commit rewrites (see _merge_segments) are shared out among this many
        # processes, this one included; the others close close_fds (locks) at once.
        self.reclaim_jobs = 1
        self.close_fds: tuple[int, ...] = ()
        self._reclaiming = None
        folder = getattr(self.storage, "folder", None)
        self._arrays_target = arrays_dir(Path(folder), self.newsegment.segid) if arrays and folder else None
        self._arrays: TermArrays | None = None

    def add_document(self, **fields):
        """``SegmentWriter.add_document``, handing the pool a field's postings at once.

        Fields with term vectors or separate spelling words take Whoosh's own path.
        """
        schema = self.schema
        fieldnames = sorted(name for name in fields if not name.startswith("_"))
        self._check_fields(schema, fieldnames)
        if any(schema[name].vector or schema[name].separate_spelling() for name in fieldnames):
            return super().add_document(**fields)
        self._check_state()
        perdocwriter = self.perdocwriter
        inverter = self.pool.inverter
        docnum = self.docnum
        docboost = self._doc_boost(fields)
        perdocwriter.start_doc(docnum)
        try:
            for fieldname in fieldnames:
                value = fields.get(fieldname)
                if value is None:
                    continue
                field = schema[fieldname]
                length = 0
                if field.indexed:
                    boost = self._field_boost(fields, fieldname, docboost)
                    if isinstance(value, list) and type(field).index is TermListText.index and \
                            type(field.format) in (Positions, Frequency) and boost * field.format.field_boost == 1:
                        inverter.add(fieldname, docnum, value, type(field.format) is Positions)
                        length = len(value) if field.scorable else 0
                    else:
                        length = self.pool.add_field(fieldname, docnum, field.index(value), boost,
                                                     field.scorable)
                customval = fields.get("_stored_%s" % fieldname, value)
                perdocwriter.add_field(fieldname, field, customval if field.stored else None, length)
                column = field.column_type
                if column and customval is not None:
                    perdocwriter.add_column_value(fieldname, column, field.to_column_value(customval))
        except Exception:
            perdocwriter.cancel_doc()
            raise
        perdocwriter.finish_doc()
        self._added = True
        self.docnum += 1

    def add_reader(self, reader):
        """Whoosh's ``add_reader`` (a merge copies a segment's live documents), with the term
        list fields re-inverted from the segment's posting arrays (``postings.term_lists``)
        instead of copied one Python call per posting: the same files (tested), several
        times faster.  Other fields, and segments without usable arrays, take Whoosh's path."""
        plan = self._reinvertible(reader)
        if plan is None:
            return super().add_reader(reader)
        arrays, live, fields = plan
        self._check_state()
        basedoc = self.docnum
        names = {name for name in reader.indexed_field_names() if name in self.schema}
        docmap = self.write_per_doc(set(self.schema.names()) | names, reader)
        inverter = self.pool.inverter
        for fieldname, positional in fields.items():
            for docnum, terms in term_lists(arrays, fieldname, positional, live):
                inverter.add(fieldname, docmap[docnum] if docmap is not None else basedoc + docnum,
                             terms, positional)
        add_post = self.pool.add
        rest = sorted(names - set(fields))
        for item in self._process_posts(_postings_of(reader, rest), basedoc, docmap):
            add_post(item)
        self._added = True

    def _reinvertible(self, reader) -> tuple[SegmentArrays, np.ndarray, dict[str, bool]] | None:
        """(the segment's arrays, live docnums, {field: positional}) when its arrays can give
        back its term lists: every such field checked first, before anything is written."""
        folder = getattr(self.storage, "folder", None)
        segment = getattr(reader, "segment", None)
        if folder is None or segment is None:
            return None
        arrays = SegmentArrays.open(Path(folder), segment().segid)
        if arrays is None or arrays.doc_count != reader.doc_count_all():
            return None
        fields: dict[str, bool] = {}
        for name in array_fields():
            field = self.schema[name] if name in self.schema else None
            if field is None or type(field).index is not TermListText.index or field.vector \
                    or field.format.field_boost != 1 or type(field.format) not in (Positions, Frequency):
                continue
            positional = type(field.format) is Positions
            if positional == (name in POSITION_FIELDS):
                fields[name] = positional
        live = np.fromiter(reader.all_doc_ids(), dtype=np.int64)
        try:
            for name, positional in fields.items():
                for _ in term_lists(arrays, name, positional, live, texts=False):
                    pass
        except (OSError, ValueError, KeyError):
            return None
        return arrays, live, fields

    def _merge_segments(self, mergetype, optimize, merge):
        """Whoosh's merge policy, then dead weight reclaimed: segments with no live document
        are dropped, and those with more than ``RECLAIM_SHARE`` deleted are rewritten.

        Whoosh keeps deleted documents until a merge happens to pick their segment, and
        its statistics count them (document frequencies, field lengths): an update that
        replaced every article left the old copies in, doubling the index and skewing
        every score.  Whoosh's policy only merges small segments, so a large one could
        carry its deletions for ever; like Lucene's TieredMergePolicy (33% deletes
        allowed), a segment past the share is rewritten with its live documents only:
        into this writer's new segment, or with ``reclaim_jobs`` > 1 by worker processes
        into segments of their own.  Below the share, an update stays cheap.
        """
        merging = merge if merge is not None else self.merge
        optimizing = optimize if optimize is not None else self.optimize
        reclaim = (mergetype or self.mergetype) is None and merging and not optimizing  # Whoosh's MERGE_SMALL
        kept, doomed = [], []
        for seg in super()._merge_segments(mergetype, optimize, merge):
            if seg.doc_count() == 0:
                continue
            if reclaim and seg.deleted_count() > RECLAIM_SHARE * seg.doc_count_all():
                doomed.append(seg)
            else:
                kept.append(seg)
        if doomed and self.reclaim_jobs > 1:
            # Worker processes rewrite them while this one writes its own segment; their
            # segments join the table of contents at the commit (_commit_toc).
            from .parallel import start_reclaim
            self._reclaiming = start_reclaim(self, doomed, min(self.reclaim_jobs, len(doomed)))
        else:
            for seg in doomed:
                with SegmentReader(self.storage, self.schema, seg) as reader:
                    self.add_reader(reader)
        return kept

    def _commit_toc(self, segments):
        pending, self._reclaiming = self._reclaiming, None
        super()._commit_toc(segments + pending.join() if pending is not None else segments)

    def _abort_reclaim(self) -> None:
        pending, self._reclaiming = self._reclaiming, None
        if pending is not None:
            pending.abort()

    def cancel(self):
        self._abort_reclaim()
        super().cancel()

    def _finish(self):
        self._abort_reclaim()  # a commit that failed before its table of contents
        super()._finish()

    def _flush_segment(self):
        self.perdocwriter.close()
        pdr = self.per_document_reader() if self.codec.length_stats else None
        lengths = _Lengths(pdr, self.docnum) if pdr else None
        if type(self.fieldwriter) is W3FieldWriter:
            if self._arrays_target is not None:
                tmp = self._arrays_target.with_name(f"{self._arrays_target.name}.tmp{os.getpid()}")
                shutil.rmtree(tmp, ignore_errors=True)
                self._arrays = TermArrays(tmp)
            _add_postings(self.fieldwriter, self.schema, lengths, self.pool.iter_fields(), self._arrays)
        else:
            self.fieldwriter.add_postings(self.schema, lengths, self.pool.iter_postings())
        self.fieldwriter.close()
        if pdr:
            pdr.close()


    def _finalize_segment(self):
        try:
            segment = super()._finalize_segment()  # flushes: the term arrays fill up
            if self._arrays is not None:
                self._arrays.finish()
                with SegmentReader(self.storage, self.schema, segment) as leaf:
                    write_documents(leaf, self._arrays.out)
                os.replace(self._arrays.out, self._arrays_target)  # whole directory or none
        except BaseException:
            if self._arrays is not None:
                shutil.rmtree(self._arrays.out, ignore_errors=True)
            raise
        finally:
            self._arrays = None
        return segment


def _postings_of(reader, fieldnames: list[str]) -> Iterator[tuple]:
    """``reader.iter_postings()`` for some fields only (deleted documents left out)."""
    for fieldname in fieldnames:
        for btext in reader.lexicon(fieldname):
            m = reader.postings(fieldname, btext)
            while m.is_active():
                yield fieldname, btext, m.id(), m.weight(), m.value()
                m.next()


def _add_postings(fw: W3FieldWriter, schema, lengths: _Lengths | None, fields,
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
        prefix = f"{fieldname}{SEP}".encode("utf-8")
        if kind == "rows":
            column = lengths.column(fieldname) if lengths is not None else None
            _add_rows(fw, pw, column, items, collect, with_positions, prefix)
        else:
            column = lengths.array(fieldname) if lengths is not None else None
            for window in items:
                _add_window(fw, pw, column, window, collect, with_positions, prefix)
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
    values = _window_values(window)
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


def _window_values(window: Window) -> list[bytes]:
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
    values = []
    append = values.append
    one = _ONE_POSITION
    at = 0
    for f in freqs:
        if f == 1:
            tail = one.get(gaps[at])
            if tail is None:
                tail = one[gaps[at]] = dumps(gaps[at:at + 1], 2)
            append(_COUNT_ONE + tail)
        else:
            append(pack_uint(f) + dumps(gaps[at:at + f], 2))
        at += f
    return values


def _rows_of_windows(windows) -> Iterator[tuple[tuple[str, bytes], list[tuple]]]:
    """Windows as the pool's ``((fieldname, btext), rows)``."""
    for window in windows:
        values = _window_values(window)
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


def _fieldname(item) -> str:
    return item[0][0]
