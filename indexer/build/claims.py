"""Which source an article belongs to when several sources hold the same id, and what
kind of path (folder or file) each source was when last read.

An id belongs to the first source that indexed it (the index stores that source as
the article's ``origin``).  Another source holding the same id is reported as a
duplicate and skipped, and its claim is remembered here, so that when the owner
drops the article it is kept (another source still holds it), and that source's
version replaces it the next time that source is read.  Without this, indexing a
second source silently overwrote the first one's article, and removing it from the
second deleted it although the first still held it.

A source that was a folder and is now a file (or the reverse) is not read: its
articles were not removed from it, it was replaced (``--rebuild`` starts afresh).  Nor is
an empty folder on another filesystem than when last read: a disk not mounted.

Saved as ``claims.json`` in the generation after each commit.  Losing the file
loses only this memory: the next reading of each source reports duplicates again.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Claims"]

CLAIMS = "claims.json"


@dataclass
class Claims:
    others: dict[str, list[str]] = field(default_factory=dict)  # id -> other sources that hold it
    released: set[str] = field(default_factory=set)  # ids kept for another source after their owner dropped them
    kinds: dict[str, str] = field(default_factory=dict)  # source -> "folder" or "file" when last read
    devices: dict[str, int] = field(default_factory=dict)  # folder source -> its filesystem when last read
    _held_now: dict[str, set[str]] = field(default_factory=dict, repr=False)  # id -> sources seen claiming it now

    @classmethod
    def read(cls, generation: Path) -> Claims:
        try:
            data = json.loads((generation / CLAIMS).read_text(encoding="utf-8"))
            return cls({str(k): [str(o) for o in v] for k, v in data["others"].items()},
                       {str(i) for i in data["released"]},
                       {str(k): str(v) for k, v in data.get("kinds", {}).items()},
                       {str(k): int(v) for k, v in data.get("devices", {}).items()})
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return cls()

    def write(self, generation: Path) -> None:
        tmp = generation / f"{CLAIMS}.tmp{os.getpid()}"
        others = {doc_id: origins for doc_id, origins in self.others.items() if origins}
        try:
            tmp.write_text(json.dumps({"others": others, "released": sorted(self.released & set(others)),
                                       "kinds": self.kinds, "devices": self.devices}, ensure_ascii=False),
                           encoding="utf-8")
            os.replace(tmp, generation / CLAIMS)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def may_index(self, doc_id: str, owner: str | None, origin: str) -> bool:
        """Whether ``origin``'s version of ``doc_id`` may be indexed, the index holding it
        from ``owner`` (None: not at all)."""
        return owner is None or owner == origin or doc_id in self.released

    def claim(self, doc_id: str, origin: str) -> None:
        """``origin`` holds ``doc_id`` but another source's version is indexed."""
        self._held_now.setdefault(doc_id, set()).add(origin)
        if origin not in self.others.setdefault(doc_id, []):
            self.others[doc_id].append(origin)

    def took_over(self, doc_id: str, origin: str) -> None:
        """``origin``'s version is now the indexed one."""
        self.released.discard(doc_id)
        if origin in self.others.get(doc_id, ()):
            self.others[doc_id].remove(origin)

    def holder_besides(self, doc_id: str, origin: str) -> str | None:
        """Another source that held ``doc_id`` when last read, if any."""
        return next((o for o in self.others.get(doc_id, ()) if o != origin), None)

    def release(self, doc_id: str) -> None:
        self.released.add(doc_id)

    def drop(self, doc_id: str) -> None:
        self.others.pop(doc_id, None)
        self.released.discard(doc_id)

    def forget_sources(self, origins: set[str]) -> None:
        """Everything remembered of ``origins`` (dropped from the index)."""
        for doc_id, others in list(self.others.items()):
            others[:] = [o for o in others if o not in origins]
            if not others:
                self.drop(doc_id)
        for origin in origins:
            self.kinds.pop(origin, None)
            self.devices.pop(origin, None)

    def forget_unheld(self, read_whole: set[str]) -> None:
        """Claims of sources read whole this run that no longer hold the id."""
        for doc_id, origins in list(self.others.items()):
            held = self._held_now.get(doc_id, set())
            origins[:] = [o for o in origins if o not in read_whole or o in held]
            if not origins:
                self.drop(doc_id)


def kind_of(path: str | Path) -> str | None:
    """"folder", "file" (anything else that exists) or None (missing)."""
    if os.path.isdir(path):
        return "folder"
    return "file" if os.path.lexists(path) else None
