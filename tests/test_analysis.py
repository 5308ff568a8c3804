import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.ingest import iter_articles
from indexer.text.analysis import analyze, fold_analyzer, syllable_analyzer, word_analyzer
from indexer.text.normalize import normalize

from .conftest import FIXTURES, SEEDS


def _fields():
    for item in iter_articles([SEEDS, FIXTURES / "articles"]):
        if hasattr(item, "body"):
            for name in ("title", "body", "author"):
                yield f"{item.id}:{name}", getattr(item, name)


@pytest.mark.parametrize("label,text", list(_fields()))
@pytest.mark.parametrize("form", ["as-is", "NFD", "zero-width"])
def test_every_token_maps_back_exactly(label, text, form):
    if form == "NFD":
        text = unicodedata.normalize("NFD", text)
    elif form == "zero-width":
        text = text.replace(" ", " \u200b", 7)
    result = analyze(text)
    assert result.syllables or not text.strip()
    for syllable, (start, end) in zip(result.syllables, result.spans):
        original = text[start:end]
        assert normalize(original).lower() == syllable
        assert original == original.strip() and original[0] != "\u200b" and original[-1] != "\u200b"
    for word, (start, end) in zip(result.words, result.word_spans):
        inside = [s for s, (a, b) in zip(result.syllables, result.spans) if start <= a and b <= end]
        assert "_".join(inside) == word


def test_compounds_and_syllables():
    result = analyze("Ủy ban Mặt trận Tổ quốc Việt Nam")
    assert result.syllables == ["uỷ", "ban", "mặt", "trận", "tổ", "quốc", "việt", "nam"]
    assert "mặt_trận" in result.words or "mặt_trận_tổ_quốc" in result.words


def test_abbreviation_dot_is_not_part_of_the_token():
    text = "UBND TP. Huế"
    result = analyze(text)
    assert result.syllables == ["ubnd", "tp", "huế"]
    assert text[slice(*result.spans[1])] == "TP"


def test_whoosh_analyzers_emit_offsets_and_folds():
    text = "Hoà bình"
    toks = [(t.text, t.startchar, t.endchar) for t in syllable_analyzer()(text, chars=True, positions=True)]
    assert toks == [("hoà", 0, 3), ("bình", 4, 8)]
    assert [t.text for t in fold_analyzer()(text)] == ["hoa", "binh"]
    assert [t.text for t in word_analyzer()(text)] == ["hoà_bình"]


TRICKY = [
    "TP.HCM, Tp. Hồ Chí Minh và ThS. Nguyễn Văn A (Dr. B) nói: 1.500,75 tỷ đồng -> tăng 3,5%...",
    "covid_19 / COVID-19 ==> http://vnexpress.net/a_b-c.html?x=1 email: ai.nguyen_1@mttq.org.vn >>",
    "UBND\u00a0tỉnh\u200bHà\u2003Nội hoà thuỷ Uỷ ban, F -16 B-52 Su_25 x2 3_000",
]


@pytest.mark.parametrize("text", [t for _, t in _fields()] + TRICKY)
@pytest.mark.parametrize("form", ["as-is", "NFD"])
def test_syllables_alone_equal_the_syllables_of_the_full_analysis(text, form):
    """analyze(words=False) takes a one-regex path (snippets and queries need speed); it must
    give the syllables and spans of the pyvi-token path indexing uses."""
    if form == "NFD":
        text = unicodedata.normalize("NFD", text)
    fast, full = analyze(text, words=False), analyze(text)
    assert fast.syllables == full.syllables and fast.spans == full.spans


_PIECES = st.sampled_from(["Mặt", "trận", "hoà", "Uỷ", "ban", "TP.", "HCM", "Dr.", "1.5", "3,000", "_", "-", ".", ",",
                           "...", "->", "==>", ">>", "http://a.vn/x_y", "a@b.vn", "covid-19", "\u00a0", "\u200b",
                           "\n", " ", "  ", "Ư", "đ", "x2", "’", "\"", "(", ")", "@", "x@y.vn", "7", "A."])


@settings(max_examples=1000, deadline=None)
@given(st.lists(_PIECES, max_size=30).map("".join))
def test_syllables_alone_equal_the_full_analysis_on_generated_text(text):
    fast, full = analyze(text, words=False), analyze(text)
    assert fast.syllables == full.syllables and fast.spans == full.spans


def _reference(text: str):
    """The token-by-token loop analyze() ran before it worked on whole runs of tokens
    (syllables, spans, words, word positions, word spans), over pyvi's own segmentation."""
    import re

    from pyvi import ViTokenizer

    from indexer.text.normalize import normalize_with_offsets
    from indexer.text.segment import _PYVI_SYLLABLE_RE

    norm, offsets = normalize_with_offsets(text)
    spans = [m.span() for m in _PYVI_SYLLABLE_RE.finditer(norm)]
    tokens = [norm[a:b] for a, b in spans]
    # pyvi's words, as token ranges: its output joins a word's tokens with "_".
    groups, i = [], 0
    for word in ViTokenizer.tokenize(norm).split(" ") if tokens else []:
        n = 1
        while "_".join(tokens[i:i + n]) != word:
            n += 1
        groups.append((i, i + n))
        i += n
    syllables, out_spans, words, positions, word_spans = [], [], [], [], []
    piece = re.compile(r"[^\W_]+")
    for first, last in groups:
        pos0 = len(syllables)
        for k in range(first, last):
            for m in piece.finditer(tokens[k]):
                start, end = spans[k][0] + m.start(), spans[k][0] + m.end()
                if offsets is not None:
                    start, end = offsets.span(start, end)
                syllables.append(m.group(0).lower())
                out_spans.append((start, end))
        if len(syllables) - pos0 >= 2:
            words.append("_".join(syllables[pos0:]))
            positions.append(pos0)
            word_spans.append((out_spans[pos0][0], out_spans[-1][1]))
    return syllables, out_spans, words, positions, word_spans


def _check_against_reference(text: str) -> None:
    full, terms = analyze(text), analyze(text, spans=False)
    expected = _reference(text)
    assert (full.syllables, full.spans, full.words, full.word_positions, full.word_spans) == expected
    assert (terms.syllables, terms.words, terms.word_positions) == (expected[0], expected[2], expected[3])
    assert terms.spans == [] and terms.word_spans == []


@pytest.mark.parametrize("text", [t for _, t in _fields()] + TRICKY)
@pytest.mark.parametrize("form", ["as-is", "NFD"])
def test_the_analysis_equals_the_token_by_token_reference(text, form):
    _check_against_reference(unicodedata.normalize("NFD", text) if form == "NFD" else text)


@settings(max_examples=500, deadline=None)
@given(st.lists(_PIECES, max_size=30).map("".join))
def test_the_analysis_equals_the_reference_on_generated_text(text):
    _check_against_reference(text)
