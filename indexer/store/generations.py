"""Where an index lives on disk, and how a new one replaces the old atomically.

``index_dir/`` holds one or more *generations* (``gen-<time>-<pid>/``, each
a complete Whoosh index) and a ``CURRENT`` file naming the live one.
Incremental updates commit inside the live generation (a Whoosh commit is
itself atomic: a new table of contents is renamed into place).  A full
rebuild writes a new generation beside the live one and then replaces
``CURRENT`` with ``os.replace``, so a reader sees the old index or the new
one, never a half-built one.  A killed build leaves an unreferenced
generation that the next writer deletes; writers hold an ``fcntl`` lock,
which the kernel releases when a process dies, so no stale lock blocks
the next run (forked workers close their inherited copy of the lock's file
descriptor at once, so they cannot keep it alive after their parent dies).
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["IndexBusyError", "NoIndexError", "current_generation", "new_generation",
           "publish", "writer_lock", "cleanup_generations"]

POINTER = "CURRENT"
LOCK = ".writer.lock"
PREFIX = "gen-"


class NoIndexError(FileNotFoundError):
    """There is no built index in the directory yet."""


class IndexBusyError(RuntimeError):
    """Another process is writing this index."""


def current_generation(index_dir: str | Path) -> Path | None:
    """The live generation's folder, or None if nothing has been published."""
    index_dir = Path(index_dir)
    try:
        name = (index_dir / POINTER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    if not name.startswith(PREFIX) or "/" in name or not (index_dir / name).is_dir():
        return None
    return index_dir / name


def new_generation(index_dir: str | Path) -> Path:
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    path = index_dir / f"{PREFIX}{time.strftime('%Y%m%dT%H%M%S')}-{time.time_ns() % 10**9:09d}-{os.getpid()}"
    path.mkdir()
    return path


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(index_dir: str | Path, generation: Path) -> None:
    """Make ``generation`` the live index in one atomic step."""
    index_dir = Path(index_dir)
    for name in os.listdir(generation):
        fd = os.open(generation / name, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    _fsync_dir(generation)
    tmp = index_dir / f".{POINTER}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(generation.name + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, index_dir / POINTER)
    _fsync_dir(index_dir)


def cleanup_generations(index_dir: str | Path, keep_previous: int = 1) -> list[str]:
    """Delete abandoned builds and all but ``keep_previous`` older generations.

    Call only while holding :func:`writer_lock`.  One previous generation is
    kept so that a reader still holding it open keeps working.
    """
    index_dir = Path(index_dir)
    live = current_generation(index_dir)
    gens = sorted(p for p in index_dir.glob(PREFIX + "*") if p.is_dir())
    removed = []
    older = [g for g in gens if live is not None and g.name < live.name]
    doomed = [g for g in gens if live is None or g.name > live.name]
    doomed += older[: max(0, len(older) - keep_previous)]
    for g in doomed:
        shutil.rmtree(g, ignore_errors=True)
        removed.append(g.name)
    for tmp in index_dir.glob(f".{POINTER}.*.tmp"):
        tmp.unlink(missing_ok=True)
    return removed


@contextmanager
def writer_lock(index_dir: str | Path) -> Iterator[int]:
    """Exclusive right to change ``index_dir``; raises IndexBusyError if taken.

    Yields the lock's file descriptor, which a forked child must close.
    """
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(index_dir / LOCK, os.O_CREAT | os.O_WRONLY, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise IndexBusyError(f"another process is updating the index in {index_dir}") from None
            raise
        yield fd
    finally:
        os.close(fd)
