"""Failures of an indexing run that a user is told about in one line, not a traceback.

Each leaves the live index as it was (a run commits all it read or nothing) and
releases the write lock, so the next run needs no cleanup.
"""

from __future__ import annotations

import errno

__all__ = ["IndexingFailed", "WorkerFailed", "DiskFull", "is_disk_full"]


class IndexingFailed(RuntimeError):
    """An indexing run stopped; nothing was committed."""


class WorkerFailed(IndexingFailed):
    """A worker process died or could not write its segment."""


class DiskFull(IndexingFailed):
    """The index's disk ran out of space (or quota)."""


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)
