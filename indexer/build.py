"""Building and updating the index.

:func:`update_index` compares what is under the given paths with what the
index holds (by id and content hash) and only analyses what is new or
changed; articles that vanished from a path are removed.  Segmentation is
the expensive step, so worker processes (one per core) each analyse articles
and write a segment of their own (``parallel.py``), posting arrays included.
See ``storage.py`` for how a rebuild is swapped in atomically.
"""

from __future__ import annotations

import json
import marshal
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC, LockError, clean_files

from .text.analysis import analyze
from .ingest import Article, Problem, Unchanged, iter_articles, origin_of
from .claims import Claims, kind_of
from .schema import SCHEMA_VERSION, make_schema
from .parallel import commit_segments, write_segments
from .errors import DiskFull, IndexingFailed, is_disk_full
from .postings import build_missing, remove_stale
from .writer import FastSegmentWriter
from .storage import IndexBusyError, NoIndexError, cleanup_generations, current_generation, new_generation, publish, writer_lock

__all__ = ["IndexReport", "forget_sources", "update_index", "analyze_article", "read_manifest"]

INDEX_NAME = "MAIN"
# Below this many articles to analyse, worker start-up costs more than it saves.
PARALLEL_THRESHOLD = 64
WRITER_LIMIT_MB = 128  # per writer (each worker has one)


EXAMPLES_PER_KIND = 10  # problems of one kind from one source listed one by one; the rest counted


def _kind(reason: str) -> str:
    """What a problem is, without its particulars: reports count problems per source and
    kind, so two million bad lines cost a counter, not two million lines of report."""
    general = re.sub(r"'[^']*'|\"[^\"]*\"|\d[\d,.]*", "…", reason)
    return re.split(r"[:(]", general, maxsplit=1)[0].strip()


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


@dataclass
class IndexReport:
    """What one indexing run did.

    ``problems`` holds up to ``EXAMPLES_PER_KIND`` examples of each kind of problem per
    source; ``problem_counts`` counts them all.  ``failed_sources`` maps each source that
    could not be read whole to why; nothing it held was removed (``kept`` counts those
    articles a complete read might have removed).
    """

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_counts: dict[tuple[str, bool, str], int] = field(default_factory=dict)
    failed_sources: dict[str, str] = field(default_factory=dict)
    kept: dict[str, int] = field(default_factory=dict)
    rebuilt: bool = False
    seconds: float = 0.0
    generation: str = ""
    on_problem: Callable[[Problem], None] | None = field(default=None, repr=False, compare=False)

    def add(self, problem: Problem) -> None:
        if self.on_problem is not None:
            self.on_problem(problem)
        key = (problem.origin or problem.where, problem.skipped, _kind(problem.reason))
        n = self.problem_counts[key] = self.problem_counts.get(key, 0) + 1
        if n <= EXAMPLES_PER_KIND:
            self.problems.append(problem)
        if problem.fails_source:
            self.failed_sources.setdefault(problem.origin or problem.where, f"{problem.where}: {problem.reason}")

    @property
    def skipped(self) -> list[Problem]:
        return [p for p in self.problems if p.skipped]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.skipped]

    def count(self, skipped: bool) -> int:
        return sum(n for (_, s, _), n in self.problem_counts.items() if s == skipped)

    def _omitted(self) -> list[tuple[str, bool, str, int]]:
        return [(source, skipped, kind, n - EXAMPLES_PER_KIND)
                for (source, skipped, kind), n in self.problem_counts.items() if n > EXAMPLES_PER_KIND]

    def summary(self) -> str:
        indexed = self.added + self.updated
        rate = f", {indexed / self.seconds:.0f} articles/s" if self.seconds > 0 and indexed else ""
        lines = [
            f"{'built' if self.rebuilt else 'updated'} index in {self.seconds:.1f}s{rate}: "
            f"{self.added} added, {self.updated} updated, {self.removed} removed, "
            f"{self.unchanged} unchanged, {self.count(True)} skipped, {_plural(self.count(False), 'warning')}"
        ]
        lines += [f"  skipped {p}" for p in self.skipped]
        lines += [f"  warning {p}" for p in self.warnings]
        lines += [f"  … {n:,} more {'skipped' if skipped else 'warnings'} in {source}: {kind}"
                  for source, skipped, kind, n in self._omitted()]
        for source in self.failed_sources:
            kept = self.kept.get(source, 0)
            lines.append(f"  source not read whole: {source}: nothing it held was removed"
                         + (f" ({_plural(kept, 'article')} not seen this time kept)" if kept else ""))
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "added": self.added, "updated": self.updated, "removed": self.removed,
            "unchanged": self.unchanged, "rebuilt": self.rebuilt, "seconds": round(self.seconds, 3),
            "generation": self.generation,
            "skipped": [{"where": p.where, "reason": p.reason} for p in self.skipped],
            "warnings": [{"where": p.where, "reason": p.reason} for p in self.warnings],
            "skipped_total": self.count(True), "warnings_total": self.count(False),
            "omitted": [{"source": source, "skipped": skipped, "kind": kind, "count": n}
                        for source, skipped, kind, n in self._omitted()],
            "failed_sources": [{"source": source, "reason": reason, "kept": self.kept.get(source, 0)}
                               for source, reason in self.failed_sources.items()],
        }


