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
from itertools import compress, filterfalse

from .crf import CrfModel

__all__ = ["Segmentation", "segment", "syllabify", "pyvi_tokenize"]

# pyvi 0.1.1 ViTokenizer.sylabelize, pattern for pattern.
_ABBREVIATIONS = [r"[A-ZĐ]+\.", r"Tp\.", r"Mr\.", r"Mrs\.", r"Ms\.", r"Dr\.", r"ThS\."]
_SPECIALS = [r"==>", r"->", r"\.\.\.", r">>", "\n"]
_WEB = r"\w+://[^\s]+"
_EMAIL = r"(?:[a-zA-Z0-9_.+-]+@(?:[a-zA-Z0-9-]+\.)+[a-zA-Z0-9-]+)"  # groups not capturing: findall
_DIGIT = r"\d+(?:[\.,_]\d+)+"
_NON_WORD = r"[^\w\s]"
_WORD = r"\w+"
# Tried first: a run of letters that pyvi's pattern can only match as _WORD, because
# what follows it (not a word character, ".", ":", "@", "+" or "-") rules out an
# abbreviation, a URL and an e-mail address.  Most syllables are such a run, and
# this spares them a try of every other alternative; the tokens are the same
# (tests/test_segment.py, bench/segmentation.py).
_PLAIN_WORD = r"[^\W\d_]+(?![\w.:@+\-])"
_SYLLABLE_RE = re.compile("|".join([_PLAIN_WORD] + _ABBREVIATIONS + _SPECIALS + [_WEB, _EMAIL, _DIGIT, _NON_WORD, _WORD]))
_PYVI_SYLLABLE_RE = re.compile(  # pyvi's own pattern, which the tests compare with
    "(" + "|".join(_ABBREVIATIONS + _SPECIALS + [_WEB, _EMAIL, _DIGIT, _NON_WORD, _WORD]) + ")", re.UNICODE)
_PUNCTUATION = string.punctuation


@dataclass(frozen=True)
class Segmentation:
    """pyvi's view of a text.

    ``tokens[i]`` is ``text[spans[i][0]:spans[i][1]]``; ``words`` lists the
    ``[first, last)`` token ranges pyvi joins into one word.
    """

    tokens: list[str]
    spans: list[tuple[int, int]] | None  # None when not asked for (indexing needs none)
    words: list[tuple[int, int]]
    lower: list[str]  # the tokens lower-cased (pyvi's CRF reads them; so do the index terms)


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


def _labels(tokens: list[str], lower: list[str]) -> list[int]:
    """pyvi's CRF labels (1: inside a word) of ``tokens``, computed as ``crf.py`` explains."""
    model, bi_grams, tri_grams = _model()
    # bigram[i]: tokens i-1, i form a known two-syllable word; trigram[i]: i-2..i.
    # map() over C methods, not comprehensions: these run once per syllable.
    bigram = [False] + list(map(bi_grams.__contains__, map(" ".join, zip(lower, lower[1:]))))
    trigram = [False, False][:len(tokens)] + list(
        map(tri_grams.__contains__, map(" ".join, zip(lower, lower[1:], lower[2:]))))
    return model.tag(lower, list(map(str.isupper, tokens)), list(map(str.istitle, tokens)),
                     list(map(str.isdigit, tokens)), bigram, trigram)


def _joins(prev: str, cur: str) -> bool:
    """pyvi's rule for gluing token ``cur``, labelled inside a word, to the word before it."""
    return (
        cur not in _PUNCTUATION
        and prev not in _PUNCTUATION
        and not cur[0].isdigit()
        and not prev[0].isdigit()
        and not (cur[0].istitle() and not prev[0].istitle())
    )


def segment(text: str, spans: bool = True) -> Segmentation:
    """Segment NFC ``text`` into words exactly as ``pyvi.ViTokenizer.tokenize`` would.

    ``spans=False`` skips the offsets (one ``findall`` instead of a match object per token).
    """
    if spans:
        tokens, offsets = syllabify(text)
    else:
        tokens, offsets = _SYLLABLE_RE.findall(text), None
    n = len(tokens)
    if not n:
        return Segmentation([], [] if spans else None, [], [])
    lower = list(map(str.lower, tokens))
    labels = _labels(tokens, lower)
    # A word starts at every token but those labelled inside a word (1, I_W) that the
    # joining rule glues to the token before.
    glued = {i for i in compress(range(1, n), labels[1:]) if _joins(tokens[i - 1], tokens[i])}
    starts = list(filterfalse(glued.__contains__, range(n)))
    return Segmentation(tokens, offsets, list(zip(starts, starts[1:] + [n])), lower)


def pyvi_tokenize(text: str) -> str:
    """The string ``pyvi.ViTokenizer.tokenize(text)`` returns, rebuilt from :func:`segment`."""
    seg = segment(text)
    if not seg.tokens:
        return text
    return " ".join("_".join(seg.tokens[a:b]) for a, b in seg.words)
