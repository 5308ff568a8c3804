"""Vietnamese syllables typed without diacritics, and words typed without spaces.

Readers type "hanoi", "vietnam", "mattran": one token that the index only
holds as two syllables ("Hà Nội", "Việt Nam", "Mặt trận").  A token that
cannot be one Vietnamese syllable, but can be cut into several, is offered
to the query as those syllables too (``querybuild``).  Whether a string can
be a syllable is a matter of Vietnamese spelling: an initial consonant from
a short list, then one of the language's rhymes.  Foreign words mostly fail
it ("covid": no Vietnamese rhyme ends in -d; "facebook": no f-), so they are
left alone.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable

from .normalize import fold

__all__ = ["is_syllable", "is_well_spelled", "split_glued", "tone_last"]

# Initial consonants, written as Vietnamese spells them (đ folds to d).
_ONSETS = ("", "b", "c", "ch", "d", "g", "gh", "gi", "h", "k", "kh", "l", "m", "n", "ng", "ngh",
           "nh", "p", "ph", "qu", "r", "s", "t", "th", "tr", "v", "x")
_FRONT_ONLY = {"k", "gh", "ngh"}  # spelled so only before e, ê, i, y

# Rhymes with their diacritics folded away (ă, â -> a; ê -> e; ô, ơ -> o; ư -> u).
_RHYMES = frozenset("""
a ai ao au ay ac ach am an ang anh ap at
e eo eu ec ech em en eng enh ep et
i ia iu ich im in inh ip it iec iem ien ieng iep iet ieu
o oa oac oach oai oam oan oang oanh oao oap oat oay oe oec oem oen oeo oet
oi oc om on ong op ot ooc oong
u ua uc ui um un ung up ut uu uy uya uych uyen uyet uynh uyt uyu
uan uang uanh uach uat uay uau ue uec uen uenh uet ueu
uo uoc uoi uom uon uong uop uot uou
y yen yet yeu yem
""".split())

MAX_SYLLABLE = 7  # "nghieng"
MAX_GLUED = 28    # longer tokens are not looked at
MAX_PIECES = 4    # "hochiminh", "uybanmattran"; more is rarely what was meant


def is_syllable(s: str) -> bool:
    """Whether lower-case, unaccented ``s`` can be spelled as one Vietnamese syllable."""
    if not s or len(s) > MAX_SYLLABLE or not s.isascii() or not s.isalpha():
        return False
    for onset in _ONSETS:
        if not s.startswith(onset):
            continue
        rhyme = s[len(onset):]
        if onset == "gi" and rhyme == "":
            return True  # "gì"
        if rhyme in _RHYMES and (onset not in _FRONT_ONLY or rhyme[0] in "eiy"):
            if onset == "qu" and rhyme[0] == "u":
                continue
            return True
    return False


_TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"  # huyền, sắc, ngã, hỏi, nặng
_STOPPED_TONES = "\u0301\u0323"                  # the only tones of a rhyme ending in -p, -t, -c, -ch


def is_well_spelled(word: str) -> bool:
    """Whether ``word`` (any case, with or without accents) can be one Vietnamese
    syllable, its tone included: one tone mark at most, and a rhyme ending in -p,
    -t, -c or -ch only with sắc or nặng ("tập", never "tâp").  Typed without any
    mark, only the letters are judged: readers leave accents out."""
    lower = word.lower()
    if not is_syllable(fold(lower)):
        return False
    tones = [c for c in unicodedata.normalize("NFD", lower) if c in _TONE_MARKS]
    if len(tones) > 1:
        return False
    if fold(lower) != lower and fold(lower).endswith(("p", "t", "c", "ch")):
        return bool(tones) and tones[0] in _STOPPED_TONES
    return True


def _toned_table() -> tuple[dict[int, str], dict[str, str], re.Pattern]:
    """Each precomposed character that carries a tone mark: the character without it
    (a ``str.translate`` table), the mark, and a pattern finding such characters."""
    untone: dict[int, str] = {}
    tone_of: dict[str, str] = {}
    for cp in range(0xC0, 0x2000):
        nfd = unicodedata.normalize("NFD", chr(cp))
        tones = "".join(c for c in nfd if c in _TONE_MARKS)
        base = unicodedata.normalize("NFC", "".join(c for c in nfd if c not in _TONE_MARKS))
        if tones and len(base) == 1:
            untone[cp], tone_of[chr(cp)] = base, tones
    return untone, tone_of, re.compile("[%s]" % "".join(tone_of))


_UNTONE, _TONE_OF, _TONED_RE = _toned_table()
_COMBINING_RE = re.compile("[\u0300-\u036f]")


def tone_last(word: str) -> str:
    """``word`` with its tone mark taken off its vowel and put at the end ("thủy" ->
    "thuy" + hook), so that an edit distance counts a tone as one letter wherever
    it sits: "thhủy" is one edit from "thuỷ", not three.  (Did-you-mean keys every
    term of a letter with it: precomposed text takes a table, not NFD and NFC.)"""
    if _COMBINING_RE.search(word):
        nfd = unicodedata.normalize("NFD", word)
        tones = "".join(c for c in nfd if c in _TONE_MARKS)
        if not tones:
            return word
        return unicodedata.normalize("NFC", "".join(c for c in nfd if c not in _TONE_MARKS)) + tones
    toned = _TONED_RE.findall(word)
    if not toned:
        return word
    return word.translate(_UNTONE) + "".join(_TONE_OF[c] for c in toned)


def split_glued(token: str, frequency: Callable[[str], int]) -> list[str] | None:
    """``token`` cut into Vietnamese syllables the index holds, or None.

    Only a token that is not itself a syllable is cut.  Of the possible cuts,
    the one with the fewest syllables wins, then the one whose syllables are
    most frequent (``frequency``: documents holding a folded syllable), so
    "hanoi" is "ha noi", not "han oi".
    """
    s = token.lower()
    if len(s) < 4 or len(s) > MAX_GLUED or not s.isascii() or not s.isalpha() or is_syllable(s):
        return None
    known: dict[str, float | None] = {}

    def weight(piece: str) -> float | None:
        if len(piece) < 2:  # "a", "y", "u" alone are words, but glued they are mostly English ("banana")
            return None
        if piece not in known:
            df = frequency(piece) if is_syllable(piece) else 0
            known[piece] = math.log(df) if df > 0 else None
        return known[piece]

    # best[i]: (pieces, -log-frequency sum, cut) for s[:i]
    best: list[tuple[int, float, list[str]] | None] = [None] * (len(s) + 1)
    best[0] = (0, 0.0, [])
    for end in range(1, len(s) + 1):
        for start in range(max(0, end - MAX_SYLLABLE), end):
            prior = best[start]
            if prior is None:
                continue
            w = weight(s[start:end])
            if w is None:
                continue
            n, cost, cut = prior
            candidate = (n + 1, cost - w, cut + [s[start:end]])
            held = best[end]
            if held is None or candidate[:2] < held[:2]:
                best[end] = candidate
    found = best[len(s)]
    return found[2] if found and 1 < found[0] <= MAX_PIECES else None
