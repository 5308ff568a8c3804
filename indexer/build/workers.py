"""Writing index segments in worker processes.

Segmentation costs most of indexing, and Whoosh's writer is single-threaded
Python, so a single writer fed by analysis workers tops out near 100
articles/s whatever the number of cores.  Here each worker both analyses
and writes: it owns a Whoosh segment writer of its own (``writer.py``; as
Whoosh's ``MpWriter`` does with ``multisegment=True``) and hands back a finished
segment, which the parent adds to the index's table of contents in its one
commit.  Scores do not depend on how documents are spread over segments
(BM25 statistics are read from the whole index).

Unlike ``MpWriter``, a failure is never silent: an article that cannot be
analysed is reported and skipped, while a worker that dies or cannot write
aborts the whole commit (the index is left as it was).  Workers exit on
their own (within ``POLL_SECONDS``, releasing every lock) if the parent is killed.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator

from ..errors import DiskFull, WorkerFailed, is_disk_full
from ..ingest import Article
from ..store.segment_writer import FastSegmentWriter

__all__ = ["POLL_SECONDS", "WorkerFailed", "died", "exit_when_orphaned", "fatal", "raise_fatal", "stop",
           "write_segments"]

BATCH = 16  # articles per message to a worker
POLL_SECONDS = 0.2


def fatal(exc: BaseException) -> tuple[str, str, str]:
    """A worker's failure as a message: one line for the user, the kind of failure."""
    return ("fatal", f"{type(exc).__name__}: {exc}", "disk" if is_disk_full(exc) else "error")


def raise_fatal(who: str, line: str, kind: str) -> None:
    if kind == "disk":
        raise DiskFull(f"{who} ran out of disk space: {line}")
    raise WorkerFailed(f"{who} failed: {line}")


def died(worker) -> str:
    code = worker.exitcode
    if code is not None and code < 0:
        try:
            return f"{worker.name} was killed by {signal.Signals(-code).name}"
        except ValueError:
            pass
    return f"{worker.name} died (exit code {code})"


def _batches(articles: Iterable[Article], size: int) -> Iterator[list[Article]]:
    batch: list[Article] = []
    for article in articles:
        batch.append(article)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def exit_when_orphaned(parent: int) -> None:
    while True:
        time.sleep(POLL_SECONDS)
        if os.getppid() != parent:
            os._exit(0)


def _worker(storage, indexname: str, jobs_q, results_q, parent: int, close_fds: tuple[int, ...],
            analyze: Callable[[Article], dict], limitmb: int) -> None:
    for fd in close_fds:
        os.close(fd)  # the parent's locks must die with the parent, not live on in an orphan
    # An orphan can block anywhere (a full result pipe, flushing it at exit): a watchdog
    # ends it within POLL_SECONDS of the parent's death, whatever it is doing.
    threading.Thread(target=exit_when_orphaned, args=(parent,), daemon=True).start()
    try:
        writer = FastSegmentWriter(storage.open_index(indexname), arrays=True, _lk=False, limitmb=limitmb,
                                   compound=False)
        while True:
            try:
                batch = jobs_q.get(timeout=POLL_SECONDS)
            except queue.Empty:
                continue
            if batch is None:
                break
            failed = []
            for article in batch:
                try:
                    doc = analyze(article)
                except Exception as exc:  # a bug or pathological text must not stop the run
                    failed.append((article, f"could not analyse: {type(exc).__name__}: {exc}"))
                    continue
                writer.add_document(**doc)
            results_q.put(("written", len(batch) - len(failed), failed))
        # Not a commit, nor writer._finish(): it would delete the temp folder the parent shares.
        results_q.put(("segment", writer.finish_segment(), None))
    except BaseException as exc:
        results_q.put(fatal(exc))


def write_segments(
    ix,
    articles: Iterable[Article],
    analyze: Callable[[Article], dict],
    jobs: int,
    on_written: Callable[[int], None],
    on_failed: Callable[[Article, str], None],
    close_fds: tuple[int, ...] = (),
    limitmb: int = 128,
) -> list:
    """Analyse and write ``articles`` into new segments of ``ix``, ``jobs`` at a time.

    Returns the finished segments; the caller commits them (see
    :func:`commit_segments`).  ``on_written(n)`` is called as batches land
    and ``on_failed(article, reason)`` for each article that was skipped.
    ``close_fds`` are closed in each worker at once: lock files held by the
    parent, which an orphaned worker would otherwise keep locked.  Raises
    :class:`WorkerFailed` if any worker dies.
    """
    ctx = multiprocessing.get_context("fork")  # workers share the loaded pyvi model
    jobs_q = ctx.Queue(maxsize=jobs * 2)  # bounds the articles in flight
    results_q = ctx.Queue()
    workers = [
        ctx.Process(target=_worker, name=f"vnsearch-writer-{i}", daemon=True,
                    args=(ix.storage, ix.indexname, jobs_q, results_q, os.getpid(), close_fds, analyze, limitmb))
        for i in range(jobs)
    ]
    for w in workers:
        w.start()
    segments: list = []
    finished = 0

    def handle(message) -> None:
        nonlocal finished
        kind, value, extra = message
        if kind == "written":
            for article, reason in extra:
                on_failed(article, reason)
            on_written(value)
        elif kind == "segment":
            finished += 1
            if value is not None:
                segments.append(value)
        else:
            raise_fatal("an index writer", value, extra)

    def check_workers() -> None:
        dead = [w for w in workers if w.exitcode not in (None, 0)]
        if dead:
            raise WorkerFailed(f"index writer {died(dead[0])}")

    def drain() -> None:
        try:
            while True:
                handle(results_q.get_nowait())
        except queue.Empty:
            check_workers()

    def send(item) -> None:
        while True:
            try:
                jobs_q.put(item, timeout=POLL_SECONDS)
                break
            except queue.Full:
                drain()
        drain()

    try:
        for batch in _batches(articles, BATCH):
            send(batch)
        for _ in workers:
            send(None)
        while finished < len(workers):
            try:
                handle(results_q.get(timeout=POLL_SECONDS))
            except queue.Empty:
                check_workers()
                if all(w.exitcode is not None for w in workers):  # all gone, a segment missing
                    raise WorkerFailed("an index writer exited without handing back its segment") from None
        for w in workers:
            w.join()
        return segments
    except BaseException:
        stop(workers, jobs_q, results_q)
        raise


def stop(workers: list, *queues) -> None:
    """Kill ``workers`` and let go of ``queues`` without waiting: a queue's feeder thread
    blocked writing to a dead worker's pipe would otherwise hold the process at exit
    for ever (and with it the write lock)."""
    for w in workers:
        if w.is_alive():
            w.kill()
    for w in workers:
        w.join()
    for q in queues:
        q.cancel_join_thread()
        q.close()
