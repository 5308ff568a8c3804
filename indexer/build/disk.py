"""Room on the index's disk: checked before a full build, and what a failed run leaves
behind removed."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC, clean_files

from ..errors import DiskFull
from ..store.arrays_write import remove_stale
from ..store.schema import INDEX_NAME

__all__ = ["NEARLY_FULL", "check_free_space", "free_mb", "needed_bytes", "remove_leftovers"]

# An index takes about 3.5 times its articles' text (1,312 MB for the full corpus's
# 373 MB); a .jsonl.gz holds about a quarter of its text; writing needs room for the
# posting pools' spills on top.
INDEX_PER_TEXT_BYTE = 3.5
GZIP_RATIO = 4
SPARE_BYTES = 2**20
NEARLY_FULL = 2**20  # free bytes below which a failed write is taken for a full disk


def needed_bytes(paths: list[str | Path]) -> int:
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


def free_mb(index_dir: Path) -> int:
    return shutil.disk_usage(index_dir).free // 2**20


def check_free_space(index_dir: Path, paths: list[str | Path]) -> None:
    """Refuse a full build that cannot fit, before writing anything: failing at 90% wastes the
    run, and fills a disk the live index and its readers need."""
    needed = needed_bytes(paths)
    free = shutil.disk_usage(index_dir).free
    if free < needed:
        raise DiskFull(f"not enough free space in {index_dir} to build the index: about {needed // 2**20:,} MB "
                       f"needed for these sources, {free // 2**20:,} MB free: nothing was changed")


def remove_leftovers(generation: Path) -> None:
    """What a failed or killed run left in a generation: Whoosh's temporary folder, files
    and posting arrays of segments that no table of contents lists, half-written caches."""
    storage = FileStorage(str(generation))
    try:
        toc = TOC.read(storage, INDEX_NAME)
    except Exception:  # no readable table of contents: nothing to compare with
        return
    clean_files(storage, INDEX_NAME, toc.generation, toc.segments)
    shutil.rmtree(generation / f"{INDEX_NAME}.tmp", ignore_errors=True)
    remove_stale(generation, INDEX_NAME)
    for stale in generation.glob("*.tmp[0-9]*"):
        if stale.is_file():
            stale.unlink(missing_ok=True)
