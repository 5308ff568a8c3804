import gzip
import itertools
import json
from pathlib import Path

import pytest
from pyvi import ViTokenizer

from indexer.normalize import normalize
from indexer.segment import pyvi_tokenize, segment

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
