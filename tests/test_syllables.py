"""Words typed without spaces ("hanoi") find the syllables the index holds ("Hà Nội")."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.text.syllables import is_syllable, is_well_spelled, split_glued, tone_last

from .conftest import build_index
from .test_search import ids

FREQ = {"ha": 900, "noi": 800, "han": 300, "oi": 50, "viet": 700, "nam": 900, "mat": 400, "tran": 300,
        "ho": 500, "chi": 600, "minh": 400, "hoc": 700, "hi": 5, "gia": 500, "vang": 300}


@pytest.mark.parametrize("word", ["a", "gi", "nghieng", "quoc", "truong", "khuya", "uyen", "gioi", "ke", "ki"])
def test_vietnamese_syllables(word):
    assert is_syllable(word)


@pytest.mark.parametrize("word", ["covid", "facebook", "hanoi", "ka", "ghu", "quu", "trump", "tphcm", "xyz", "nghiengg"])
def test_not_one_vietnamese_syllable(word):
    assert not is_syllable(word)


@pytest.mark.parametrize("typed,cut", [
    ("hanoi", ["ha", "noi"]),            # not "han oi": its syllables are rarer
    ("HaNoi", ["ha", "noi"]),
    ("vietnam", ["viet", "nam"]),
    ("mattran", ["mat", "tran"]),
    ("hochiminh", ["ho", "chi", "minh"]),  # not "hoc hi minh"
    ("giavang", ["gia", "vang"]),
])
def test_glued_words_are_cut_into_frequent_syllables(typed, cut):
    assert split_glued(typed, lambda s: FREQ.get(s, 0)) == cut


@pytest.mark.parametrize("typed", ["covid", "facebook", "nam", "quoc", "hanoi2", "hà nội", "abcdefghijklmnopqrstuvwxyzabc"])
def test_what_is_not_cut(typed):
    assert split_glued(typed, lambda s: FREQ.get(s, 1)) is None


def test_unknown_syllables_are_not_offered():
    assert split_glued("hanoi", lambda s: {"ha": 3}.get(s, 0)) is None  # "noi" is not in the index


def test_searching_a_glued_word_finds_the_syllables(tmp_path):
    ix = build_index(tmp_path, {
        "hanoi": "Thủ đô Hà Nội đón mùa thu.",
        "brand": "Công ty EVN HANOI cấp điện.",
        "other": "Hà Giang và Nội Mông.",  # both syllables, not side by side
        "vietnam": "Đội tuyển Việt Nam thắng.",
    })
    assert set(ids(ix.search("hanoi"))) == {"hanoi.txt", "brand.txt"}
    assert set(ids(ix.search("vietnam"))) == {"vietnam.txt"}
    assert ids(ix.search("covid")) == []
    snippet = ix.search("hanoi").hits[0].snippet + ix.search("hanoi").hits[1].snippet
    assert "<mark>Hà Nội</mark>" in snippet and "<mark>HANOI</mark>" in snippet


@pytest.mark.parametrize("word", ["tập", "Trọng", "phên", "giậu", "gù", "hoà", "hòa", "NGHIÊNG", "Đà", "tap", "trong", "mat"])
def test_well_spelled_syllables(word):
    assert is_well_spelled(word)


@pytest.mark.parametrize("word", ["tâp", "mât", "viêt", "Trọg", "trog", "qoc", "Touring", "hoàá", "ph", "snih"])
def test_misspelt_syllables(word):
    """Letters no Vietnamese syllable has, two tone marks, or a -p/-t/-c/-ch rhyme
    whose tone is not sắc or nặng (accents typed, so the tone is judged)."""
    assert not is_well_spelled(word)


def test_tone_last_moves_the_tone_mark_to_the_end():
    assert tone_last("thủy") == tone_last("thuỷ") == "thuy\u0309"
    assert tone_last("Hoà") == "Hoa\u0300" and tone_last("mặt") == "măt\u0323"
    assert tone_last("hoa") == "hoa" and tone_last("Đường") == "Đương\u0300"


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="aăâeêioôơuưyAĐđ\u0300\u0301\u0303\u0309\u0323\u0302\u0306àáảãạằắẳẵặầấẩẫậềếểễệờớởỡợừứửữựỳýỷỹỵ"
               "ÀÁẢÃẠẰẮẲẴẶ", max_size=7))
def test_tone_last_table_equals_decomposing(word):
    """The table path gives what decomposing, taking the tones out and composing gives."""
    nfd = unicodedata.normalize("NFD", word)
    tones = "".join(c for c in nfd if c in "\u0300\u0301\u0303\u0309\u0323")
    want = unicodedata.normalize("NFC", "".join(c for c in nfd if c not in tones)) + tones if tones else word
    assert tone_last(word) == want
