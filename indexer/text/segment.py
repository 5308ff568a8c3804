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

import importlib.util
import os
import pickle
import re
import string
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress, filterfalse

from .crf import CrfModel

__all__ = ["Segmentation", "load_model", "segment", "syllabify", "pyvi_tokenize"]

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
_SYLLABLE_RE = re.compile("|".join([_PLAIN_WORD, *_ABBREVIATIONS, *_SPECIALS, _WEB, _EMAIL, _DIGIT, _NON_WORD,
                                   _WORD]))
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
def _model() -> tuple[CrfModel, set[str], set[str]]:
    """pyvi's CRF weights and n-gram sets, read from pyvi's own files on first use.

    Not by importing ``pyvi.ViTokenizer``: its class body unpickles a scikit-learn
    estimator, which imports scikit-learn (0.9 s of its 1.3 s; an update that
    re-indexes a few articles paid it every run).  The word list is split as pyvi's
    class body splits it, and the CRF model is the file its estimator wraps
    (``tests/test_segment.py`` compares both with pyvi's).
    """
    spec = importlib.util.find_spec("pyvi")
    if spec is None or spec.origin is None:
        raise ImportError("pyvi is not installed")
    folder = os.path.join(os.path.dirname(spec.origin), "models")
    bi_grams: set[str] = set()
    tri_grams: set[str] = set()
    with open(os.path.join(folder, "words.txt"), encoding="utf-8") as fin:
        for token in fin.read().split("\n"):
            n = len(token.split(" "))
            if n == 2:
                bi_grams.add(token)
            elif n == 3:
                tri_grams.add(token)
    with open(os.path.join(folder, "pyvi3.pkl"), "rb") as fin:
        model = _ModelUnpickler(fin).load()
    return CrfModel(model.modelfile.data), bi_grams, tri_grams


class _Stub:
    """Stands in for every object in pyvi's pickled estimator; keeps what it is given."""

    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state) -> None:
        if isinstance(state, dict):
            self.__dict__.update(state)

    @property
    def data(self) -> bytes:
        return self.__dict__["__FILE_RESOURCE_DATA__"]


# The classes pyvi3.pkl names: the estimator, its model file, its training log and the
# NumPy scalars of its settings are stubbed (none is needed); bytes are real.
_STUBBED = {("sklearn_crfsuite.estimator", "CRF"), ("sklearn_crfsuite._fileresource", "FileResource"),
            ("pycrfsuite._logparser", "TrainLogParser"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar")}


class _ModelUnpickler(pickle.Unpickler):
    """Unpickles pyvi's model without importing what it names (nothing else is allowed)."""

    def find_class(self, module: str, name: str):
        if (module, name) in _STUBBED:
            return _Stub
        if (module, name) == ("_codecs", "encode"):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"unexpected class in pyvi's model: {module}.{name}")


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


def load_model() -> None:
    """Load pyvi's CRF model now (a second): before forking workers, so they share it, or
    before a server's first reader."""
    _model()


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
