"""Acronyms and their expansions (MTTQ <-> Mặt trận Tổ quốc), read from data files.

Expansion happens at query time, so a line added to a file takes effect on
the next query without re-indexing.  Both sides are stored as syllable
sequences (analysed like any text), and matched on their diacritic-folded
form, so "mttq", "MTTQ", "mat tran to quoc" and "Mặt trận Tổ quốc" all land
in the same group.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .analysis import analyze
from .normalize import fold

__all__ = ["AcronymTable", "load_acronyms", "DEFAULT_ACRONYMS"]

log = logging.getLogger(__name__)
DEFAULT_ACRONYMS = "acronyms.txt"

Phrase = tuple[str, ...]


@dataclass(frozen=True)
class AcronymTable:
    """Groups of equivalent syllable sequences, keyed by their folded form."""

    groups: dict[Phrase, tuple[Phrase, ...]]
    max_len: int

    def match(self, folded: list[str], start: int) -> tuple[int, tuple[Phrase, ...]] | None:
        """Longest entry starting at ``folded[start]``: (length, all forms of its group)."""
        for length in range(min(self.max_len, len(folded) - start), 0, -1):
            forms = self.groups.get(tuple(folded[start : start + length]))
            if forms:
                return length, forms
        return None


def _parse(text: str, origin: str) -> list[tuple[Phrase, Phrase]]:
    pairs = []
    for lineno, line in enumerate(text.split("\n"), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        short, sep, long = line.partition("=")
        a = tuple(analyze(short, words=False).syllables)
        b = tuple(analyze(long, words=False).syllables)
        if not sep or not a or not b:
            log.warning("%s:%d: ignored, expected 'ACRONYM = expansion': %r", origin, lineno, line)
            continue
        pairs.append((a, b))
    return pairs


def load_acronyms(*paths: str | Path | None, include_default: bool = True) -> AcronymTable:
    """Read the packaged list plus any existing ``paths`` (later files add entries)."""
    pairs: list[tuple[Phrase, Phrase]] = []
    if include_default:
        text = resources.files("indexer.text.data").joinpath(DEFAULT_ACRONYMS).read_text(encoding="utf-8")
        pairs += _parse(text, DEFAULT_ACRONYMS)
    for path in paths:
        if path and Path(path).is_file():
            pairs += _parse(Path(path).read_text(encoding="utf-8-sig"), str(path))
    # Union the pairs into groups: every form of a group is an alternative of every other.
    group_of: dict[Phrase, set[Phrase]] = {}
    for a, b in pairs:
        merged = group_of.get(tuple(map(fold, a)), {a}) | group_of.get(tuple(map(fold, b)), {b}) | {a, b}
        for form in merged:
            group_of[tuple(map(fold, form))] = merged
    groups = {key: tuple(sorted(forms)) for key, forms in group_of.items()}
    return AcronymTable(groups, max((len(k) for k in groups), default=0))
