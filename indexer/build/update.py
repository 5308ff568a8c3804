"""Building and updating the index.

:func:`update_index` compares what is under the given paths with what the
index holds (by id and content hash) and only analyses what is new or
changed; articles that vanished from a path are removed.  Segmentation is
the expensive step, so worker processes (one per core) each analyse articles
and write a segment of their own (``workers.py``), posting arrays included.
See ``store/generations.py`` for how a rebuild is swapped in atomically.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.index import LockError

from ..errors import DiskFull, IndexingFailed, is_disk_full
from ..ingest import Article, Problem, Unchanged, iter_articles, origin_of
from ..store.arrays_write import build_missing, remove_stale
from ..store.documents import analyze_article, read_manifest
from ..store.generations import (
    IndexBusyError,
    NoIndexError,
    cleanup_generations,
    current_generation,
    new_generation,
    publish,
    writer_lock,
)
from ..store.schema import INDEX_NAME, SCHEMA_VERSION, make_schema
from ..store.segment_writer import FastSegmentWriter
from ..text.segment import load_model
from .claims import Claims, kind_of
from .disk import NEARLY_FULL, check_free_space, free_mb, needed_bytes, remove_leftovers
from .linecache import read_line_cache, write_line_cache
from .merge import ParallelReclaim
from .report import IndexReport, Progress, ProgressTracker
from .workers import write_segments

__all__ = ["forget_sources", "update_index"]

# Below this many articles to analyse, worker start-up costs more than it saves.
PARALLEL_THRESHOLD = 64
WRITER_LIMIT_MB = 128  # per writer (each worker has one)


def _analyze_job(article: Article) -> tuple[Article, dict | None, str | None]:
    try:
        return article, analyze_article(article), None
    except Exception as exc:  # a bug or pathological text must not stop the run
        return article, None, f"could not analyse: {type(exc).__name__}: {exc}"


def _version_file(generation: Path) -> Path:
    return generation / "SCHEMA_VERSION"


def update_index(
    paths: list[str | Path],
    index_dir: str | Path,
    rebuild: bool = False,
    jobs: int | None = None,
    progress: Callable[[int], None] | None = None,
    on_problem: Callable[[Problem], None] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> IndexReport:
    """Bring the index in ``index_dir`` up to date with the articles under ``paths``.

    New articles are added, changed ones re-indexed, and articles that are
    gone from a folder (or JSON-lines file) listed in ``paths`` removed;
    articles from other paths are left alone.  ``rebuild=True`` (or a first
    run, or an index from an older schema) builds a fresh generation and
    swaps it in.  ``progress`` is called with the number of articles written;
    ``on_problem`` with every problem (the report keeps a few of each kind); ``on_progress``
    with a :class:`Progress` (bytes of the sources read, of how many; "committing" once read).
    """
    started = time.perf_counter()
    report = IndexReport(on_problem=on_problem)
    index_dir = Path(index_dir)
    jobs = jobs or os.cpu_count() or 1
    with writer_lock(index_dir) as lock_fd:
        cleanup_generations(index_dir)
        live = current_generation(index_dir)
        report.new_index = live is None
        if live is not None:
            remove_leftovers(live)  # of a run that was killed or failed
        fresh = rebuild or live is None or not _version_file(live).exists() or \
            _version_file(live).read_text().strip() != SCHEMA_VERSION
        if fresh:
            check_free_space(index_dir, paths)
        generation = None
        try:
            generation = new_generation(index_dir) if fresh or live is None else live  # live is None only if fresh
            _update(paths, generation, fresh, jobs, lock_fd, report, ProgressTracker(progress, on_progress))
            if fresh and live is not None and report.failed_sources:
                # A rebuild holds only what it read: published, it would lose what an unreadable
                # source held (an incremental update keeps it instead).
                failed = "; ".join(report.failed_sources.values())
                raise IndexingFailed(f"the rebuild was not published, the live index is unchanged: "
                                     f"{len(report.failed_sources)} source(s) could not be read whole ({failed})")
            if fresh:
                publish(index_dir, generation)
                cleanup_generations(index_dir)
        except BaseException as exc:
            full = _disk_full(exc, index_dir)
            if fresh and generation is not None:
                shutil.rmtree(generation, ignore_errors=True)
            elif live is not None:
                remove_leftovers(live)
            if full:
                raise DiskFull(f"disk full while writing the index in {index_dir} ({free_mb(index_dir)} MB "
                               f"free; these sources need about {needed_bytes(paths) // 2**20:,} MB for a "
                               f"full build): nothing was changed") from exc
            raise
    report.seconds = time.perf_counter() - started
    return report


def _disk_full(exc: BaseException, index_dir: Path) -> bool:
    """Whether ``exc`` is a full disk.  Some writers report one without ENOSPC (NumPy's
    tofile: "N requested and M written"), so a failure with next to no space left is one."""
    return is_disk_full(exc) or isinstance(exc, DiskFull) or \
        (isinstance(exc, (OSError, IndexingFailed)) and shutil.disk_usage(index_dir).free < NEARLY_FULL)


def _update(paths: list[str | Path], generation: Path, fresh: bool, jobs: int, lock_fd: int,
            report: IndexReport, tracker: ProgressTracker) -> None:
    """Write what changed under ``paths`` into ``generation`` (a new one if ``fresh``).

    Raises if nothing could be committed; once an update of the live generation is
    committed, a failure of what follows (arrays, caches) is only a warning.
    """
    if fresh:
        ix = whoosh_index.create_in(generation, make_schema(), indexname=INDEX_NAME)
        _version_file(generation).write_text(SCHEMA_VERSION + "\n")
        existing: dict[str, tuple[str, str]] = {}
    else:
        ix = whoosh_index.open_dir(generation, indexname=INDEX_NAME)
        existing = read_manifest(ix)
    report.rebuilt = fresh
    report.generation = generation.name
    origins = {origin_of(p) for p in paths}
    seen: dict[str, tuple[str, str]] = {}  # id -> where and from which source it was first read now
    owned: set[str] = set()  # ids whose indexed version stays, held by the source it is from
    claims = Claims() if fresh else Claims.read(generation)
    cached = {} if fresh else read_line_cache(generation)
    # Lines of the paths read now are re-listed as they are read; other paths' stay.
    lines = {key: entry for key, entry in cached.items() if entry[2] not in origins}
    known = {key: (entry[0], entry[1]) for key, entry in cached.items()
             if existing.get(entry[0]) == (entry[1], entry[2])}  # only what the index holds

    readable = _same_kind(paths, claims, report)
    missing: dict[str, bool] = {}

    def gone(origin: str | None) -> bool:
        if origin is None:
            return False
        if origin not in missing:  # not found: moved or renamed; unreachable (permission denied) is not gone
            try:
                os.lstat(origin)
                missing[origin] = False
            except FileNotFoundError:
                missing[origin] = True
            except OSError:
                missing[origin] = False
        return missing[origin]

    def pending() -> Iterator[Article]:
        for item in iter_articles(readable, known=known, meter=tracker.meter):
            tracker.read()
            if isinstance(item, Problem):
                report.add(item)
                if item.id is not None and item.skipped:
                    seen.setdefault(item.id, (item.where, item.origin))  # keep its old version
                    owned.add(item.id)
                continue
            owner = existing[item.id][1] if item.id in existing else None
            first = seen.get(item.id)
            # A source that no longer exists at all (moved, renamed) hands its ids to one read now.
            if first is not None or not (claims.may_index(item.id, owner, item.origin) or gone(owner)):
                first_where, first_origin = first or (owner, owner)
                report.add(Problem(item.where or item.origin, f"duplicate id {item.id!r}: first indexed from "
                                   f"{first_where}, which keeps it; skipped", id=item.id, origin=item.origin))
                if first_origin != item.origin:
                    claims.claim(item.id, item.origin)
                continue
            seen[item.id] = (item.where or item.origin, item.origin)
            owned.add(item.id)
            claims.took_over(item.id, item.origin)
            if isinstance(item, Unchanged):
                lines[item.line_key] = (item.id, item.hash, item.origin)
                report.unchanged += 1
                continue
            digest = item.content_hash(SCHEMA_VERSION)
            if item.line_key is not None:
                lines[item.line_key] = (item.id, digest, item.origin)
            if existing.get(item.id) == (digest, item.origin):
                report.unchanged += 1
                continue
            yield item

    # Our own lock is held, so Whoosh's can only be held by a dying process: wait for it.
    # compound=False: a reader of a compound segment copies every file in it into
    # memory (BytesIO over the mmap), i.e. the whole index per open searcher.
    try:
        writer = FastSegmentWriter(ix, arrays=True, limitmb=WRITER_LIMIT_MB, timeout=10.0, delay=0.1,
                                   compound=False)
    except LockError:
        ix.close()
        raise IndexBusyError(f"another process still holds the index's write lock in {generation}") from None
    whoosh_lock = getattr(writer.writelock, "fd", None)
    writer.merge_policy = ParallelReclaim(jobs=jobs)
    writer.close_fds = (lock_fd,) + ((whoosh_lock,) if whoosh_lock is not None else ())
    try:
        source = pending()
        batch = list(_take(source, PARALLEL_THRESHOLD))
        if jobs > 1 and len(batch) >= PARALLEL_THRESHOLD:
            segments = _write_parallel(writer, ix, _chain(batch, source), existing, jobs, report, tracker.written)
        else:
            segments = None
            _write_serial(writer, _chain(batch, source), existing, fresh, report, tracker.written)
        tracker.committing()
        _remove_gone(writer, existing, origins, owned, claims, report)
        if segments is None:
            writer.commit(optimize=fresh)
        else:
            writer.commit_with(segments, merge=not fresh)
    except BaseException:
        if not writer.is_closed:
            writer.cancel()
        raise
    finally:
        ix.close()
    claims.forget_unheld(origins - set(report.failed_sources))
    for path in readable:
        if origin_of(path) not in report.failed_sources:
            claims.kinds[origin_of(path)] = kind_of(path) or "file"
            if os.path.isdir(path):
                claims.devices[origin_of(path)] = os.stat(path).st_dev
    try:
        # Posting arrays for vectorised search: the writers built them with their segments;
        # this builds any that are missing (and drops those of merged-away segments).
        build_missing(generation, INDEX_NAME)
        write_line_cache(generation, lines)
        claims.write(generation)
    except Exception as exc:
        if fresh:
            raise  # nothing is published
        report.add(Problem(str(generation), f"the update was committed, but writing what goes beside it failed "
                                            f"({type(exc).__name__}: {exc}); the next run completes it",
                           skipped=False))


def forget_sources(paths: list[str | Path], index_dir: str | Path) -> IndexReport:
    """Remove every article indexed from ``paths`` (as named when indexed), whether or not
    they still exist: how an operator drops a source, or one that was moved away.  An
    article another source also holds is kept, for that source's version to replace."""
    started = time.perf_counter()
    report = IndexReport()
    index_dir = Path(index_dir)
    if current_generation(index_dir) is None:  # checked before the lock, which would create the folder
        raise NoIndexError(f"no index in {index_dir}")
    with writer_lock(index_dir):
        live = current_generation(index_dir)
        if live is None:
            raise NoIndexError(f"no index in {index_dir}")
        report.generation = live.name
        origins = {origin_of(p) for p in paths}
        claims = Claims.read(live)
        ix = whoosh_index.open_dir(live, indexname=INDEX_NAME)
        try:
            held = [(doc_id, origin) for doc_id, (_, origin) in read_manifest(ix).items() if origin in origins]
            doomed = [doc_id for doc_id, origin in held if claims.holder_besides(doc_id, origin) is None]
            if doomed:
                try:
                    writer = FastSegmentWriter(ix, arrays=True, limitmb=WRITER_LIMIT_MB, timeout=10.0, delay=0.1,
                                               compound=False)
                except LockError:
                    raise IndexBusyError(f"another process still holds the index's write lock in {live}") from None
                try:
                    for doc_id in doomed:
                        writer.delete_by_term("id", doc_id)
                    writer.commit()
                except BaseException:
                    if not writer.is_closed:
                        writer.cancel()
                    raise
        except BaseException as exc:
            remove_leftovers(live)
            if _disk_full(exc, index_dir):
                raise DiskFull(f"disk full while removing articles from the index in {index_dir}: nothing was "
                               "changed") from exc
            raise
        finally:
            ix.close()
        remove_stale(live, INDEX_NAME)  # the arrays of segments the commit merged away
        for doc_id, origin in held:
            if doc_id in doomed:
                claims.drop(doc_id)
            else:
                claims.release(doc_id)
                report.add(Problem(origin, f"{doc_id!r} is also in {claims.holder_besides(doc_id, origin)}: kept, "
                                           "and replaced by that source's version when it is next read",
                                   skipped=False, id=doc_id, origin=origin))
        claims.forget_sources(origins)
        try:
            claims.write(live)
        except OSError as exc:
            report.add(Problem(str(live), f"the removal was committed, but writing claims.json failed: {exc}",
                               skipped=False))
        report.removed = len(doomed)
    report.seconds = time.perf_counter() - started
    return report


