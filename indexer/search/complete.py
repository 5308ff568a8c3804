"""Type-ahead: whole phrases the collection's titles hold, completing what is being typed.

A reader expects what a newspaper's box (or Google's, Meilisearch's) gives:
"hà n" -> "hà nội", "hà nam"; "mat tr" -> "mặt trận", "mặt trận tổ quốc";
"ubn" -> "UBND": accented phrases the collection writes, most frequent first,
whether the reader types diacritics or not.  Syllable completions from the
folded lexicon gave accent-stripped fragments ("hà nguoi", "mat trong").

The table holds every run of 1-4 title syllables (titles name topics; bodies
would cost 30 times as much) found in at least ``min_titles`` titles, counted
per occurrence, keyed by its folded form.  It is built once per snapshot from
the title field's posting arrays with NumPy (title syllables have positions
0 .. n-1, so a run is n consecutive positions of one document).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from ..store.arrays_read import SEP
from ..text.normalize import fold, has_diacritics, normalize
from .evaluate import Segment

__all__ = ["Phrases", "build_phrases"]

MAX_SYLLABLES = 4          # "mặt trận tổ quốc"
SMALL_INDEX = 2_000        # below this many articles a phrase in one title is kept
PIECE_SHARE = 0.8          # a run in a longer one this often is left out
_PRIME = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True)
class Phrases:
    keys: list[str]          # folded phrases, sorted
    shown: list[str]         # each as the collection writes it (acronyms in capitals)
    counts: np.ndarray       # its occurrences in titles
    sizes: np.ndarray        # its syllables

    def complete(self, typed: str, limit: int = 8) -> list[str]:
        """Up to ``limit`` completions of ``typed``: the longest tail of its syllables (up to
        four; shorter only where the longer start no phrase) that starts a phrase, completed,
        after what comes before it as typed.  A syllable typed with diacritics must be written so."""
        text = normalize(typed)
        typed_words = text.split()
        words = text.lower().split()
        if not words or limit < 1:
            return []
        open_end = not text[-1:].isspace()  # the last word is still being typed
        out: list[str] = []
        for n in range(min(len(words), MAX_SYLLABLES), 0, -1):
            if out:  # a shorter tail only where the longer ones start no phrase
                break
            tail = words[-n:]
            head = " ".join(typed_words[:-n])
            key = " ".join(fold(w) for w in tail) + ("" if open_end else " ")
            for shown in self._starting(key, tail, open_end, limit):
                full = f"{head} {shown}" if head else shown
                if full not in out:
                    out.append(full)
                if len(out) >= limit:
                    return out
        return out

    def _starting(self, key: str, tail: list[str], open_end: bool, want: int) -> list[str]:
        lo = bisect_left(self.keys, key)
        hi = bisect_left(self.keys, key + "\U0010ffff")
        if lo == hi:
            return []
        order = np.lexsort((self.sizes[lo:hi], -self.counts[lo:hi]))  # ties: the shorter first
        marked = [(i, w) for i, w in enumerate(tail) if has_diacritics(w)]
        found = []
        for j in order.tolist():
            shown = self.shown[lo + j]
            if marked:
                syllables = shown.lower().split()
                if not all(syllables[i] == w or (open_end and i == len(tail) - 1 and syllables[i].startswith(w))
                           for i, w in marked):
                    continue
            found.append(shown)
            if len(found) >= want:
                break
        return found


def build_phrases(segments: list[Segment], doc_count: int, acronyms: Collection[str] = (),
                  min_titles: int | None = None) -> Phrases:
    """The phrase table of these segments (deleted articles left out); ``acronyms``: folded
    syllables shown in capitals."""
    if min_titles is None:
        min_titles = 1 if doc_count < SMALL_INDEX else 2
    totals: dict[str, int] = {}
    for seg in segments:
        for phrase, count in _segment_phrases(seg, min_titles).items():
            totals[phrase] = totals.get(phrase, 0) + count
    # (kept per segment where it reaches ``min_titles``: one in each of two segments is left out)
    # A run nearly always seen inside a longer one is a piece of it, not a phrase: "hà nội bắt"
    # of "hà nội bắt giữ", "mặt với" of "đối mặt với".
    longest: dict[str, int] = {}
    for phrase, count in totals.items():
        if " " in phrase:
            for piece in (phrase.rsplit(" ", 1)[0], phrase.split(" ", 1)[1]):
                longest[piece] = max(longest.get(piece, 0), count)
    rows = sorted((" ".join(fold(s) for s in p.split()), -c, p) for p, c in totals.items()
                  if longest.get(p, 0) < PIECE_SHARE * c)
    keys, out, counts = [], [], []
    for key, minus, phrase in rows:
        keys.append(key)
        out.append(" ".join(s.upper() if s in acronyms else s for s in phrase.split()))
        counts.append(-minus)
    sizes = np.asarray([k.count(" ") + 1 for k in keys], dtype=np.int64)
    return Phrases(keys, out, np.asarray(counts, dtype=np.int64), sizes)


def _segment_phrases(seg: Segment, min_titles: int) -> dict[str, int]:
    arrays = seg.arrays
    lo, hi = arrays.keys.prefixed(f"title{SEP}".encode())
    if lo == hi:
        return {}
    p0, p1 = int(arrays.term_postings[lo]), int(arrays.term_postings[hi])
    docs = arrays.docs.read(p0, p1).astype(np.int64)
    tfs = arrays.tfs.read(p0, p1).astype(np.int64)
    term = np.repeat(np.arange(hi - lo, dtype=np.int64), np.diff(arrays.term_postings[lo:hi + 1]))
    q0, q1 = int(arrays.term_positions[lo]), int(arrays.term_positions[hi])
    pos = np.asarray(np.load(arrays.folder / "positions.npy", mmap_mode="r")[q0:q1], dtype=np.int64)
    owner = np.repeat(np.arange(len(docs)), tfs)
    doc, tid = docs[owner], term[owner]
    if seg.live is not None:
        keep = seg.live[doc]
        doc, tid, pos = doc[keep], tid[keep], pos[keep]
    order = np.lexsort((pos, doc))
    doc, tid, pos = doc[order], tid[order], pos[order]
    found: dict[str, int] = {}
    code = tid.astype(np.uint64) + np.uint64(1)
    for n in range(1, MAX_SYLLABLES + 1):
        if n > 1:  # extend each run by the syllable n-1 places on, where it is the next one
            m = len(doc) - n + 1
            nxt = np.zeros_like(code)
            ok = np.zeros(len(doc), dtype=bool)
            ok[:m] = (doc[n - 1:] == doc[:m]) & (pos[n - 1:] == pos[:m] + n - 1)
            nxt[:m] = tid[n - 1:].astype(np.uint64) + np.uint64(1)
            code = np.where(ok, code * _PRIME + nxt, np.uint64(0))
            valid = ok
        else:
            valid = np.ones(len(doc), dtype=bool)
        starts = np.flatnonzero(valid)
        if not len(starts):
            break
        _, first, counts = np.unique(code[starts], return_index=True, return_counts=True)
        common = counts >= min_titles
        for at, count in zip(starts[first[common]].tolist(), counts[common].tolist()):
            ids = tid[at:at + n].tolist()
            phrase = " ".join(arrays.keys.get(lo + i).decode("utf-8").split(SEP, 1)[1] for i in ids)
            found[phrase] = found.get(phrase, 0) + count
    return found
