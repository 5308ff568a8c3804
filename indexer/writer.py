"""Whoosh's segment writer with its per-posting overheads taken out.

A news article makes about 550 postings (syllables, folded syllables and
words of three fields), and Whoosh's ``SegmentWriter`` pays Python
function calls for each of them several times over:

* a text field given its terms as a list still goes through ``entoken`` and
  the format's ``word_values``, one Token update per term;
* when its posting pool outgrows ``limitmb`` it spills sorted runs to disk
  with one ``pickle.dump`` per posting and reads them back with one
  ``pickle.load`` per posting (a full build spills dozens of runs);
* writing the segment looks up the document's field length in the on-disk
  length column once per posting, and hands each posting to the postings
  writer by three method calls with type assertions.

:class:`TermListText` builds a list's postings with a dictionary, and
:class:`FastSegmentWriter` pickles runs in chunks, reads each length
column once and fills each 128-posting block of a term with list operations.  The index is byte for byte what Whoosh writes
(``tests/test_writer.py`` compares every posting, length and stored field).
"""

from __future__ import annotations

from itertools import groupby
from operator import itemgetter
from pickle import HIGHEST_PROTOCOL, dump, dumps, load

from whoosh.codec.whoosh3 import W3FieldWriter, W3PostingsWriter
from whoosh.fields import TEXT
from whoosh.formats import Frequency, Positions
from whoosh.system import pack_uint
from whoosh.writing import PostingPool, SegmentWriter

__all__ = ["FastSegmentWriter", "TermListText"]

RUN_CHUNK = 4096  # postings per pickle in a spilled run


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
    """``whoosh.formats.Positions.encode``: the count, then the pickled gaps."""
    return pack_uint(len(positions)) + dumps([b - a for a, b in zip([0] + positions, positions)], 2)


class _ChunkedPool(PostingPool):
    """Whoosh's posting pool, spilling runs as pickled chunks instead of one pickle per posting."""

    def add(self, item):
        # PostingPool.add without its type assertions and the field-name set only
        # Whoosh's MpWriter reads; the same size estimate decides when to spill.
        self.currentsize += 150 + len(item[0]) + 2 * len(item[1]) + len(item[4] or b"")
        if self.currentsize > self.limit:
            self.save()
        self.current.append(item)

    def _write_run(self, f, items):
        chunk = []
        for item in items:
            chunk.append(item)
            if len(chunk) >= RUN_CHUNK:
                dump(chunk, f, HIGHEST_PROTOCOL)
                chunk = []
        if chunk:
            dump(chunk, f, HIGHEST_PROTOCOL)
        f.close()

    def _read_run(self, path):
        f = self._open_run(path)
        try:
            while True:
                try:
                    chunk = load(f)
                except EOFError:
                    return
                yield from chunk
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


class FastSegmentWriter(SegmentWriter):
    """``SegmentWriter`` with chunked run spills and cached field lengths."""

    def __init__(self, ix, **kwargs):
        super().__init__(ix, **kwargs)
        self.pool = _ChunkedPool(self._tempstorage, self.newsegment, limitmb=kwargs.get("limitmb", 128))

    def _flush_segment(self):
        self.perdocwriter.close()
        pdr = self.per_document_reader() if self.codec.length_stats else None
        lengths = _Lengths(pdr, self.docnum) if pdr else None
        if type(self.fieldwriter) is W3FieldWriter:
            _add_postings(self.fieldwriter, self.schema, lengths, self.pool.iter_postings())
        else:
            self.fieldwriter.add_postings(self.schema, lengths, self.pool.iter_postings())
        self.fieldwriter.close()
        if pdr:
            pdr.close()


def _add_postings(fw: W3FieldWriter, schema, lengths: _Lengths | None, items) -> None:
    """``FieldWriter.add_postings`` + ``W3PostingsWriter.add_posting``, a term at a time.

    ``items`` are the pool's sorted ``(fieldname, btext, docnum, weight, value)``
    postings.  Each block gets what Whoosh's per-posting calls would have put in
    it (ids, weights, non-empty values, the extreme non-zero lengths, the largest
    weight), and is written at the same points: when a 129th posting arrives, and
    at the end of the term.
    """
    column: list[int] | None = None
    for fieldname, postings in groupby(items, itemgetter(0)):
        fw.start_field(fieldname, schema[fieldname])
        if lengths is not None:
            column = lengths.column(fieldname)
        pw = fw._postwriter
        if type(pw) is not W3PostingsWriter:
            raise TypeError(f"unexpected postings writer {type(pw).__name__}")
        limit = pw._blocklimit
        for btext, group in groupby(postings, itemgetter(1)):
            rows = [p for p in group if p[2] != -1]  # -1: Whoosh's spelling-only rows
            if not rows:
                continue
            fw.start_term(btext)
            for start in range(0, len(rows), limit):
                if start:
                    pw._write_block()
                block = rows[start:start + limit]
                weights = [p[3] for p in block]
                pw._ids.extend([p[2] for p in block])
                pw._weights.extend(weights)
                pw._values.extend([v for v in (p[4] for p in block) if v])
                pw._maxweight = max(pw._maxweight, max(weights))
                if column is not None:
                    found = [n for n in (column[p[2]] for p in block) if n]
                    if found:
                        low = min(found)
                        if pw._minlength is None or low < pw._minlength:
                            pw._minlength = low
                        pw._maxlength = max(pw._maxlength, max(found))
            fw.finish_term()
        fw.finish_field()