def analyze_article(article: Article) -> dict:
    """Whoosh field values for one article: analysed once, reused by the field kinds."""
    doc: dict = {
        "id": article.id,
        "hash": article.content_hash(SCHEMA_VERSION),
        "origin": article.origin,
        "path": article.path,
        "url": article.url,
        "source": article.source,
        "category": article.category,
        "has_time": article.has_time,
    }
    if article.date is not None:
        doc["date"] = article.date
        doc["year"] = article.date.year
    for name, text in (("title", article.title), ("body", article.body), ("author", article.author)):
        result = analyze(text, spans=False)  # terms only: offsets are for snippets
        doc[name] = result.syllables  # the *_fold fields are derived from these (folded.py)
        doc[name + "_word"] = result.words
        doc["_stored_" + name] = text
    return doc


def _analyze_job(article: Article) -> tuple[Article, dict | None, str | None]:
    try:
        return article, analyze_article(article), None
    except Exception as exc:  # a bug or pathological text must not stop the run
        return article, None, f"could not analyse: {type(exc).__name__}: {exc}"


def read_manifest(ix) -> dict[str, tuple[str, str]]:
    """id -> (hash, origin) of every live document, read from columns (no stored bodies)."""
    manifest = {}
    with ix.reader() as reader:
        if reader.doc_count() == 0:
            return manifest
        # Each column read whole, in docnum order (deleted documents too): twice as fast
        # as a lookup per document, which finds the segment and its reader every time.
        ids, hashes, origins = (list(reader.column_reader(name)) for name in ("id", "hash", "origin"))
        if not len(ids) == len(hashes) == len(origins) == reader.doc_count_all():
            raise RuntimeError("index columns do not cover every document")
        for docnum in reader.all_doc_ids():
            manifest[ids[docnum]] = (hashes[docnum], origins[docnum])
    return manifest


LINE_CACHE = "lines.cache"


def read_line_cache(generation: Path) -> dict[bytes, tuple[str, str, str]]:
    """``line_key -> (id, hash, origin)`` of the JSON lines the last update read.

    Only a cache: an update trusts an entry only if the index holds that id with
    that hash and origin, so a missing, old or damaged file costs a re-read, nothing more.
    """
    try:
        with open(generation / LINE_CACHE, "rb") as f:
            cache = marshal.load(f)
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    return cache if isinstance(cache, dict) else {}


def write_line_cache(generation: Path, lines: dict[bytes, tuple[str, str, str]]) -> None:
    for stale in generation.glob(f"{LINE_CACHE}.tmp*"):  # left by a run killed while writing it
        stale.unlink(missing_ok=True)
    tmp = generation / f"{LINE_CACHE}.tmp{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            marshal.dump(lines, f)
        os.replace(tmp, generation / LINE_CACHE)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a full disk: nothing half-written stays behind
        raise


def _version_file(generation: Path) -> Path:
    return generation / "SCHEMA_VERSION"


