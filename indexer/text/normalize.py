"""Text normalisation shared by indexing and querying.

The same Vietnamese word reaches us in several spellings: composed (NFC) or
decomposed (NFD) Unicode, two conventions for where the tone mark sits
("hòa"/"hoà", "ủy"/"uỷ"), and with invisible characters or no-break spaces
inside.  Everything that is compared (index terms, query terms) goes through
:func:`normalize`; the text shown to readers is never changed.  Because
normalising can change the length of the text (NFD -> NFC, removed
characters), :func:`normalize_with_offsets` also returns a map back to the
original so that highlights land on the characters the author wrote.
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "OffsetMap",
    "canonical_tone",
    "fold",
    "has_diacritics",
    "normalize",
    "normalize_with_offsets",
]

# Characters that carry no text: removed outright.
INVISIBLE = "\u00ad\u180e\u200b\u200c\u200d\u2060\ufeff"
# Space-like characters: become an ordinary space (same length, so no map needed).
_SPACES = "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
_SPACE_TABLE = {ord(c): " " for c in _SPACES}
# Lone UTF-16 surrogates (possible in a str, never in text) become U+FFFD: same length.
_SPACE_TABLE.update({cp: "\ufffd" for cp in range(0xD800, 0xE000)})
_INVISIBLE_RE = re.compile("[%s]" % INVISIBLE)
_ODD_SPACE_RE = re.compile("[%s\ud800-\udfff]" % _SPACES)  # translate() with a big table is slow
_COMBINING = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
# What the slow path must visit: a run of invisibles, a character with combining marks after
# it, or one of the characters NFC replaces on their own (Ω U+2126 -> Ω U+03A9, ...).  Those
# all lie in these ranges (tests/test_normalize.py checks the whole code space).
_NFC_SINGLE_RANGES = ((0, 0xD800), (0xE000, 0x10000), (0x1D100, 0x1D200), (0x2F800, 0x2FB00))
_NFC_SINGLES = "".join(chr(i) for a, b in _NFC_SINGLE_RANGES for i in range(a, b)
                       if unicodedata.normalize("NFC", chr(i)) != chr(i))
_CHANGING_RE = re.compile("[%s]+|.[%s]+|[%s]" % (INVISIBLE, _COMBINING, re.escape(_NFC_SINGLES)), re.S)

# --- tone placement -------------------------------------------------------
_TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}  # huyền sắc ngã hỏi nặng
_SHAPED = set("ăâêôơư")
_SYLLABLE_RE = re.compile(
    r"(ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnpqrstvx])?([aăâeêioôơuưy]+)(ch|ng|nh|[cmnpt])?"
)


def _toned_letters() -> str:
    out = []
    for base in "aăâeêioôơuưyAĂÂEÊIOÔƠUƯY":
        for mark in _TONE_MARKS:
            out.append(unicodedata.normalize("NFC", base + mark))
    return "".join(out)


_TONED = _toned_letters()
_VOWELS = "aăâeêioôơuưyAĂÂEÊIOÔƠUƯY" + _TONED
# A syllable whose tone mark sits next to another vowel: the only ones whose
# spelling differs between the two conventions.
# Not before a combining mark: one that survived NFC ("Ã" + hook, a typo) belongs to the
# word's last letter, and moving a tone off that letter would leave the text not NFC.
# \b: the leftmost match starts where a word does, so no other start needs trying.
_RETONE_RE = re.compile(r"\b\w*(?:[%s][%s]|[%s][%s])\w*(?![%s])" % (_TONED, _VOWELS, _VOWELS, _TONED, _COMBINING))


@lru_cache(maxsize=65536)
def canonical_tone(syllable: str) -> str:
    """Return ``syllable`` (NFC) with its tone mark where pyvi's dictionary puts it.

    pyvi's word list writes "hoà, thuỷ, khoẻ, uỷ" (tone on the second vowel of
    an open oa/oe/uy), so that is the canonical form: segmentation then sees
    the spelling it was trained on.  The rule (not a word list):
      1. a shaped vowel (ă â ê ô ơ ư) takes the tone; the last one if two (ươ);
      2. otherwise, with a final consonant, the last vowel takes it;
      3. otherwise oa/oe/uy take it on the second vowel, other pairs on the
         first, triples (oai, oay, uyu, oeo) on the middle one.
    "gi" and "qu" are initial consonants when a vowel follows.  Anything that
    is not a Vietnamese syllable with exactly one tone mark is returned as is.
    """
    decomposed = unicodedata.normalize("NFD", syllable)
    tone = None
    base_chars = []
    for ch in decomposed:
        if ch in _TONE_MARKS:
            if tone is not None:
                return syllable
            tone = ch
        else:
            base_chars.append(ch)
    if tone is None:
        return syllable
    base = unicodedata.normalize("NFC", "".join(base_chars))
    if len(base) != len(syllable):
        return syllable
    match = _SYLLABLE_RE.fullmatch(base.lower())
    if match is None:
        return syllable
    onset, vowels, coda = match.group(1) or "", match.group(2), match.group(3)
    shaped = [i for i, c in enumerate(vowels) if c in _SHAPED]
    if shaped:
        k = shaped[-1]
    elif coda or len(vowels) == 1:
        k = len(vowels) - 1
    elif len(vowels) == 2:
        k = 1 if vowels in ("oa", "oe", "uy") else 0
    else:
        k = 1
    k += len(onset)
    toned = unicodedata.normalize("NFC", base[k] + tone)
    result = base[:k] + toned + base[k + 1 :]
    return result if len(result) == len(syllable) else syllable


@lru_cache(maxsize=1 << 16)
def _canonical_tone_cached(syllable: str) -> str:
    # A language has a few thousand such syllables; news text repeats them all day.
    return canonical_tone(syllable)


def _retone(text: str) -> str:
    return _RETONE_RE.sub(lambda m: _canonical_tone_cached(m.group(0)), text)


# --- public API -----------------------------------------------------------
@dataclass(frozen=True)
class OffsetMap:
    """Maps character ``i`` of normalised text to ``original[starts[i]:ends[i]]``.

    ``None`` in place of an OffsetMap means the identity (the common case:
    NFC text without invisible characters).
    """

    starts: array
    ends: array

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original span of the normalised span ``[start, end)``."""
        if end <= start:
            pos = self.starts[start] if start < len(self.starts) else (self.ends[-1] if self.ends else 0)
            return pos, pos
        return self.starts[start], self.ends[end - 1]


