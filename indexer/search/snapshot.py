"""What a search reads: the live generation as one thread sees it, opened once and
reopened when ``vnsearch index`` publishes a new generation or commits an update.

Each thread has its own Whoosh searcher (they are not thread-safe); the posting
arrays (read-only files) and the id order are shared by threads that see the
same segments.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from whoosh import index as whoosh_index
from whoosh.searching import Searcher

from ..store.arrays_read import SegmentArrays
from ..store.arrays_write import ensure_arrays
from ..store.generations import NoIndexError, current_generation
from ..store.schema import INDEX_NAME
from ..text.acronyms import AcronymTable
from .complete import Phrases, build_phrases
from .evaluate import Segment
from .lexicon import Lexicon

__all__ = ["Snapshot", "Snapshots"]


@dataclass
class Snapshot:
    """One thread's view of one generation: its searcher, segments and statistics."""

    generation: Path
    searcher: Searcher
    segments: list[Segment]
    lexicon: Lexicon
    _key: tuple = field(repr=False, default=())
    _order: np.ndarray | None = field(repr=False, default=None)

    @property
    def doc_count(self) -> int:
        return self.searcher.doc_count()

    def docnum(self, doc_id: str) -> int | None:
        """The article's document number, or None."""
        try:
            return self.searcher.document_number(id=doc_id)
        except UnicodeEncodeError:  # a lone surrogate: no article has that id
            return None


def leaves(reader) -> list:
    """The reader's segments as (reader, docnum offset): none for an index with no articles,
    where Whoosh gives one segment-less ``EmptyReader`` (its ``segment()`` is None)."""
    return [(leaf, offset) for leaf, offset in reader.leaf_readers() if leaf.segment() is not None]


class Snapshots:
    """The current :class:`Snapshot` of ``index_dir`` for each thread."""

    def __init__(self, index_dir: Path):
        self.index_dir = index_dir
        self._local = threading.local()
        self._lock = threading.Lock()
        self._arrays: dict[tuple[str, str], SegmentArrays] = {}  # shared by threads
        self._id_orders: dict[tuple, np.ndarray] = {}
        self._phrases: dict[tuple, Phrases] = {}
        self._phrases_lock = threading.Lock()

    def current(self) -> Snapshot:
        gen = current_generation(self.index_dir)
        if gen is None:
            raise NoIndexError(f"no index in {self.index_dir}; run: vnsearch index PATH --index-dir {self.index_dir}")
        snap = getattr(self._local, "snapshot", None)
        if snap is None or snap.generation != gen or not snap.searcher.up_to_date():
            # Not Searcher.refresh(): it reuses segment readers and so keeps deletions
            # made by the update it is meant to pick up.
            if snap is not None:
                snap.searcher.close()
            searcher = whoosh_index.open_dir(str(gen), indexname=INDEX_NAME).searcher()
            segments = self._segments(searcher, gen)
            key = (str(gen),) + tuple((s.arrays.folder.name, s.arrays.doc_count) for s in segments)
            snap = self._local.snapshot = Snapshot(gen, searcher, segments, Lexicon(searcher.reader(), segments), key)
        return snap

    def _segments(self, searcher, gen: Path) -> list[Segment]:
        """The searcher's segments with their posting arrays (built now where missing)."""
        with self._lock:  # arrays of replaced generations are not needed any more; not closed
            # here: another thread may still be searching them (their files close when the
            # last searcher lets go of them)
            for key in [k for k in self._arrays if k[0] != str(gen)]:
                del self._arrays[key]
        segments = []
        for leaf, offset in leaves(searcher.reader()):
            key = (str(gen), leaf.segment().segid)
            with self._lock:
                arrays = self._arrays.get(key)
                if arrays is None or arrays.doc_count != leaf.doc_count_all():
                    arrays = self._arrays[key] = ensure_arrays(gen, leaf)
            live = None
            if leaf.has_deletions():
                live = np.zeros(arrays.doc_count, dtype=bool)
                live[np.fromiter(leaf.all_doc_ids(), dtype=np.int64)] = True
            segments.append(Segment(arrays, offset, live))
        return segments

    def id_order(self, snap: Snapshot) -> np.ndarray:
        """Each docnum's place in article-id order: how equal scores (and equal dates) are
        ordered, the same whichever worker wrote which article (docnums are not).

        Docnums are fixed by the segments and their sizes (deletions do not renumber), so
        threads whose snapshots see the same segments share one order (0.2 s to make for
        the full corpus)."""
        if snap._order is not None:
            return snap._order
        with self._lock:
            order = self._id_orders.get(snap._key)
        if order is None:
            reader = snap.searcher.reader()
            ids = list(reader.column_reader("id")) if reader.doc_count_all() else []
            order = np.empty(len(ids), dtype=np.int64)
            order[sorted(range(len(ids)), key=ids.__getitem__)] = np.arange(len(ids))
            with self._lock:  # the latest only: a thread on an older snapshot makes its own
                self._id_orders = {snap._key: order}
        snap._order = order
        return order

    def phrases(self, snap: Snapshot, acronyms: AcronymTable) -> Phrases:
        """The type-ahead table of ``snap``'s articles, built once for all threads (the latest
        only, as ``id_order``)."""
        with self._phrases_lock:  # one thread builds; the others wait for it
            found = self._phrases.get(snap._key)
            if found is None:
                capitals = {form[0] for form in acronyms.groups if len(form) == 1}
                found = build_phrases(snap.segments, snap.doc_count, capitals)
                self._phrases = {snap._key: found}
        return found

    def close(self) -> None:
        snap = getattr(self._local, "snapshot", None)
        if snap is not None:
            snap.searcher.close()
            self._local.snapshot = None
