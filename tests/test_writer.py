"""The faster segment writer writes exactly what Whoosh's own would."""

from __future__ import annotations

import os

import pytest
from whoosh import fields
from whoosh import index as whoosh_index
from whoosh.writing import SegmentWriter

from indexer.ingest import Article, iter_articles
from indexer.store import pool
from indexer.store import segment_writer as fast
from indexer.store.documents import analyze_article
from indexer.store.fields import TermListText
from indexer.store.schema import INDEX_NAME, make_schema

from .conftest import FIXTURES, SEEDS


def _stock_schema():
    """Our schema with Whoosh's plain TEXT fields in place of TermListText."""
    schema = make_schema()
    for name in schema.names():
        field = schema[name]
        if isinstance(field, TermListText):
            schema._fields[name] = fields.TEXT(analyzer=field.analyzer, stored=field.stored,
                                               phrase=field.format.__class__.__name__ == "Positions")
    return schema


def _documents() -> list[dict]:
    articles = [a for a in iter_articles([SEEDS, FIXTURES / "articles"]) if isinstance(a, Article)]
    assert len(articles) >= 9
    return [analyze_article(a) for a in articles] * 3  # repeats: terms with several postings


def _write(path, writer_class, schema, docs, limitmb):
    """One segment of ``docs`` in a new index at ``path``, written by ``writer_class``."""
    path.mkdir()
    ix = whoosh_index.create_in(path, schema, indexname=INDEX_NAME)
    writer = writer_class(ix, limitmb=limitmb, compound=False)
    for doc in docs:
        writer.add_document(**doc)
    writer.commit(optimize=False)


def _build(path, writer_class, schema, docs, limitmb):
    _write(path, writer_class, schema, docs, limitmb)
    reader = whoosh_index.open_dir(path, indexname=INDEX_NAME).reader()
    lengths = [[reader.doc_field_length(d, f) for f in sorted(reader.schema.scorable_names())]
               for d in range(reader.doc_count_all())]
    contents = (list(reader.iter_postings()), [reader.stored_fields(d) for d in range(reader.doc_count_all())],
                lengths, [(f, reader.field_length(f)) for f in sorted(reader.schema.scorable_names())])
    reader.close()
    return contents


@pytest.mark.parametrize("limitmb", [128, 0.02])  # in memory; spilled to many runs on disk
def test_the_fast_writer_writes_what_whooshs_writer_writes(tmp_path, monkeypatch, limitmb):
    monkeypatch.setattr(pool, "RUN_CHUNK", 7)  # chunks end inside runs, not only at their ends
    docs = _documents()
    stock = _build(tmp_path / "stock", SegmentWriter, _stock_schema(), docs, limitmb)
    ours = _build(tmp_path / "fast", fast.FastSegmentWriter, make_schema(), docs, limitmb)
    postings, stored, lengths, totals = ours
    assert len(postings) > 5000 and any(v for *_, v in postings)
    assert postings == stock[0]
    assert stored == stock[1]
    assert lengths == stock[2]
    assert totals == stock[3]


def test_spilled_runs_are_read_back_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(pool, "RUN_CHUNK", 5)
    pools = {}
    for limitmb in (0.005, 128):
        (tmp_path / str(limitmb)).mkdir()
        ix = whoosh_index.create_in(tmp_path / str(limitmb), make_schema(), indexname=INDEX_NAME)
        writer = fast.FastSegmentWriter(ix, limitmb=limitmb, compound=False)
        for doc in _documents():
            writer.add_document(**doc)
        pools[limitmb] = (len(writer.pool.runs), writer.pool.inverter.spilled, list(writer.pool.iter_postings()))
        writer.cancel()
    (runs, chunks, spilled), (none, no_chunks, in_memory) = pools[0.005], pools[128]
    assert runs > 10 and chunks > 10 and none == no_chunks == 0
    assert spilled == in_memory == sorted(in_memory) and len(in_memory) > 1000
    assert {p[0] for p in in_memory} >= {"body", "body_word", "id", "date"}  # both pools


