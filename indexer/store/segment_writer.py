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

Here a text field's term list goes to :class:`~indexer.store.inversion.TermInverter`
(term numbers in NumPy arrays, inverted and spilled in compact chunks); the
few other postings (ids, dates) go to a pool that groups them by term.  Each
length column is read once, each term's 128-posting blocks are filled with
list operations and their statistics computed with NumPy, and file positions
are counted.  The index is byte for byte what Whoosh writes
(``tests/test_writer.py`` compares every segment file with Whoosh's own).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from whoosh.codec.whoosh3 import W3FieldWriter
from whoosh.formats import Frequency, Positions
from whoosh.reading import SegmentReader
from whoosh.writing import SegmentWriter

from .arrays_read import SegmentArrays, arrays_dir, term_lists
from .arrays_write import TermArrays, array_fields, write_documents
from .fields import TermListText
from .pool import TermPool
from .postings_out import Lengths, add_postings, postings_of
from .schema import POSITION_FIELDS

__all__ = ["FastSegmentWriter", "MergePolicy", "Pending", "RECLAIM_SHARE", "ReclaimShare"]

RECLAIM_SHARE = 1 / 3  # a segment with more of its documents deleted is rewritten at a commit


class Pending(Protocol):
    """Segments being rewritten elsewhere (by worker processes)."""

    def join(self) -> list: ...

    def abort(self) -> None: ...


class MergePolicy(Protocol):
    """Which segments a commit rewrites with their live documents only, and who rewrites them."""

    def split(self, segments: list) -> tuple[list, list]:
        """(segments kept as they are, segments to rewrite)."""
        ...

    def start(self, writer: FastSegmentWriter, segments: list) -> Pending | None:
        """Start rewriting ``segments`` elsewhere, or None: ``writer`` copies them itself."""
        ...


@dataclass
class ReclaimShare:
    """Rewrite a segment once more than ``share`` of its documents are deleted, as Lucene's
    TieredMergePolicy does (33% deletes allowed): below it, an update stays cheap."""

    share: float = RECLAIM_SHARE

    def split(self, segments: list) -> tuple[list, list]:
        doomed = [seg for seg in segments if seg.deleted_count() > self.share * seg.doc_count_all()]
        return [seg for seg in segments if seg not in doomed], doomed

    def start(self, writer: FastSegmentWriter, segments: list) -> Pending | None:
        return None


class FastSegmentWriter(SegmentWriter):
    """``SegmentWriter`` with term lists inverted in bulk, a term-grouped posting pool
    for the rest, and cached field lengths."""

    def __init__(self, ix, arrays: bool = False, **kwargs):
        """``arrays=True``: also write the segment's posting arrays (``postings.py``) from
        the postings as they are written, instead of reading the segment back later."""
        super().__init__(ix, **kwargs)
        self.limitmb = kwargs.get("limitmb", 128)
        self.pool = TermPool(self._tempstorage, self.newsegment, limitmb=self.limitmb)
        self.merge_policy: MergePolicy = ReclaimShare()  # which segments a commit rewrites, and how
        self.close_fds: tuple[int, ...] = ()  # locks held for this writer: other processes close them at once
        self._reclaiming: Pending | None = None
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
                assert terms is not None  # texts=True: lists, not None
                inverter.add(fieldname, docmap[docnum] if docmap is not None else basedoc + docnum,
                             terms, positional)
        add_post = self.pool.add
        rest = sorted(names - set(fields))
        for item in self._process_posts(postings_of(reader, rest), basedoc, docmap):
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
            field = self.schema[name] if name in self.schema else None  # noqa: SIM401 - Schema has no get()
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
        """Whoosh's merge policy, then dead weight reclaimed as ``merge_policy`` decides:
        segments with no live document are dropped, and those it picks rewritten with their
        live documents only, by this writer or (``merge_policy.start``) by other processes,
        whose segments join the table of contents at the commit (``_commit_toc``).

        Whoosh keeps deleted documents until a merge happens to pick their segment, and
        its statistics count them (document frequencies, field lengths): an update that
        replaced every article left the old copies in, doubling the index and skewing
        every score.  Whoosh's policy only merges small segments, so a large one could
        carry its deletions for ever.
        """
        merging = merge if merge is not None else self.merge
        optimizing = optimize if optimize is not None else self.optimize
        reclaim = (mergetype or self.mergetype) is None and merging and not optimizing  # Whoosh's MERGE_SMALL
        live = [seg for seg in super()._merge_segments(mergetype, optimize, merge) if seg.doc_count()]
        if not reclaim:
            return live
        kept, doomed = self.merge_policy.split(live)
        if doomed:
            self._reclaiming = self.merge_policy.start(self, doomed)
            if self._reclaiming is None:
                for seg in doomed:
                    with SegmentReader(self.storage, self.schema, seg) as reader:
                        self.add_reader(reader)
        return kept

    def finish_segment(self):
        """This writer's segment, finished, for another writer to commit (None if it has no
        document): how worker processes hand back what they wrote."""
        if self._added:
            return self._finalize_segment()
        self._close_segment()
        return None

    def commit_with(self, segments: list, merge: bool) -> None:
        """Commit this writer's deletions and documents together with ``segments`` written by
        other writers (``finish_segment``), in one new table of contents: one atomic rename.
        Mirrors ``SegmentWriter.commit``."""
        final = self._merge_segments(None, False, merge)
        mine = self.finish_segment()
        self._commit_toc(final + ([mine] if mine is not None else []) + segments)
        self._finish()

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
        lengths = Lengths(pdr, self.docnum) if pdr else None
        if type(self.fieldwriter) is W3FieldWriter:
            if self._arrays_target is not None:
                tmp = self._arrays_target.with_name(f"{self._arrays_target.name}.tmp{os.getpid()}")
                shutil.rmtree(tmp, ignore_errors=True)
                self._arrays = TermArrays(tmp)
            add_postings(self.fieldwriter, self.schema, lengths, self.pool.iter_fields(), self._arrays)
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
                assert self._arrays_target is not None  # the arrays are written only with a target
                os.replace(self._arrays.out, self._arrays_target)  # whole directory or none
        except BaseException:
            if self._arrays is not None:
                shutil.rmtree(self._arrays.out, ignore_errors=True)
            raise
        finally:
            self._arrays = None
        return segment