def normalize_with_offsets(text: str) -> tuple[str, OffsetMap | None]:
    """Canonical text (case kept) plus a map back to ``text``; see :func:`normalize`."""
    spaced = text.translate(_SPACE_TABLE) if _ODD_SPACE_RE.search(text) else text
    if unicodedata.is_normalized("NFC", spaced) and not _INVISIBLE_RE.search(spaced):
        return _retone(spaced), None
    # Each cluster (a character with its combining marks) is normalised on its own and
    # maps back to the whole cluster; an invisible run maps to nothing.  Only clusters NFC
    # can change are visited one by one (twice as fast on decomposed text): the text
    # between them is copied with identity offsets.
    pieces: list[str] = []
    starts = array("i")
    ends = array("i")
    pos = 0
    for m in _CHANGING_RE.finditer(spaced):
        a, b = m.span()
        if a > pos:
            pieces.append(spaced[pos:a])
            starts.extend(range(pos, a))
            ends.extend(range(pos + 1, a + 1))
        pos = b
        cluster = m.group(0)
        if cluster[0] in INVISIBLE:
            continue
        piece = unicodedata.normalize("NFC", cluster)
        pieces.append(piece)
        starts.extend([a] * len(piece))
        ends.extend([b] * len(piece))
    if pos < len(spaced):
        pieces.append(spaced[pos:])
        starts.extend(range(pos, len(spaced)))
        ends.extend(range(pos + 1, len(spaced) + 1))
    return _retone("".join(pieces)), OffsetMap(starts, ends)


def normalize(text: str) -> str:
    """NFC, one tone placement, invisible characters removed, odd spaces as spaces.

    Case is kept: pyvi uses capitalisation as a segmentation signal, so
    lower-casing happens after segmentation.
    """
    return normalize_with_offsets(text)[0]


def _fold_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {ord("đ"): "d", ord("Đ"): "D"}
    for cp in range(0x00C0, 0x2000):
        ch = chr(cp)
        stripped = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
        if stripped != ch and len(stripped) == 1:
            table[cp] = stripped
    for cp in range(0x0300, 0x0370):
        table[cp] = None
    return table


_FOLD_TABLE = _fold_table()


def fold(text: str) -> str:
    """Strip every diacritic (đ -> d): how readers type on a keyboard without Telex."""
    return text.translate(_FOLD_TABLE)


def has_diacritics(text: str) -> bool:
    """True if folding changes ``text`` (it carries Vietnamese marks or đ)."""
    return fold(text) != text
