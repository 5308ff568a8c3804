"""pyvi word segmentation that keeps character offsets.

``pyvi.ViTokenizer.tokenize`` returns a re-spaced string with ``_`` between
the syllables of a word and no offsets.  This module runs the same three
steps as pyvi 0.1.1 (syllable regex, CRF tagging, joining rule) but on
``re.finditer`` spans, so every word knows where it sits in the text.  The
result is identical to pyvi's (``tests/test_segment.py`` checks it; ``bench/segmentation.py``
on 20,000 corpus articles) and about four times faster: the CRF model is
decoded from its weights without building pyvi's feature strings (``crf.py``).
It is why pyvi is pinned to 0.1.1: we lean on its model, word list and joining rule.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import lru_cache

from .crf import CrfModel

__all__ = ["Segmentation", "segment", "syllabify", "pyvi_tokenize"]

# pyvi 0.1.1 ViTokenizer.sylabelize, pattern for pattern.
_ABBREVIATIONS = [r"[A-ZĐ]+\.", r"Tp\.", r"Mr\.", r"Mrs\.", r"Ms\.", r"Dr\.", r"ThS\."]
_SPECIALS = [r"==>", r"->", r"\.\.\.", r">>", "\n"]
_WEB = r"\w+://[^\s]+"
_EMAIL = r"([a-zA-Z0-9_.+-]+@([a-zA-Z0-9-]+\.)+[a-zA-Z0-9-]+)"
_DIGIT = r"\d+([\.,_]\d+)+"
_NON_WORD = r"[^\w\s]"
_WORD = r"\w+"
_SYLLABLE_RE = re.compile(
    "(" + "|".join(_ABBREVIATIONS + _SPECIALS + [_WEB, _EMAIL, _DIGIT, _NON_WORD, _WORD]) + ")",
    re.UNICODE,
)
_PUNCTUATION = string.punctuation


@dataclass(frozen=True)
class Segmentation:
    """pyvi's view of a text.

    ``tokens[i]`` is ``text[spans[i][0]:spans[i][1]]``; ``words`` lists the
    ``[first, last)`` token ranges pyvi joins into one word.
    """

    tokens: list[str]
    spans: list[tuple[int, int]]
    words: list[tuple[int, int]]


def syllabify(text: str) -> tuple[list[str], list[tuple[int, int]]]:
    """pyvi's syllable split of NFC ``text``, with spans."""
    tokens: list[str] = []
    spans: list[tuple[int, int]] = []
    for m in _SYLLABLE_RE.finditer(text):
        tokens.append(m.group(0))
        spans.append(m.span())
    return tokens, spans


@lru_cache(maxsize=1)
def _model():
    """pyvi's CRF weights and n-gram sets, loaded on first use (about 0.4 s)."""
    from pyvi.ViTokenizer import ViTokenizer

    return CrfModel.from_file(ViTokenizer.model.modelfile.name), ViTokenizer.bi_grams, ViTokenizer.tri_grams


def _labels(tokens: list[str]) -> list[int]:
    """pyvi's CRF labels (1: inside a word) of ``tokens``, computed as ``crf.py`` explains."""
    model, bi_grams, tri_grams = _model()
    n = len(tokens)
    lower = [t.lower() for t in tokens]
    # bigram[i]: tokens i-1, i form a known two-syllable word; trigram[i]: i-2..i.
    pairs = [a + " " + b for a, b in zip(lower, lower[1:])]
    bigram = [False] + [p in bi_grams for p in pairs]
    trigram = [False, False][:n] + [p + " " + c in tri_grams for p, c in zip(pairs, lower[2:])]
    return model.tag(lower, [t.isupper() for t in tokens], [t.istitle() for t in tokens],
                     [t.isdigit() for t in tokens], bigram, trigram)


def _joins(prev: str, cur: str) -> bool:
    """pyvi's rule for gluing token ``cur``, labelled inside a word, to the word before it."""
    return (
        cur not in _PUNCTUATION
        and prev not in _PUNCTUATION
        and not cur[0].isdigit()
        and not prev[0].isdigit()
        and not (cur[0].istitle() and not prev[0].istitle())
    )


def segment(text: str) -> Segmentation:
    """Segment NFC ``text`` into words exactly as ``pyvi.ViTokenizer.tokenize`` would."""
    tokens, spans = syllabify(text)
    if not tokens:
        return Segmentation([], [], [])
    labels = _labels(tokens)
    words = []
    start = 0
    for i in range(1, len(tokens)):
        if labels[i] != 1 or not _joins(tokens[i - 1], tokens[i]):  # label 1: inside a word (I_W)
            words.append((start, i))
            start = i
    words.append((start, len(tokens)))
    return Segmentation(tokens, spans, words)


def pyvi_tokenize(text: str) -> str:
    """The string ``pyvi.ViTokenizer.tokenize(text)`` returns, rebuilt from :func:`segment`."""
    seg = segment(text)
    if not seg.tokens:
        return text
    return " ".join("_".join(seg.tokens[a:b]) for a, b in seg.words)
