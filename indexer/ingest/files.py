"""Opening a source's files: regular files only, never blocking on a FIFO or a device."""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["NotRegular", "open_regular"]


class NotRegular(OSError):
    """A path that is a FIFO, a device or a socket: reading it could block or never end."""


_FILE_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
               (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"))


def open_regular(path: Path):
    """``path`` opened for binary reading, if it is a regular file (symbolic links followed).

    Opened without blocking, then checked on the open descriptor: a FIFO checked first
    and opened after could block the run for ever (or be swapped in between).
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _FILE_KINDS if test(mode)), "not a regular file")
            raise NotRegular(f"{kind}, not a regular file: not read")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
