"""Building and updating the index.

:func:`update_index` compares what is under the given paths with what the
index holds (by id and content hash) and only analyses what is new or
changed; articles that vanished from a path are removed.  Segmentation is
the expensive step, so worker processes (one per core) each analyse articles
and write a segment of their own (``parallel.py``), posting arrays included.
See ``storage.py`` for how a rebuild is swapped in atomically.
"""

from __future__ import annotations

import marshal
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from whoosh import index as whoosh_index

from .analysis import analyze
from .articles import Article, Problem, Unchanged, iter_articles, origin_of
from .schema import SCHEMA_VERSION, make_schema
from .parallel import commit_segments, write_segments
from .postings import build_missing
from .writer import FastSegmentWriter
from .storage import cleanup_generations, current_generation, new_generation, publish, writer_lock

__all__ = ["IndexReport", "update_index", "analyze_article", "read_manifest"]

INDEX_NAME = "MAIN"
# Below this many articles to analyse, worker start-up costs more than it saves.
PARALLEL_THRESHOLD = 64
WRITER_LIMIT_MB = 128  # per writer (each worker has one)


@dataclass
class IndexReport:
    """What one indexing run did."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    rebuilt: bool = False
    seconds: float = 0.0
    generation: str = ""

    @property
    def skipped(self) -> list[Problem]:
        return [p for p in self.problems if p.skipped]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.skipped]

    def summary(self) -> str:
        indexed = self.added + self.updated
        rate = f", {indexed / self.seconds:.0f} articles/s" if self.seconds > 0 and indexed else ""
        lines = [
            f"{'rebuilt' if self.rebuilt else 'updated'} index in {self.seconds:.1f}s{rate}: "
            f"{self.added} added, {self.updated} updated, {self.removed} removed, "
            f"{self.unchanged} unchanged, {len(self.skipped)} skipped, {len(self.warnings)} warnings"
        ]
        lines += [f"  skipped {p}" for p in self.skipped]
        lines += [f"  warning {p}" for p in self.warnings]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "added": self.added, "updated": self.updated, "removed": self.removed,
            "unchanged": self.unchanged, "rebuilt": self.rebuilt, "seconds": round(self.seconds, 3),
            "generation": self.generation,
            "skipped": [{"where": p.where, "reason": p.reason} for p in self.skipped],
            "warnings": [{"where": p.where, "reason": p.reason} for p in self.warnings],
        }


def analyze_article(article: Article) -> dict:
    """Whoosh field values for one article: analysed once, reused by the field kinds."""
    doc: dict = {
        "id": article.id,
        "hash": article.hash,
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
    with open(tmp, "wb") as f:
        marshal.dump(lines, f)
    os.replace(tmp, generation / LINE_CACHE)


def _version_file(generation: Path) -> Path:
    return generation / "SCHEMA_VERSION"


def update_index(
    paths: list[str | Path],
    index_dir: str | Path,
    rebuild: bool = False,
    jobs: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> IndexReport:
    """Bring the index in ``index_dir`` up to date with the articles under ``paths``.

    New articles are added, changed ones re-indexed, and articles that are
    gone from a folder (or JSON-lines file) listed in ``paths`` removed;
    articles from other paths are left alone.  ``rebuild=True`` (or a first
    run, or an index from an older schema) builds a fresh generation and
    swaps it in.  ``progress`` is called with the number of articles written.
    """
    started = time.perf_counter()
    report = IndexReport()
    index_dir = Path(index_dir)
    jobs = jobs or os.cpu_count() or 1
    with writer_lock(index_dir) as lock_fd:
        cleanup_generations(index_dir)
        live = current_generation(index_dir)
        fresh = rebuild or live is None or not _version_file(live).exists() or \
            _version_file(live).read_text().strip() != SCHEMA_VERSION
        if fresh:
            generation = new_generation(index_dir)
            ix = whoosh_index.create_in(generation, make_schema(), indexname=INDEX_NAME)
            _version_file(generation).write_text(SCHEMA_VERSION + "\n")
            existing: dict[str, tuple[str, str]] = {}
        else:
            generation = live
            ix = whoosh_index.open_dir(generation, indexname=INDEX_NAME)
            existing = read_manifest(ix)
        report.rebuilt = fresh
        report.generation = generation.name
        origins = {origin_of(p) for p in paths}
        seen: dict[str, str] = {}
        cached = {} if fresh else read_line_cache(generation)
        # Lines of the paths read now are re-listed as they are read; other paths' stay.
        lines = {key: entry for key, entry in cached.items() if entry[2] not in origins}
        known = {key: (entry[0], entry[1]) for key, entry in cached.items()
                 if existing.get(entry[0]) == (entry[1], entry[2])}  # only what the index holds

        def pending() -> Iterator[Article]:
            for item in iter_articles(paths, known=known):
                if isinstance(item, Problem):
                    report.problems.append(item)
                    if item.id is not None and item.skipped:
                        seen.setdefault(item.id, item.where)  # keep its old version
                    continue
                if item.id in seen:
                    report.problems.append(Problem(item.where or item.origin, f"duplicate id {item.id!r} "
                                                   f"(first seen in {seen[item.id]}); skipped", id=item.id))
                    continue
                seen[item.id] = item.where or item.origin
                if item.line_key is not None:
                    lines[item.line_key] = (item.id, item.hash, item.origin)
                if isinstance(item, Unchanged) or existing.get(item.id) == (item.hash, item.origin):
                    report.unchanged += 1
                    continue
                yield item

        # Our own lock is held, so Whoosh's can only be held by a dying process: wait for it.
        # compound=False: a reader of a compound segment copies every file in it into
        # memory (BytesIO over the mmap), i.e. the whole index per open searcher.
        writer = FastSegmentWriter(ix, arrays=True, limitmb=WRITER_LIMIT_MB, timeout=10.0, delay=0.1,
                                   compound=False)
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
            for doc_id, (_, origin) in existing.items():
                if origin in origins and doc_id not in seen:
                    writer.delete_by_term("id", doc_id)
                    report.removed += 1
            if segments is None:
                writer.commit(optimize=fresh)
            else:
                commit_segments(writer, segments, merge=not fresh)
        except BaseException:
            if not writer.is_closed:
                writer.cancel()
            ix.close()
            if fresh:
                shutil.rmtree(generation, ignore_errors=True)
            raise
        ix.close()
        # Posting arrays for vectorised search: the writers built them with their segments;
        # this builds any that are missing (and drops those of merged-away segments).
        try:
            build_missing(generation, INDEX_NAME, jobs)
        except BaseException:
            if fresh:
                shutil.rmtree(generation, ignore_errors=True)
            raise
        write_line_cache(generation, lines)
        if fresh:
            publish(index_dir, generation)
            cleanup_generations(index_dir)
    report.seconds = time.perf_counter() - started
    return report


def _write_serial(writer, articles: Iterable[Article], existing: dict, fresh: bool,
                  report: IndexReport, progress: Callable[[int], None] | None) -> None:
    done = 0
    for article in articles:
        article, doc, error = _analyze_job(article)
        if doc is None:
            report.problems.append(Problem(article.where or article.id, error or "failed", id=article.id))
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
    from .segment import _model

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
        report.problems.append(Problem(article.where or article.id, reason, id=article.id))

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