def test_spilled_chunks_are_removed(tmp_path):
    """Inverted chunks live in the writer's temporary folder only until the segment is
    written, or the writer is cancelled."""
    for finish in ("commit", "cancel"):
        (tmp_path / finish).mkdir()
        ix = whoosh_index.create_in(tmp_path / finish, make_schema(), indexname=INDEX_NAME)
        writer = fast.FastSegmentWriter(ix, limitmb=0.005, compound=False)
        for doc in _documents():
            writer.add_document(**doc)
        folder = writer.pool.inverter.folder
        assert writer.pool.inverter.spilled > 10 and any(n.endswith(".chunk") for n in os.listdir(folder))
        getattr(writer, finish)()
        assert not os.path.exists(folder) or not any(n.endswith(".chunk") for n in os.listdir(folder))


def test_a_field_given_lists_and_text_is_written_as_whoosh_writes_it(tmp_path):
    """Term lists go to the inverter and text values take Whoosh's path; a field that
    gets both has its two sets of postings merged term by term."""
    docs = _documents()[:12]
    for i, doc in enumerate(docs):
        if i % 3 == 1:
            docs[i] = dict(doc, body=" ".join(doc["body"]), body_word=" ".join(doc["body_word"]))
    stock = _build(tmp_path / "stock", SegmentWriter, _stock_schema(), docs, 128)
    ours = _build(tmp_path / "fast", fast.FastSegmentWriter, make_schema(), docs, 128)
    assert any(f == "body" for f, *_ in ours[0])
    assert ours == stock


def test_a_text_value_takes_whooshs_own_path():
    ours = make_schema()["body"]
    stock = _stock_schema()["body"]
    text = "Ủy ban Mặt trận Tổ quốc Việt Nam, Uỷ ban MTTQ"
    assert list(ours.index(text)) == list(stock.index(text))
    terms = ["ủy", "ban", "mặt", "trận", "ủy", "ban"]
    assert list(ours.index(terms)) == list(stock.index(terms))
    word = make_schema()["body_word"]
    assert list(word.index(["mặt_trận", "tổ_quốc", "mặt_trận"])) == \
        list(_stock_schema()["body_word"].index(["mặt_trận", "tổ_quốc", "mặt_trận"]))


@pytest.mark.parametrize("limitmb", [128, 0.05])
def test_segment_files_are_byte_identical(tmp_path, limitmb):
    """Block headers too: their posting counts, largest weights and length bytes
    decide which blocks Whoosh's matchers skip, and iter_postings does not show them."""
    docs = _documents() * 8  # common terms fill several 128-posting blocks
    files = {}
    for name, writer_class, schema in (("stock", SegmentWriter, _stock_schema()),
                                       ("fast", fast.FastSegmentWriter, make_schema())):
        path = tmp_path / name
        _write(path, writer_class, schema, docs, limitmb)
        with whoosh_index.open_dir(path, indexname=INDEX_NAME).reader() as reader:
            segid = reader.segment().segment_id()
            most = max(reader.doc_frequency(f, t) for f, t in reader.all_terms())
        files[name] = {p.name.replace(segid, "SEG"): p.read_bytes() for p in path.iterdir() if segid in p.name}
    assert most > 2 * 128
    assert sorted(files["fast"]) == sorted(files["stock"]) and any(n.endswith(".pst") for n in files["fast"])
    for name in files["stock"]:
        assert files["fast"][name] == files["stock"][name], name


def test_fields_with_term_vectors_take_whooshs_path(tmp_path):
    """The fast add_document hands the pool whole fields; a schema with term vectors
    (which ours has not) must still be written as Whoosh writes it."""
    def schema():
        return fields.Schema(id=fields.ID(stored=True), text=fields.TEXT(vector=True, stored=True))

    docs = [{"id": str(i), "text": f"mặt trận tổ quốc {i} mặt trận"} for i in range(40)]
    files = {}
    for name, writer_class in (("stock", SegmentWriter), ("fast", fast.FastSegmentWriter)):
        _write(tmp_path / name, writer_class, schema(), docs, 128)
        with whoosh_index.open_dir(tmp_path / name, indexname=INDEX_NAME).reader() as reader:
            files[name] = (list(reader.iter_postings()), list(reader.vector_as("frequency", 3, "text")))
    assert files["fast"] == files["stock"] and files["fast"][1]


