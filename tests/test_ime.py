"""Queries typed with the Vietnamese keyboard off (Telex, VNI) find what they spell."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.ingest import Article, iter_articles
from indexer.text.ime import decode_query, decode_word, keystrokes
from indexer.text.normalize import canonical_tone, normalize
from indexer.text.syllables import is_well_spelled

from .conftest import SEEDS
from .test_search import ids


def seed_syllables() -> list[str]:
    words = set()
    for a in iter_articles([SEEDS]):
        if isinstance(a, Article):
            words.update(re.findall(r"[^\W\d_]+", normalize(a.title + " " + a.body).lower()))
    return sorted(w for w in words if unicodedata.normalize("NFD", w) != w and is_well_spelled(w)
                  and w.isalpha() and not w.isascii())


SYLLABLES = seed_syllables()


def test_keystrokes():
    assert keystrokes("Nguyễn") == "Nguyeenx" and keystrokes("Nguyễn", vni=True) == "Nguye6n4"
    assert keystrokes("đường") == "dduwowngf" and keystrokes("ĐẮK", vni=True) == "D9A8K1"


def test_the_seeds_have_syllables_to_type():
    assert len(SYLLABLES) > 300 and "trận" in SYLLABLES and "người" in SYLLABLES


@pytest.mark.parametrize("vni", [False, True], ids=["telex", "vni"])
def test_every_seed_syllable_typed_keyboard_off_decodes_back(vni):
    """Each accented syllable of the seed articles, typed as Telex or VNI keystrokes
    (tone key last), decodes to the syllable in the index's canonical spelling."""
    wrong = {s: decode_word(keystrokes(s, vni=vni)) for s in SYLLABLES}
    wrong = {s: d for s, d in wrong.items() if d != canonical_tone(s)}
    assert not wrong


@pytest.mark.parametrize("typed, meant", [
    ("mawtj", "mặt"), ("traanj", "trận"), ("quoocs", "quốc"), ("vieejt", "việt"), ("vieetj", "việt"),
    ("Nguyeenx", "Nguyễn"), ("nguoiwf", "người"), ("nguwowfi", "người"), ("duongw", "dương"), ("tw", "tư"),
    ("dduwowngf", "đường"), ("khoong", "không"), ("hoaf", "hoà"), ("thuyr", "thuỷ"),
    ("vie65t", "việt"), ("viet65", "việt"), ("Nguye64n", "Nguyễn"), ("d9o6ng", "đông"), ("nguoi72", "người"),
    ("ma85t", "mặt"), ("tapj", "tạp"), ("taapj", "tập"),
])
def test_keystrokes_decode(typed, meant):
    assert decode_word(typed) == meant


@pytest.mark.parametrize("typed", ["ban", "covid", "Series", "iphone", "facebook", "x", "2020", "a1b2c3", "vieejtt",
                                   "hoàf", "mawtjs"])
def test_words_that_are_not_keystrokes(typed):
    """Plain syllables, foreign words, numbers, already accented text and keystrokes
    that spell no Vietnamese syllable (two tone keys) are left alone."""
    assert decode_word(typed) is None


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", max_size=14))
def test_decoding_any_token_is_safe(token):
    decoded = decode_word(token)
    assert decoded is None or is_well_spelled(decoded)


def test_decode_query_keeps_syntax_and_words_meant_as_typed():
    freq = {"mặt": 500, "trận": 400, "á": 900}.get
    typed = {"as": 50}.get
    assert decode_query('mawtj "traanj toor" (traanj) title:mawtj -mawtj as', lambda s: freq(s, 0),
                        lambda w: typed(w, 0), common=20) == 'mặt "traanj toor" (trận) title:mawtj -mawtj as'
    # Decoded words rarer than MORE_FREQUENT times the keystrokes' own count, or in no
    # article at all: not meant.
    assert decode_query("mawtj OR traanj NOT toor", lambda s: 5000, lambda w: 0, common=20) == "mặt OR trận NOT tổ"
    assert decode_query("mawtj", lambda s: 10, lambda w: 1, common=20) is None
    assert decode_query("mawtj", lambda s: 20, lambda w: 1, common=20) == "mặt"
    assert decode_query("mawtj", lambda s: 0, lambda w: 0, common=20) is None
    # "as" is common as typed, but beside keystrokes no article holds, it is one too.
    assert decode_query("as mawtj", lambda s: 5000, lambda w: typed(w, 0), common=20) == "á mặt"
    assert decode_query("as", lambda s: 5000, lambda w: typed(w, 0), common=20) is None
    # A capitalised word the index holds is a name ("Hari Won" is not "Hải Won")...
    held = {"hari": 3, "won": 5}.get
    assert decode_query("Hari Won", lambda s: 5000, lambda w: held(w, 0), common=20) is None
    assert decode_query("hari won", lambda s: 5000, lambda w: held(w, 0), common=20) == "hải ơn"
    # ... unless the query is keystrokes beyond doubt.
    assert decode_query("Hari mawtj", lambda s: 5000, lambda w: held(w, 0), common=20) == "Hải mặt"


def test_search_typed_keyboard_off_finds_what_it_spells(shared_index):
    meant = shared_index.search("mặt trận tổ quốc")
    for typed in ("mawtj traanj toor quoocs", "ma85t tra65n to63 quo61c", "Mawtj trận Toor quốc"):
        res = shared_index.search(typed)
        assert res.total == meant.total > 0 and ids(res) == ids(meant), typed
        assert res.query == typed and "mặt trận tổ quốc" in res.notice.lower()
        assert "<mark>" in res.hits[0].snippet
    # Quoted, the keystrokes are searched as typed: the way to opt out.
    literal = shared_index.search('"mawtj traanj"')
    assert literal.total == 0 and not (literal.notice or "").startswith("Hiển thị kết quả cho")
    # The words as typed are searched when the index holds them.
    plain = shared_index.search("mat tran")
    assert plain.notice is None and plain.total > 0


def test_api_reports_the_words_searched(client):
    data = client.get("/api/search", query_string={"q": "taapj huaans"}).get_json()
    assert data["query"] == "taapj huaans" and data["total"] > 0 and "tập huấn" in data["notice"]


def test_article_page_marks_the_words_the_keystrokes_spell(client):
    body = client.get("/article/001_d00b9dc15467eaee.txt", query_string={"q": "Phusc Thoj"}).get_data(as_text=True)
    assert "<mark>Phúc Thọ</mark>" in body
