"""Vietnamese typed with the input method switched off: Telex and VNI keystrokes.

A reader whose Vietnamese keyboard (Unikey, the phone's Telex layout) is off
types the keystrokes themselves: "mawtj traanj toor quoocs" (Telex) or
"ma85t tra65n to63 quo61c" (VNI) for "mặt trận tổ quốc".  Such words are in no
article, so the query finds nothing.  ``decode_word`` reads one word back as
the syllable it spells; ``decode_query`` rewrites a query when the words it
decodes are ones the index knows far better than the keystrokes.

Telex: aa â, aw ă, ee ê, oo ô, ow ơ, uw/w ư, uow ươ, dd đ; s f r x j after
the first vowel are the tone (sắc, huyền, hỏi, ngã, nặng).  VNI: 6 circumflex, 7 horn, 8 breve,
9 đ, 1-5 the tones, typed after the letter or at the end of the word.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from .normalize import canonical_tone
from .syllables import is_well_spelled

__all__ = ["decode_query", "decode_word", "keystrokes"]

_TELEX_TONES = {"s": "\u0301", "f": "\u0300", "r": "\u0309", "x": "\u0303", "j": "\u0323"}
_VNI_TONES = {"1": "\u0301", "2": "\u0300", "3": "\u0309", "4": "\u0303", "5": "\u0323"}
_CIRCUMFLEX = {"a": "â", "e": "ê", "o": "ô"}
_HORN = {"u": "ư", "o": "ơ"}
_VOWELS = "aeiouyâêôơưă"
_TOKEN = re.compile(r"^([(']*)([A-Za-z][A-Za-z0-9]*)([)'.,;!?]*)$")
_OPERATORS = {"OR", "AND", "NOT"}  # query syntax (``query.py``), never keystrokes
# The decoded word must be this many times as frequent as the keystrokes typed.
MORE_FREQUENT = 20


def decode_word(word: str) -> str | None:
    """The Vietnamese syllable ``word`` spells in Telex or VNI keystrokes, or None.

    None unless decoding changes something and gives a well-spelled syllable
    (``syllables.is_well_spelled``); the first letter keeps its case.
    """
    if not word.isascii() or not word.isalnum() or not word[0].isalpha() or len(word) > 12:
        return None
    lower = word.lower()
    decoded = _vni(lower) if any(c.isdigit() for c in lower) else _telex(lower)
    if decoded is None or decoded == lower or not is_well_spelled(decoded):
        return None
    return decoded[0].upper() + decoded[1:] if word[0].isupper() else decoded


def decode_query(query: str, frequency: Callable[[str], int], typed_frequency: Callable[[str], int],
                 common: float) -> str | None:
    """``query`` with its Telex/VNI words decoded, or None if none is.

    A word is decoded when the index holds it as typed in fewer than ``common``
    articles (``typed_frequency``: "as" in "AS Monaco" is meant as typed), not
    capitalised if it holds it at all (a name: "Hari Won", "Teen", "WMO"), and the
    syllable it spells is at least ``MORE_FREQUENT`` times as frequent
    (``frequency``, of the canonical lower-case syllable): "khoong" is a syllable
    as it stands ("xoong" is one), but the index has "không" everywhere.  Once a
    word of the query is keystrokes beyond doubt (in no article as typed), the
    others are read as keystrokes too whenever that is far more frequent, common
    or not: "Sex kieemr tra" is "Sẽ kiểm tra".  Quoted text and words with query
    syntax (``title:``, ``-x``, ``x*``, ``x~``) are left as they are.
    """
    # Quoted text is searched exactly as typed: quotes are the way to opt out.
    pieces = [[part] if k % 2 else part.split(" ") for k, part in enumerate(query.split('"'))]
    found: dict[tuple[int, int], tuple] = {}  # (piece, word) -> (decoded, typed df, spelled df, a name?)
    for k in range(0, len(pieces), 2):
        for j, token in enumerate(pieces[k]):
            m = None if token in _OPERATORS else _TOKEN.match(token)
            if m is None:
                continue
            decoded = decode_word(m.group(2))
            if decoded:
                key = canonical_tone(unicodedata.normalize("NFC", decoded.lower()))
                spelled = frequency(key)
                if spelled:
                    typed = typed_frequency(m.group(2).lower())
                    name = typed > 0 and m.group(2)[0].isupper()
                    found[k, j] = (m.group(1) + decoded + m.group(3), typed, spelled, name)
    beyond_doubt = any(typed == 0 for _, typed, _, _ in found.values())
    changed = False
    for (k, j), (decoded, typed, spelled, name) in found.items():
        if (beyond_doubt or (typed < common and not name)) and spelled >= MORE_FREQUENT * typed:
            pieces[k][j] = decoded
            changed = True
    return '"'.join(" ".join(words) for words in pieces) if changed else None


_TONE_KEYS = {"\u0301": ("s", "1"), "\u0300": ("f", "2"), "\u0309": ("r", "3"), "\u0303": ("x", "4"),
              "\u0323": ("j", "5")}
_LETTER_KEYS = {"â": ("aa", "a6"), "ă": ("aw", "a8"), "ê": ("ee", "e6"), "ô": ("oo", "o6"), "ơ": ("ow", "o7"),
                "ư": ("uw", "u7"), "đ": ("dd", "d9")}


def keystrokes(word: str, vni: bool = False) -> str:
    """The keys a reader presses for ``word`` with the keyboard off, tone key last:
    the inverse of ``decode_word`` (tests and benchmarks type with it)."""
    out = []
    for ch in unicodedata.normalize("NFC", word):
        nfd = unicodedata.normalize("NFD", ch)
        tone = next((_TONE_KEYS[c][vni] for c in nfd if c in _TONE_KEYS), "")
        base = unicodedata.normalize("NFC", "".join(c for c in nfd if c not in _TONE_KEYS))
        lower = base.lower()
        keys = _LETTER_KEYS[lower][vni] if lower in _LETTER_KEYS else lower
        out.append((keys[0].upper() + keys[1:] if base != lower else keys, tone))
    letters = "".join(k for k, _ in out)
    return letters + "".join(t for _, t in out)


def _telex(word: str) -> str | None:
    # No Vietnamese syllable has s, f, r, x or j after its first vowel: there they are
    # tone keys, typed last ("quoocs") or straight after the vowel ("vieejt").
    first = next((i for i, c in enumerate(word) if c in "aeiouyw"), None)
    if first is None:
        return None
    keys = [i for i in range(first + 1, len(word)) if word[i] in _TELEX_TONES]
    if len(keys) > 1:
        return None
    tone = ""
    if keys:
        tone = _TELEX_TONES[word[keys[0]]]
        word = word[:keys[0]] + word[keys[0] + 1:]
    if word.startswith("dd"):
        word = "đ" + word[2:]
    for typed, letter in (("aa", "â"), ("ee", "ê"), ("oo", "ô")):
        word = word.replace(typed, letter)
    word = word.replace("uwow", "ươ").replace("uow", "ươ")
    while "w" in word:
        i = word.index("w")
        rest = word[:i] + word[i + 1:]
        if i and word[i - 1] in "uoa":  # uw ư, ow ơ, aw ă
            word = rest[:i - 1] + {"u": "ư", "o": "ơ", "a": "ă"}[word[i - 1]] + rest[i:]
        elif "uo" in rest:  # "duongw": the w typed last marks the nucleus
            word = rest.replace("uo", "ươ", 1)
        elif any(v in rest for v in "uoa"):
            j = max(rest.rfind(v) for v in "uoa")
            word = rest[:j] + {"u": "ư", "o": "ơ", "a": "ă"}[rest[j]] + rest[j + 1:]
        else:  # "tw": w alone is ư
            word = rest[:i] + "ư" + rest[i:]
    return _toned(word, tone)


def _vni(word: str) -> str | None:
    letters: list[str] = []
    tone = ""
    for ch in word:
        if not ch.isdigit():
            letters.append(ch)
            continue
        if ch in _VNI_TONES:
            if tone:
                return None
            tone = _VNI_TONES[ch]
        elif ch == "9":
            if "d" not in letters:
                return None
            letters[letters.index("d")] = "đ"
        elif ch in "678":
            if not _mark(letters, ch):
                return None
        else:
            return None
    return _toned("".join(letters), tone)


def _mark(letters: list[str], digit: str) -> bool:
    """Put VNI's 6 (circumflex), 7 (horn) or 8 (breve) on the letter typed just before
    it, or else on the word's vowel that can take it."""
    table = {"6": _CIRCUMFLEX, "7": _HORN, "8": {"a": "ă"}}[digit]
    text = "".join(letters)
    if digit == "7" and "uo" in text:
        i = text.index("uo")
        letters[i:i + 2] = ["ư", "ơ"]
        return True
    order = [len(letters) - 1] + list(range(len(letters) - 2, -1, -1))
    for i in order:
        if letters[i] in table:
            letters[i] = table[letters[i]]
            return True
    return False


def _toned(base: str, tone: str) -> str | None:
    if not base or not any(v in base for v in _VOWELS):
        return None
    if not tone:
        return base
    i = next(i for i, c in enumerate(base) if c in _VOWELS)
    placed = unicodedata.normalize("NFC", base[:i + 1] + tone + base[i + 1:])
    return canonical_tone(placed)
