"""The analysis chain: normalise, segment, and emit the three kinds of term.

Each text field is indexed three ways (see ``schema.py``):

* syllables (``title``, ``body``): canonical lower-case syllables with
  positions, so a phrase matches whatever the segmenter did with it;
* folded syllables (``*_fold``): the same with diacritics stripped, for
  queries typed without them;
* words (``*_word``): pyvi's multi-syllable words ("mặt_trận"), which reward
  documents where the query's words are really words.

:func:`analyze` does the work once per text and keeps the character span of
every token in the *original* text.  The Whoosh side is a small Tokenizer and
Filter, composed with ``|`` like Whoosh's own analysers, used for queries and
highlighting.  The indexer instead segments each article once, in a worker
process, and hands Whoosh plain lists of terms (Whoosh numbers their
positions), rather than letting it segment the same text three times.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import accumulate, compress
from operator import not_

from whoosh.analysis import Filter, Token, Tokenizer

from .normalize import fold, normalize_with_offsets
from .segment import segment, syllabify

__all__ = [
    "Analysis",
    "FoldFilter",
    "VietnameseTokenizer",
    "analyze",
    "fold_analyzer",
    "syllable_analyzer",
    "word_analyzer",
]

_PIECE_RE = re.compile(r"[^\W_]+")
_GLUED_RE = re.compile(r"\d[.,_]\d+[^\W\d_]|@")


@dataclass
class Analysis:
    """Tokens of one text.  Spans index the original (un-normalised) text."""

    syllables: list[str] = field(default_factory=list)  # canonical, lower-case
    spans: list[tuple[int, int]] = field(default_factory=list)
    words: list[str] = field(default_factory=list)  # compounds only, "mặt_trận"
    word_positions: list[int] = field(default_factory=list)
    word_spans: list[tuple[int, int]] = field(default_factory=list)



def _pieces(out: Analysis, matches, offsets, base: int = 0) -> None:
    found = list(matches)
    if not found:
        return
    # One lower() over the pieces joined by NUL (neither cased nor case-ignorable, so
    # each piece lowers as it would alone), not one call per syllable.
    out.syllables += "\x00".join([m.group(0) for m in found]).lower().split("\x00")
    if offsets is not None:
        out.spans += [offsets.span(base + m.start(), base + m.end()) for m in found]
    elif base:
        out.spans += [(base + m.start(), base + m.end()) for m in found]
    else:
        out.spans += [m.span() for m in found]


def analyze(text: str, words: bool = True, spans: bool = True) -> Analysis:
    """Normalise ``text``, split it into syllables (and pyvi words if asked).

    ``spans=False`` (with words) leaves ``spans`` and ``word_spans`` empty:
    indexing needs only the terms, and offsets cost a tenth of the analysis.

    Segmentation sees the normalised text with its case intact (pyvi uses
    capitals as a signal); terms are lower-cased afterwards.  Punctuation is
    dropped; a token such as "TP." or "covid_19" yields its letter/digit runs.
    """
    out = Analysis()
    if not text:
        return out
    norm, offsets = normalize_with_offsets(text)
    if not words:
        # Syllables are the letter/digit runs of pyvi's tokens, and such a run lies
        # inside one token except where a number group or an e-mail address ends
        # right before a letter ("1.5km", "a@b.vnđ").  pyvi's tokens never cross
        # whitespace, so only the whitespace-delimited chunks holding such a spot
        # take the token path; the rest is one pass of the piece pattern, six times
        # faster, which snippets need (tests/test_analysis.py compares the paths).
        pos = 0
        for m in _GLUED_RE.finditer(norm):
            if m.start() < pos:
                continue
            lo, hi = m.start(), m.end()
            while lo > pos and not norm[lo - 1].isspace():
                lo -= 1
            while hi < len(norm) and not norm[hi].isspace():
                hi += 1
            _pieces(out, _PIECE_RE.finditer(norm, pos, lo), offsets)
            tokens, token_spans = syllabify(norm[lo:hi])
            for token, (start, _) in zip(tokens, token_spans):
                _pieces(out, _PIECE_RE.finditer(token), offsets, lo + start)
            pos = hi
        _pieces(out, _PIECE_RE.finditer(norm, pos), offsets)
        return out
    seg = segment(norm, spans=spans)
    tokens, lower = seg.tokens, seg.lower
    # A token yields its letter/digit runs as syllables: itself (lower-cased) when it is
    # one run, as almost all are; none for punctuation; its runs for a "mixed" token
    # ("1.500", "TP.", "covid_19").  Built with list operations over whole runs of
    # tokens, not a loop per token (tests/test_analysis.py keeps the loop as reference).
    alnum: list[int] = list(map(str.isalnum, tokens))  # 0/1 per token; counts (a copy if mixed): syllables
    mixed = [i for i in compress(range(len(tokens)), map(not_, alnum)) if _PIECE_RE.search(tokens[i])]
    counts = list(alnum) if mixed else alnum
    syllables: list[str] = []
    raw: list[tuple[int, int]] = []
    seg_spans = seg.spans or []  # None unless ``spans``
    prev = 0
    for i in mixed + [len(tokens)]:
        syllables += compress(lower[prev:i], alnum[prev:i])
        if spans:
            raw += compress(seg_spans[prev:i], alnum[prev:i])
        if i < len(tokens):
            found = list(_PIECE_RE.finditer(tokens[i]))
            syllables += [m.group(0).lower() for m in found]
            if spans:
                base = seg_spans[i][0]
                raw += [(base + m.start(), base + m.end()) for m in found]
            counts[i] = len(found)
        prev = i + 1
    out.syllables = syllables
    if spans:
        out.spans = raw if offsets is None else [offsets.span(a, b) for a, b in raw]
    # pyvi's words of two syllables or more (a single mixed token can be one: "1.500").
    at = list(accumulate(counts, initial=0))  # token -> index of its first syllable
    out_spans = out.spans
    for first, last in seg.words:
        a, b = at[first], at[last]
        if b - a >= 2:
            out.words.append("_".join(syllables[a:b]))
            out.word_positions.append(a)
            if spans:
                out.word_spans.append((out_spans[a][0], out_spans[b - 1][1]))
    return out


class VietnameseTokenizer(Tokenizer):
    """Whoosh tokenizer over :func:`analyze`.

    ``kind="syllable"`` emits syllables, ``kind="word"`` pyvi compounds.
    """

    def __init__(self, kind: str = "syllable"):
        if kind not in ("syllable", "word"):
            raise ValueError("kind must be 'syllable' or 'word'")
        self.kind = kind

    def __eq__(self, other):
        return type(self) is type(other) and self.kind == other.kind

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True,
                 mode="", **kwargs):
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        result = analyze(value, words=self.kind == "word")
        items: Iterable[tuple[str, int, tuple[int, int]]]
        if self.kind == "word":
            items = zip(result.words, result.word_positions, result.word_spans)
        else:
            items = ((s, i, span) for i, (s, span) in enumerate(zip(result.syllables, result.spans)))
        for text, pos, (start, end) in items:
            t.text = text
            t.boost = 1.0
            t.stopped = False
            if keeporiginal:
                t.original = value[start:end]
            if positions:
                t.pos = start_pos + pos
            if chars:
                t.startchar = start_char + start
                t.endchar = start_char + end
            yield t


class FoldFilter(Filter):
    """Strips diacritics from each token."""

    def __eq__(self, other):
        return type(self) is type(other)

    def __call__(self, tokens):
        for t in tokens:
            t.text = fold(t.text)
            yield t


def syllable_analyzer():
    return VietnameseTokenizer("syllable")


def fold_analyzer():
    return VietnameseTokenizer("syllable") | FoldFilter()


def word_analyzer():
    return VietnameseTokenizer("word")
