"""The merge policy of an indexing run: segments more than a third deleted are rewritten at
a commit (``store.segment_writer.ReclaimShare``), shared out among worker processes while
the committing process writes its own segment (as tantivy's merge policy sits outside
its segment writer, this one is handed to the writer by the build)."""

from __future__ import annotations

import multiprocessing
import os
import queue
import threading
from dataclasses import dataclass

from whoosh.reading import SegmentReader

from ..errors import WorkerFailed
from ..store.segment_writer import FastSegmentWriter, ReclaimShare
from .workers import POLL_SECONDS, died, exit_when_orphaned, fatal, raise_fatal, stop

__all__ = ["ParallelReclaim", "Reclaim"]


def _reclaim_worker(storage, indexname: str, segments: list, results_q, parent: int,
                    close_fds: tuple[int, ...], limitmb: float) -> None:
    for fd in close_fds:
        os.close(fd)
    threading.Thread(target=exit_when_orphaned, args=(parent,), daemon=True).start()
    try:
        writer = FastSegmentWriter(storage.open_index(indexname), arrays=True, _lk=False, limitmb=limitmb,
                                   compound=False)
        for segment in segments:  # with the parent's deletions: only live documents are copied
            with SegmentReader(writer.storage, writer.schema, segment) as reader:
                writer.add_reader(reader)
        results_q.put(("segment", writer.finish_segment(), None))
    except BaseException as exc:
        results_q.put(fatal(exc))


class Reclaim:
    """Segments being rewritten by worker processes (see :func:`start_reclaim`)."""

    def __init__(self, workers: list, results_q):
        self.workers, self.results_q = workers, results_q

    def join(self) -> list:
        """The rewritten segments, once every worker has handed back its own; raises
        :class:`WorkerFailed` (and stops the others) if one fails or dies."""
        segments: list = []
        try:
            while len(segments) < len(self.workers):
                try:
                    kind, value, extra = self.results_q.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    dead = [w for w in self.workers if w.exitcode not in (None, 0)]
                    if dead:
                        raise WorkerFailed(f"segment rewriter {died(dead[0])}") from None
                    if all(w.exitcode is not None for w in self.workers):
                        raise WorkerFailed("a segment rewriter exited without handing back its segment") from None
                    continue
                if kind != "segment":
                    raise_fatal("a segment rewriter", value, extra)
                segments.append(value)
            for w in self.workers:
                w.join()
            return segments
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        stop(self.workers, self.results_q)


def start_reclaim(writer: FastSegmentWriter, segments: list, jobs: int) -> Reclaim:
    """Rewrite ``segments`` (their live documents) in ``jobs`` worker processes, each
    into a new segment, while the caller goes on (it writes its own segment meanwhile);
    ``Reclaim.join`` hands them back.

    The workers are forked from the committing process, so they see its deletions;
    they close ``writer.close_fds`` (its locks) and exit if it dies, as writers do.
    """
    ctx = multiprocessing.get_context("fork")
    results_q = ctx.Queue()
    groups = [g for g in (segments[i::jobs] for i in range(jobs)) if g]
    workers = [ctx.Process(target=_reclaim_worker, name=f"vnsearch-reclaim-{i}", daemon=True,
                           args=(writer.storage, writer.indexname, group, results_q, os.getpid(),
                                 writer.close_fds, writer.limitmb))
               for i, group in enumerate(groups)]
    for w in workers:
        w.start()
    return Reclaim(workers, results_q)


@dataclass
class ParallelReclaim(ReclaimShare):
    """``ReclaimShare``, the rewriting done by up to ``jobs`` worker processes."""

    jobs: int = 1

    def start(self, writer: FastSegmentWriter, segments: list) -> Reclaim | None:
        if self.jobs <= 1:
            return None
        return start_reclaim(writer, segments, min(self.jobs, len(segments)))
