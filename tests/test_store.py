"""The index format across versions of the package layout."""

from __future__ import annotations

import pickle

import pytest

import indexer.store  # noqa: F401 - installs the names older indexes pickled
from indexer.store.fields import DerivedFoldText, TermListText
from indexer.text.analysis import FoldFilter, VietnameseTokenizer


@pytest.mark.parametrize("module,name,cls", [
    ("indexer.writer", "TermListText", TermListText),
    ("indexer.schema", "DerivedFoldText", DerivedFoldText),
    ("indexer.analysis", "VietnameseTokenizer", VietnameseTokenizer),
    ("indexer.analysis", "FoldFilter", FoldFilter),
])
def test_an_index_written_before_the_layers_still_unpickles_its_schema(module, name, cls):
    """Whoosh pickles the schema's classes by module path into every table of contents: the
    names an index written by vnsearch 0.1 holds must still find the classes."""
    assert pickle.loads(f"c{module}\n{name}\n.".encode()) is cls