def _same_kind(paths: list[str | Path], claims: Claims, report: IndexReport) -> list[str | Path]:
    """``paths`` but those that cannot be what they were when last read: a folder that is a
    file now, or the reverse (replaced, not emptied), and an empty folder on another
    filesystem than then (a disk not mounted: its articles are not gone).  Such a source
    fails and keeps its articles."""
    readable = []
    for path in paths:
        origin, now = origin_of(path), kind_of(path)
        before = claims.kinds.get(origin)
        if before is not None and now is not None and now != before:
            report.add(Problem(str(path), f"was a {before} when last indexed and is a {now} now: not read (use "
                                          "--rebuild to index it afresh)", origin=origin, fails_source=True))
        elif now == "folder" and _unmounted(path, claims.devices.get(origin)):
            report.add(Problem(str(path), "an empty folder on another filesystem than when last indexed (a disk "
                                          "not mounted?): not read", origin=origin, fails_source=True))
        else:
            readable.append(path)
    return readable


def _unmounted(folder: str | Path, device: int | None) -> bool:
    """Whether ``folder`` is empty and on another filesystem than ``device``."""
    try:
        if device is None or os.stat(folder).st_dev == device:
            return False
        with os.scandir(folder) as entries:
            return not any(entries)
    except OSError:  # unreadable: iter_articles reports it
        return False


