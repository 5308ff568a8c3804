"""Bytes to text: UTF-8/16/32, damaged UTF-8, and legacy Vietnamese or Western encodings."""

from __future__ import annotations

import re
import unicodedata

from ..text.syllables import is_well_spelled

__all__ = ["DecodeError", "decode_bytes", "decode_text"]


class DecodeError(ValueError):
    pass


def decode_bytes(data: bytes) -> tuple[str, str | None]:
    """Bytes to text, and a note when the bytes were not clean UTF-8/UTF-16.

    UTF-8 and UTF-16 (with or without BOM) decode silently.  Anything else is
    still text a newsroom wants found, so rather than drop it: a character cut
    off at the end of a truncated file is dropped; UTF-8 with a few damaged
    bytes gets U+FFFD in their place; a legacy file is read as Windows-1258
    when that gives Vietnamese, else as Windows-1252.  Each of these returns a
    note saying so.  Raises :class:`DecodeError` with a reader-facing reason
    for binary data or bytes no encoding explains.  Line ends become ``\n``.
    """
    note = None
    if data.startswith(b"\xef\xbb\xbf"):
        text = _strict(data[3:], "utf-8", "invalid UTF-8 after a UTF-8 BOM")
    elif data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):  # before UTF-16's: it starts the same
        text = _strict(data, "utf-32", "invalid UTF-32")
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = _strict(data, "utf-16", "invalid UTF-16")
    elif b"\x00" in data:
        guess = _utf16_without_bom(data)
        if guess is None:
            raise DecodeError("binary file (contains NUL bytes)")
        text = _strict(data, guess, "invalid UTF-16")
    else:
        controls = sum(data.count(b) for b in _CONTROL_BYTES)
        if controls > max(2, len(data) // 100):
            raise DecodeError("binary file (control characters)")
        text, note = decode_text(data)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    controls = sum(1 for c in text if unicodedata.category(c) == "Cc" and c not in "\n\t")
    if controls > max(2, len(text) // 100):
        raise DecodeError("binary file (control characters)")
    return text, note


_CONTROL_BYTES = [bytes([b]) for b in range(32) if b not in (9, 10, 12, 13)] + [b"\x7f"]


def decode_text(data: bytes) -> tuple[str, str | None]:
    """Text bytes without BOM: UTF-8, else damaged UTF-8, Windows-1258 or Windows-1252."""
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        first_error = exc
    if first_error.reason == "unexpected end of data" and len(data) - first_error.start < 4:
        return data[: first_error.start].decode("utf-8", errors="replace"), \
            "truncated file: an incomplete character at the end was dropped"
    replaced = data.decode("utf-8", errors="replace")
    bad = replaced.count("\ufffd")
    good = sum(1 for c in replaced if ord(c) > 127 and c != "\ufffd")
    if good >= 4 * bad:  # mostly UTF-8: a few bytes were damaged
        return replaced, f"{bad} invalid UTF-8 byte sequence(s) replaced by \ufffd (first at byte {first_error.start})"
    try:
        legacy = unicodedata.normalize("NFC", data.decode("cp1258"))
    except UnicodeDecodeError:
        legacy = None
    if legacy is not None and _reads_as_vietnamese(legacy):
        return legacy, "not UTF-8: read as Windows-1258 (Vietnamese)"
    try:
        western = data.decode("cp1252")
    except UnicodeDecodeError:
        western = None
    # Western European text is mostly ASCII letters; Russian (KOI8-R), Chinese (GB18030)
    # and the like decoded as Windows-1252 are mostly accented capitals: garbage to index.
    if western is not None and _mostly_ascii_letters(western):
        return western, "not UTF-8: read as Windows-1252"
    raise DecodeError(f"not valid UTF-8 (at byte {first_error.start}), nor Vietnamese in Windows-1258 nor "
                      "Western text in Windows-1252: an unsupported legacy encoding") from None


_WORD_RE = re.compile(r"\w+")


def _reads_as_vietnamese(text: str) -> bool:
    """Whether words with marks are Vietnamese syllables: 85-100% of them in real articles
    read this way, under 50% for Russian or Chinese bytes decoded as Windows-1258."""
    marked = [w for w in _WORD_RE.findall(text[:20_000].lower()) if not w.isascii()]
    if len(marked) < 3:
        return False
    return sum(map(is_well_spelled, marked)) >= 0.7 * len(marked)


def _mostly_ascii_letters(text: str) -> bool:
    letters = [c for c in text[:20_000] if c.isalpha()]
    return sum(1 for c in letters if not c.isascii()) <= 0.3 * len(letters)


def _strict(data: bytes, encoding: str, reason: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise DecodeError(f"{reason} at byte {exc.start}") from None


def _utf16_without_bom(data: bytes) -> str | None:
    """Text in UTF-16 without a BOM has a NUL in every other byte for Latin text."""
    sample = data[:4096]
    if len(sample) < 4:
        return None
    even = sample[0::2].count(0) / (len(sample) / 2)
    odd = sample[1::2].count(0) / (len(sample) / 2)
    if odd > 0.3 and even < 0.05:
        return "utf-16-le"
    if even > 0.3 and odd < 0.05:
        return "utf-16-be"
    return None