def update_index(
    paths: list[str | Path],
    index_dir: str | Path,
    rebuild: bool = False,
    jobs: int | None = None,
    progress: Callable[[int], None] | None = None,
    on_problem: Callable[[Problem], None] | None = None,
) -> IndexReport:
    """Bring the index in ``index_dir`` up to date with the articles under ``paths``.

    New articles are added, changed ones re-indexed, and articles that are
    gone from a folder (or JSON-lines file) listed in ``paths`` removed;
    articles from other paths are left alone.  ``rebuild=True`` (or a first
    run, or an index from an older schema) builds a fresh generation and
    swaps it in.  ``progress`` is called with the number of articles written;
    ``on_problem`` with every problem (the report keeps a few of each kind).
    """
    started = time.perf_counter()
    report = IndexReport(on_problem=on_problem)
    index_dir = Path(index_dir)
    jobs = jobs or os.cpu_count() or 1
    with writer_lock(index_dir) as lock_fd:
        cleanup_generations(index_dir)
        live = current_generation(index_dir)
        if live is not None:
            _remove_leftovers(live)  # of a run that was killed or failed
        fresh = rebuild or live is None or not _version_file(live).exists() or \
            _version_file(live).read_text().strip() != SCHEMA_VERSION
        if fresh:
            _check_free_space(index_dir, paths)
        generation = None
        try:
            generation = new_generation(index_dir) if fresh else live
            _update(paths, generation, fresh, jobs, lock_fd, report, progress)
            if fresh:
                publish(index_dir, generation)
                cleanup_generations(index_dir)
        except BaseException as exc:
            # Some writers report a full disk without ENOSPC (NumPy's tofile: "N requested and M
            # written"), so a failure with next to no space left is taken for one.
            full = is_disk_full(exc) or isinstance(exc, DiskFull) or \
                isinstance(exc, (OSError, IndexingFailed)) and shutil.disk_usage(index_dir).free < NEARLY_FULL
            if fresh and generation is not None:
                shutil.rmtree(generation, ignore_errors=True)
            elif live is not None:
                _remove_leftovers(live)
            if full:
                raise DiskFull(f"disk full while writing the index in {index_dir} ({_free_mb(index_dir)} MB "
                               f"free; these sources need about {_needed_bytes(paths) // 2**20:,} MB for a "
                               f"full build): nothing was changed") from exc
            raise
    report.seconds = time.perf_counter() - started
    return report


# An index takes about 3.5 times its articles' text (1,312 MB for the full corpus's
# 373 MB); a .jsonl.gz holds about a quarter of its text; writing needs room for the
# posting pools' spills on top.
INDEX_PER_TEXT_BYTE = 3.5
GZIP_RATIO = 4
SPARE_BYTES = 2**20
NEARLY_FULL = 2**20  # free bytes below which a failed write is taken for a full disk


def _needed_bytes(paths: list[str | Path]) -> int:
    """Room a full build of ``paths`` needs, estimated from the sources' size on disk."""
    text = 0
    for raw in paths:
        files = [Path(raw)] if not os.path.isdir(raw) else \
            [Path(d) / n for d, _, names in os.walk(raw) for n in names]
        for f in files:
            try:
                size = f.stat().st_size if f.is_file() else 0
            except OSError:
                continue
            text += size * (GZIP_RATIO if f.name.endswith(".gz") else 1)
    return int(text * INDEX_PER_TEXT_BYTE) + SPARE_BYTES


def _free_mb(index_dir: Path) -> int:
    return shutil.disk_usage(index_dir).free // 2**20


def _check_free_space(index_dir: Path, paths: list[str | Path]) -> None:
    """Refuse a full build that cannot fit, before writing anything: failing at 90% wastes the
    run, and fills a disk the live index and its readers need."""
    needed = _needed_bytes(paths)
    free = shutil.disk_usage(index_dir).free
    if free < needed:
        raise DiskFull(f"not enough free space in {index_dir} to build the index: about {needed // 2**20:,} MB "
                       f"needed for these sources, {free // 2**20:,} MB free: nothing was changed")


