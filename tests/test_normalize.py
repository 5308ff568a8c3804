import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.text.normalize import canonical_tone, fold, has_diacritics, normalize, normalize_with_offsets

OLD_NEW = [("hoà", "hòa"), ("uỷ", "ủy"), ("khoẻ", "khỏe"), ("thuỷ", "thủy"), ("hoá", "hóa"),
           ("tuỳ", "tùy"), ("Uỷ ban", "Ủy ban"), ("HOÀ BÌNH", "HÒA BÌNH"), ("loà", "lòa"), ("thoả", "thỏa")]


@pytest.mark.parametrize("a,b", OLD_NEW)
def test_both_tone_styles_normalise_identically(a, b):
    assert normalize(a) == normalize(b)


@pytest.mark.parametrize("word", ["người", "được", "quốc", "giữa", "gìn", "quý", "huỳnh", "hoàng", "ngoài",
                                  "khuỷu", "hoặc", "mùa", "kìa", "cứu", "hươu", "quà", "thuở", "quyển", "yêu"])
def test_unambiguous_syllables_are_left_alone(word):
    assert canonical_tone(word) == word


def test_misplaced_tone_in_closed_syllable_is_moved():
    assert normalize("hòang") == "hoàng"


def test_non_vietnamese_words_untouched():
    assert normalize("café José") == "café José"


def test_case_is_kept_for_segmentation():
    assert normalize("Uỷ Ban") == "Uỷ Ban"


def test_nfd_becomes_nfc():
    text = "Mặt trận Tổ quốc Việt Nam"
    assert normalize(unicodedata.normalize("NFD", text)) == text


def test_invisible_characters_removed_and_odd_spaces_become_spaces():
    assert normalize("cộng\u200bđồng\u00ad x\ufeffy a\u00a0b c\u202fd") == "cộngđồng xy a b c d"


def test_offsets_map_back_to_original_characters():
    original = unicodedata.normalize("NFD", "Ủy\u200b ban\u00a0nhân dân")
    norm, offsets = normalize_with_offsets(original)
    assert norm == "Uỷ ban nhân dân"
    for word in ("Uỷ", "ban", "nhân", "dân"):
        i = norm.index(word)
        start, end = offsets.span(i, i + len(word))
        assert normalize(original[start:end]) == word


def test_identity_map_for_clean_text():
    assert normalize_with_offsets("Hà Nội")[1] is None


def test_fold():
    assert fold("Đảng Cộng sản Việt Nam") == "Dang Cong san Viet Nam"
    assert fold(unicodedata.normalize("NFD", "Đường")) == "Duong"
    assert has_diacritics("mặt") and not has_diacritics("mat")


def test_a_stray_combining_mark_keeps_the_text_nfc():
    # Seen in the corpus: "nưaÃ" + hook above ("nữa Ảnh" mistyped).  Moving the tilde onto
    # "ư" would leave "A" + hook, which NFC composes: the text would no longer be NFC,
    # and pyvi (which applies NFC itself) would segment it differently from the index.
    text = "một lần nưaÃ\u0309nh: Lưu Trân"
    assert unicodedata.is_normalized("NFC", normalize(text))
    assert normalize(text) == unicodedata.normalize("NFC", text)


@given(st.text(alphabet=st.sampled_from(list("aăâeêioôơuưyAÃƯnhg ") + ["\u0300", "\u0301", "\u0303",
                                                                       "\u0309", "\u0323", "\u0306"]),
               max_size=30))
def test_normalised_text_is_always_nfc(text):
    assert unicodedata.is_normalized("NFC", normalize(text))


def test_the_characters_nfc_replaces_alone_are_all_known():
    from indexer.text.normalize import _NFC_SINGLES

    everywhere = {chr(i) for i in range(0x110000)
                  if not 0xD800 <= i < 0xE000 and unicodedata.normalize("NFC", chr(i)) != chr(i)}
    assert set(_NFC_SINGLES) == everywhere


def _reference_offsets(text):
    """The slow path as first written: every cluster normalised on its own, one by one."""
    import re
    from array import array

    from indexer.text.normalize import _COMBINING, _SPACE_TABLE, INVISIBLE, _retone

    spaced = text.translate(_SPACE_TABLE)
    pieces, starts, ends = [], array("i"), array("i")
    for m in re.finditer("[%s]+|.[%s]*" % (INVISIBLE, _COMBINING), spaced, re.S):
        if m.group(0)[0] in INVISIBLE:
            continue
        piece = unicodedata.normalize("NFC", m.group(0))
        pieces.append(piece)
        starts.extend([m.start()] * len(piece))
        ends.extend([m.end()] * len(piece))
    return _retone("".join(pieces)), list(starts), list(ends)


@settings(max_examples=300)
@given(st.text(alphabet=st.sampled_from(list("aăâeêioôơuưyAÃƯnhg x\n") + [
    "\u0300", "\u0301", "\u0303", "\u0309", "\u0323", "\u0306", "\u200b", "\u00ad", "\ufeff", "\u00a0",
    "\u2126", "\u212b", "\u0344", "\u0958", "\uf900", "\U0001d15e", "\U0002f800"]), max_size=40))
def test_the_offset_map_is_what_normalising_each_cluster_gives(text):
    norm, offsets = normalize_with_offsets(text)
    if offsets is None:
        assert norm == _reference_offsets(text)[0]
        return
    assert (norm, list(offsets.starts), list(offsets.ends)) == _reference_offsets(text)
