"""What one indexing run did, summarised for a reader: counts, and problems a few of each kind;
and where a run is while it runs (:class:`Progress`)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..ingest import Problem, ReadMeter

__all__ = ["IndexReport", "Progress", "ProgressTracker"]

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
    rebuilt: bool = False  # a fresh generation was built and swapped in (--rebuild, a first build, a new schema)
    new_index: bool = False  # ... and there was no index before: a first build
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

    def _what(self) -> str:
        return "built a new index" if self.new_index else "rebuilt the index" if self.rebuilt else "updated the index"

    def summary(self) -> str:
        indexed = self.added + self.updated
        rate = f", {indexed / self.seconds:.0f} articles/s" if self.seconds > 0 and indexed else ""
        lines = [
            f"{self._what()} in {self.seconds:.1f}s{rate}: {self.added:,} added, {self.updated:,} updated, "
            f"{self.removed:,} removed, {self.unchanged:,} unchanged, {self.count(True):,} skipped, "
            f"{_plural(self.count(False), 'warning')}"
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
            "unchanged": self.unchanged, "rebuilt": self.rebuilt, "new_index": self.new_index,
            "seconds": round(self.seconds, 3),
            "generation": self.generation,
            "skipped": [{"where": p.where, "reason": p.reason} for p in self.skipped],
            "warnings": [{"where": p.where, "reason": p.reason} for p in self.warnings],
            "skipped_total": self.count(True), "warnings_total": self.count(False),
            "omitted": [{"source": source, "skipped": skipped, "kind": kind, "count": n}
                        for source, skipped, kind, n in self._omitted()],
            "failed_sources": [{"source": source, "reason": reason, "kept": self.kept.get(source, 0)}
                               for source, reason in self.failed_sources.items()],
        }


@dataclass(frozen=True)
class Progress:
    """Where an indexing run is, as ``update(on_progress=...)`` is told.

    ``stage`` is ``"reading"`` while the sources are read and what changed is analysed and
    written, then ``"committing"`` once all is read: the new segments are committed (old ones
    rewritten when mostly deleted) and a full build is published, which takes seconds on a
    large index.  ``bytes_read`` of ``bytes_total``: the sources' size on disk (a ``.gz``
    counted compressed), every source listed before the first is read.  ``articles``: how
    many were written so far (what ``progress`` is called with).
    """

    stage: str
    articles: int
    bytes_read: int
    bytes_total: int

    @property
    def fraction(self) -> float | None:
        """How much of the sources was read, 0 to 1; None when they hold no byte."""
        return min(1.0, self.bytes_read / self.bytes_total) if self.bytes_total else None


class ProgressTracker:
    """One run's progress: ``progress(articles)`` on every write as before, and
    ``on_progress(Progress)`` at most every ``interval`` seconds while reading, at once when
    the reading is done and the commit starts."""

    def __init__(self, progress: Callable[[int], None] | None, on_progress: Callable[[Progress], None] | None,
                 interval: float = 0.1):
        self.meter = ReadMeter() if on_progress is not None else None  # sources are measured only if told
        self.articles = 0
        self._progress, self._on_progress, self._interval = progress, on_progress, interval
        self._last = float("-inf")

    def _tell(self, stage: str) -> None:
        if self._on_progress is not None and self.meter is not None:
            self._on_progress(Progress(stage, self.articles, min(self.meter.done, self.meter.total), self.meter.total))

    def written(self, articles: int) -> None:
        self.articles = articles
        if self._progress is not None:
            self._progress(articles)
        self.read()

    def read(self) -> None:
        now = time.monotonic()
        if self._on_progress is not None and now - self._last >= self._interval:
            self._last = now
            self._tell("reading")

    def committing(self) -> None:
        if self.meter is not None:
            self.meter.done = self.meter.total  # all of it read (a file that shrank meanwhile too)
        self._tell("reading")
        self._tell("committing")
