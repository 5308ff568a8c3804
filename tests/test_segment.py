import gzip
import itertools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyvi import ViTokenizer

from indexer.text.crf import CrfModel
from indexer.text.normalize import normalize
from indexer.text.segment import _labels, _model, pyvi_tokenize, segment, syllabify

from .conftest import FIXTURES, SEEDS

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "news-vi.jsonl.gz"


def _texts():
    for f in sorted(SEEDS.glob("*.txt")) + sorted((FIXTURES / "articles").glob("*.txt")):
        yield f.name, normalize(f.read_text(encoding="utf-8"))
    yield "short", "Mặt trận Tổ quốc"
    yield "abbrev", "UBND TP. Hồ Chí Minh, Tp. Huế, ThS. Lan -> 1.000.000 đồng ... a@b.vn http://x.vn/a"
    yield "empty", ""


@pytest.mark.parametrize("name,text", list(_texts()))
def test_identical_to_pyvi(name, text):
    assert pyvi_tokenize(text) == ViTokenizer.tokenize(text)


def test_spans_point_at_the_tokens():
    text = normalize((SEEDS / "000_07d8e90914c7a84b.txt").read_text(encoding="utf-8"))
    seg = segment(text)
    assert seg.tokens
    for tok, (a, b) in zip(seg.tokens, seg.spans):
        assert text[a:b] == tok


@pytest.mark.skipif(not CORPUS.exists(), reason="../shared corpus not available")
def test_identical_to_pyvi_on_a_corpus_sample():
    with gzip.open(CORPUS, "rb") as fh:
        records = [json.loads(line) for line in itertools.islice(fh, 0, 40000, 400)]
    for r in records:
        text = normalize(r["title"] + "\n" + r["body"])
        assert pyvi_tokenize(text) == ViTokenizer.tokenize(text), r["id"]



_SEED_WORDS = [w for f in sorted(SEEDS.glob("*.txt")) for w in normalize(f.read_text(encoding="utf-8")).split()]
_CASES = st.sampled_from([str, str, str, str.lower, str.upper, str.title, lambda w: w + ",", lambda w: w + " ...",
                          lambda w: "(" + w + ")", lambda w: w + "\n", lambda w: "TP." + w, lambda w: w + " 1.500",
                          lambda w: w + " 2021", lambda w: "12 " + w, lambda w: w + "."])


@st.composite
def _seed_passages(draw):
    """A passage of the seed articles with some words re-cased or punctuated."""
    start = draw(st.integers(0, len(_SEED_WORDS) - 1))
    words = _SEED_WORDS[start:start + draw(st.integers(1, 40))]
    return " ".join(draw(_CASES)(w) for w in words)


@settings(max_examples=300, deadline=None)
@given(_seed_passages())
def test_identical_to_pyvi_on_altered_seed_passages(text):
    """Real compounds with capitals, numbers and punctuation moved about: the CRF features (and so
    the labels and the joining) must be pyvi's.  Runs without ../shared."""
    assert pyvi_tokenize(text) == ViTokenizer.tokenize(text)


@pytest.mark.parametrize("name,text", [t for t in _texts() if t[1]])
def test_crf_labels_are_crfsuites(name, text):
    """Label for label (punctuation and numbers included, which the joining rule hides), the
    Python decoding of pyvi's model agrees with python-crfsuite fed pyvi's own features."""
    tokens = syllabify(text)[0]
    pyvi = ViTokenizer.ViTokenizer
    expected = pyvi.model.predict([pyvi.sent2features(tokens, False)])[0]
    assert [("B_W", "I_W")[label] for label in _labels(tokens, [t.lower() for t in tokens])] == list(expected)


def test_crf_model_reads_pyvis_weights():
    model = _model()[0]
    assert model.labels == ["B_W", "I_W"]
    assert len(model.rows) > 1000 and model.own.shape == (len(model.rows) + 1, 2)
    assert any(w != 0.0 for row in model.transition for w in row)


def test_the_model_is_pyvis_own_read_without_importing_scikit_learn():
    """The model file and word lists come from pyvi's files directly (importing pyvi's
    tokenizer imports scikit-learn, most of a second): the same bytes and n-grams."""
    code = ("import sys; from indexer.text.segment import _model; _model(); "
            "print(sorted(m for m in ('sklearn', 'sklearn_crfsuite', 'pycrfsuite', 'pyvi.ViTokenizer') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent)
    assert out.stdout.strip() == "[]"
    pyvi = ViTokenizer.ViTokenizer
    model, bi_grams, tri_grams = _model()
    assert bi_grams == pyvi.bi_grams and tri_grams == pyvi.tri_grams and len(tri_grams) > 1000
    reference = CrfModel.from_file(pyvi.model.modelfile.name)  # the file pyvi's estimator reads
    assert (reference.labels, reference.transition, reference.rows) == (model.labels, model.transition, model.rows)
    for name in ("own", "before", "after"):
        assert np.array_equal(getattr(reference, name), getattr(model, name)), name
    assert reference.flags.keys() == model.flags.keys()
    assert all(np.array_equal(reference.flags[k], model.flags[k]) for k in model.flags)


def test_crf_model_rejects_other_files():
    with pytest.raises(ValueError):
        CrfModel(b"not a model" * 10)