def _remove_gone(writer, existing: dict[str, tuple[str, str]], origins: set[str], owned: set[str],
                 claims: Claims, report: IndexReport) -> None:
    """Delete the articles that a source read whole no longer holds.

    A source that could not be read whole removes nothing (what it still holds is
    unknown); an article another source holds is kept for that source.
    """
    for doc_id, (_, origin) in existing.items():
        if origin not in origins or doc_id in owned:
            continue
        if origin in report.failed_sources:
            report.kept[origin] = report.kept.get(origin, 0) + 1
            continue
        other = claims.holder_besides(doc_id, origin)
        if other is not None:
            claims.release(doc_id)
            report.add(Problem(origin, f"{doc_id!r} is gone from this source but {other} holds it: kept, and "
                                       "replaced by that source's version when it is next read",
                               skipped=False, id=doc_id, origin=origin))
            continue
        writer.delete_by_term("id", doc_id)
        claims.drop(doc_id)
        report.removed += 1


def _write_serial(writer, articles: Iterable[Article], existing: dict, fresh: bool,
                  report: IndexReport, progress: Callable[[int], None] | None) -> None:
    done = 0
    for article in articles:
        article, doc, error = _analyze_job(article)
        if doc is None:
            report.add(Problem(article.where or article.id, error or "failed", id=article.id, origin=article.origin))
            continue
        if fresh:
            writer.add_document(**doc)
        else:
            writer.update_document(**doc)
        if article.id in existing:
            report.updated += 1
        else:
            report.added += 1
        done += 1
        if progress:
            progress(done)


def _write_parallel(writer, ix, articles: Iterator[Article], existing: dict, jobs: int,
                    report: IndexReport, progress: Callable[[int], None] | None) -> list:
    """Workers write the new versions; old versions are deleted only once the new one is written."""
    load_model()  # before forking, so the workers share it
    sent: list[str] = []
    failed: set[str] = set()
    done = 0

    def fed() -> Iterator[Article]:
        for article in articles:
            sent.append(article.id)
            yield article

    def on_written(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done)

    def on_failed(article: Article, reason: str) -> None:
        failed.add(article.id)
        report.add(Problem(article.where or article.id, reason, id=article.id, origin=article.origin))

    segments = write_segments(ix, fed(), analyze_article, jobs, on_written, on_failed,
                              close_fds=writer.close_fds, limitmb=WRITER_LIMIT_MB)
    for doc_id in sent:
        if doc_id in failed:
            continue
        if doc_id in existing:
            writer.delete_by_term("id", doc_id)
            report.updated += 1
        else:
            report.added += 1
    return segments


def _take(iterator: Iterator, n: int) -> Iterator:
    for _, item in zip(range(n), iterator):
        yield item


def _chain(first: list, rest: Iterator) -> Iterator:
    yield from first
    yield from rest