def _merge_copy(base, path, reinvert: bool):
    """Copy index ``base`` to ``path``; in one writer add new documents, delete every
    third old one and merge the old segment in (``reinvert``: from its posting arrays,
    else Whoosh's add_reader); returns the new segment's files."""
    import shutil

    from whoosh.reading import SegmentReader

    shutil.copytree(base, path)
    ix = whoosh_index.open_dir(path, indexname=INDEX_NAME)
    writer = fast.FastSegmentWriter(ix, arrays=True, limitmb=0.05, compound=False)
    for doc in _documents()[:5]:
        writer.add_document(**dict(doc, id="new-" + doc["id"]))
    (old,) = writer.segments
    for docnum in range(0, old.doc_count_all(), 3):
        writer.delete_document(docnum)
    with SegmentReader(writer.storage, writer.schema, old) as reader:
        if reinvert:
            writer.add_reader(reader)
        else:
            SegmentWriter.add_reader(writer, reader)
    writer.commit(mergetype=lambda w, segments: [])
    with whoosh_index.open_dir(path, indexname=INDEX_NAME).reader() as reader:
        segid = reader.segment().segment_id()
        assert reader.doc_count_all() == reader.doc_count() == 5 + old.doc_count_all() - len(range(0, old.doc_count_all(), 3))
    return {p.name.replace(segid, "SEG"): p.read_bytes() for p in path.iterdir() if segid in p.name}


def _base_index(path):
    path.mkdir()
    ix = whoosh_index.create_in(path, make_schema(), indexname=INDEX_NAME)
    writer = fast.FastSegmentWriter(ix, arrays=True, compound=False)
    for n, doc in enumerate(_documents() * 4):
        writer.add_document(**dict(doc, id=f"{doc['id']}-{n}"))
    writer.commit(optimize=False)
    return path


def test_a_merge_reinverts_term_lists_from_the_posting_arrays_into_the_same_files(tmp_path, monkeypatch):
    """A segment with many deletions is merged (``writer._merge_segments``): its live
    documents' term lists are read back from its arrays and inverted again, and the
    segment written is byte for byte what Whoosh's own add_reader gives."""
    base = _base_index(tmp_path / "base")
    calls = []
    real = fast.term_lists
    monkeypatch.setattr(fast, "term_lists", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    ours = _merge_copy(base, tmp_path / "ours", reinvert=True)
    assert {"body", "body_word", "title", "title_word", "author"} <= set(calls)  # the fast path ran
    stock = _merge_copy(base, tmp_path / "stock", reinvert=False)
    assert sorted(ours) == sorted(stock) and any(n.endswith(".pst") for n in ours)
    for name in stock:
        assert ours[name] == stock[name], name


@pytest.mark.parametrize("damage", ["missing", "shifted"])
def test_a_merge_without_sound_arrays_takes_whooshs_path(tmp_path, damage):
    """No arrays, or positions that are not 0 .. length - 1: nothing is re-inverted, and
    the segment is still what Whoosh writes."""
    import shutil

    import numpy as np

    from indexer.store.arrays_read import SegmentArrays, term_lists

    base = _base_index(tmp_path / "base")
    (vec,) = base.glob("vec_*")
    stock = _merge_copy(base, tmp_path / "stock", reinvert=False)
    if damage == "missing":
        shutil.rmtree(vec)
    else:
        np.save(vec / "positions.npy", np.load(vec / "positions.npy") + 1)  # 1 .. length
        with pytest.raises(ValueError, match="positions"):
            list(term_lists(SegmentArrays(vec), "body", True, np.arange(20), texts=False))
    assert _merge_copy(base, tmp_path / "ours", reinvert=True) == stock
