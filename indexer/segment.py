"""pyvi word segmentation that keeps character offsets.

``pyvi.ViTokenizer.tokenize`` returns a re-spaced string with ``_`` between
the syllables of a word and no offsets.  This module runs the same three
steps as pyvi 0.1.1 (syllable regex, CRF tagging, joining rule) but on
``re.finditer`` spans, so every word knows where it sits in the text.  The
result is identical to pyvi's (``tests/test_segment.py`` checks it), it is
faster (features are built once per syllable, as the attribute strings
CRFsuite would derive from pyvi's dictionaries, and ``False`` features, which
add nothing to a CRF score, are not materialised), and it is why pyvi is
pinned to 0.1.1: we lean on its model, word list and joining rule.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import lru_cache

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
    """pyvi's CRF tagger and n-gram sets, loaded on first use (about 0.3 s)."""
    from pyvi.ViTokenizer import ViTokenizer

    return ViTokenizer.model.tagger_, ViTokenizer.bi_grams, ViTokenizer.tri_grams


def _features(tokens: list[str]) -> list[list[str]]:
    """pyvi's ``sent2features``, as the attribute names CRFsuite derives from it.

    python-crfsuite turns ``{"word.lower()": "hà"}`` into the attribute
    ``"word.lower():hà"`` and ``{"word.istitle()": True}`` into
    ``"word.istitle()"``, each with weight 1; ``False`` adds nothing to a CRF
    score.  Handing it those strings directly gives the same labels without a
    dictionary per syllable (``tests/test_segment.py`` compares with pyvi).
    """
    _, bi_grams, tri_grams = _model()
    n = len(tokens)
    lower = [t.lower() for t in tokens]
    title = [t.istitle() for t in tokens]
    upper = [t.isupper() for t in tokens]
    # bigram[i]: tokens i-1, i form a known two-syllable word; trigram[i]: i-2..i.
    bigram = [False] + [(tokens[i - 1] + " " + tokens[i]).lower() in bi_grams for i in range(1, n)]
    trigram = [False, False][:n] + [
        (tokens[i - 2] + " " + tokens[i - 1] + " " + tokens[i]).lower() in tri_grams for i in range(2, n)
    ]
    feats = []
    for i in range(n):
        f = ["bias", "word.lower():" + lower[i]]
        if upper[i]:
            f.append("word.isupper()")
        if title[i]:
            f.append("word.istitle()")
        if tokens[i].isdigit():
            f.append("word.isdigit()")
        if i > 0:
            f.append("-1:word.lower():" + lower[i - 1])
            if title[i - 1]:
                f.append("-1:word.istitle()")
            if upper[i - 1]:
                f.append("-1:word.isupper()")
            if bigram[i]:
                f.append("-1:word.bi_gram()")
            if i > 1 and trigram[i]:
                f.append("-2:word.tri_gram()")
        if i < n - 1:
            f.append("+1:word.lower():" + lower[i + 1])
            if title[i + 1]:
                f.append("+1:word.istitle()")
            if upper[i + 1]:
                f.append("+1:word.isupper()")
            if bigram[i + 1]:
                f.append("+1:word.bi_gram()")
            if i < n - 2 and trigram[i + 2]:
                f.append("+2:word.tri_gram()")
        feats.append(f)
    return feats


def _joins(prev: str, cur: str, label: str) -> bool:
    """pyvi's rule for gluing token ``cur`` to the word before it."""
    return (
        label == "I_W"
        and cur not in _PUNCTUATION
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
    tagger = _model()[0]
    labels = tagger.tag(_features(tokens))
    words = []
    start = 0
    for i in range(1, len(tokens)):
        if not _joins(tokens[i - 1], tokens[i], labels[i]):
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