def _remove_leftovers(generation: Path) -> None:
    """What a failed or killed run left in a generation: Whoosh's temporary folder, files
    and posting arrays of segments that no table of contents lists, half-written caches."""
    storage = FileStorage(str(generation))
    try:
        toc = TOC.read(storage, INDEX_NAME)
    except Exception:  # noqa: BLE001 - no readable table of contents: nothing to compare with
        return
    clean_files(storage, INDEX_NAME, toc.generation, toc.segments)
    shutil.rmtree(generation / f"{INDEX_NAME}.tmp", ignore_errors=True)
    remove_stale(generation, INDEX_NAME)
    for stale in generation.glob("*.tmp[0-9]*"):
        if stale.is_file():
            stale.unlink(missing_ok=True)


def _update(paths: list[str | Path], generation: Path, fresh: bool, jobs: int, lock_fd: int,
            report: IndexReport, progress: Callable[[int], None] | None) -> None:
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
        if origin not in missing:
            missing[origin] = not os.path.lexists(origin)
        return missing[origin]

    def pending() -> Iterator[Article]:
        for item in iter_articles(readable, known=known):
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
    writer.reclaim_jobs = jobs
    writer.close_fds = (lock_fd,) + ((whoosh_lock,) if whoosh_lock is not None else ())
    try:
        source = pending()
        batch = list(_take(source, PARALLEL_THRESHOLD))
        if jobs > 1 and len(batch) >= PARALLEL_THRESHOLD:
            segments = _write_parallel(writer, ix, _chain(batch, source), existing, jobs, report, progress)
        else:
            segments = None
            _write_serial(writer, _chain(batch, source), existing, fresh, report, progress)
        _remove_gone(writer, existing, origins, owned, claims, report)
        if segments is None:
            writer.commit(optimize=fresh)
        else:
            commit_segments(writer, segments, merge=not fresh)
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
    try:
        # Posting arrays for vectorised search: the writers built them with their segments;
        # this builds any that are missing (and drops those of merged-away segments).
        build_missing(generation, INDEX_NAME, jobs)
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
    they still exist: how an operator drops a source, or one that was moved away."""
    started = time.perf_counter()
    report = IndexReport()
    index_dir = Path(index_dir)
    with writer_lock(index_dir):
        live = current_generation(index_dir)
        if live is None:
            raise NoIndexError(f"no index in {index_dir}")
        report.generation = live.name
        origins = {origin_of(p) for p in paths}
        ix = whoosh_index.open_dir(live, indexname=INDEX_NAME)
        try:
            doomed = [doc_id for doc_id, (_, origin) in read_manifest(ix).items() if origin in origins]
            if doomed:
                writer = FastSegmentWriter(ix, arrays=True, limitmb=WRITER_LIMIT_MB, timeout=10.0, delay=0.1,
                                           compound=False)
                try:
                    for doc_id in doomed:
                        writer.delete_by_term("id", doc_id)
                    writer.commit()
                except BaseException:
                    if not writer.is_closed:
                        writer.cancel()
                    raise
        finally:
            ix.close()
        build_missing(live, INDEX_NAME)
        claims = Claims.read(live)
        for doc_id in doomed:
            claims.drop(doc_id)
        claims.forget_sources(origins)
        claims.write(live)
        report.removed = len(doomed)
    report.seconds = time.perf_counter() - started
    return report


def _same_kind(paths: list[str | Path], claims: Claims, report: IndexReport) -> list[str | Path]:
    """``paths`` but those that were a folder when last read and are a file now, or the
    reverse: such a source was replaced, not emptied, so it fails and keeps its articles."""
    readable = []
    for path in paths:
        origin, now = origin_of(path), kind_of(path)
        before = claims.kinds.get(origin)
        if before is not None and now is not None and now != before:
            report.add(Problem(str(path), f"was a {before} when last indexed and is a {now} now: not read (use "
                                          "--rebuild to index it afresh)", origin=origin, fails_source=True))
        else:
            readable.append(path)
    return readable


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
    from .text.segment import _model

    _model()  # load pyvi before forking so the workers share it
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
