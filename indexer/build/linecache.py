"""The JSON lines the last update read, so that an update does not parse them again."""

from __future__ import annotations

import marshal
import os
from pathlib import Path

__all__ = ["LINE_CACHE", "read_line_cache", "write_line_cache"]

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
