"""Failures of an indexing run that a user is told about in one line, not a traceback.

Each leaves the live index as it was (a run commits all it read or nothing) and
releases the write lock, so the next run needs no cleanup.
"""

from __future__ import annotations

import errno
import re

__all__ = ["IndexingFailed", "WorkerFailed", "DiskFull", "is_disk_full"]


class IndexingFailed(RuntimeError):
    """An indexing run stopped; nothing was committed."""


class WorkerFailed(IndexingFailed):
    """A worker process died or could not write its segment."""


class DiskFull(IndexingFailed):
    """The index's disk ran out of space (or quota)."""


_SHORT_WRITE = re.compile(r"^\d+ requested and \d+ written$")


def is_disk_full(exc: BaseException) -> bool:
    """ENOSPC, a quota, or NumPy's ``tofile`` short write (which carries no errno: on a
    regular file a short write means the space ran out)."""
    if not isinstance(exc, OSError):
        return False
    return exc.errno in (errno.ENOSPC, errno.EDQUOT) or \
        (exc.errno is None and _SHORT_WRITE.match(str(exc)) is not None)
