"""The Whoosh schema: what is indexed, what is stored, and how fields are weighted.

Every text field exists three times (syllables, folded syllables, pyvi
words; see ``analysis.py``); the folded one is declared but never written:
its postings are the exact field's, folded at search time (``folded.py``).
Only the syllable field stores the text, and it stores the original as
written, which is what snippets and the article page show.  Text fields are
Whoosh's TEXT, indexing the indexer's term lists faster (``writer.py``).
``SCHEMA_VERSION`` is part of every document's change hash: bumping it when
analysis changes makes the next run re-index everything.
"""

from __future__ import annotations

from whoosh.fields import DATETIME, ID, NUMERIC, STORED, Schema

from .text.analysis import fold_analyzer, syllable_analyzer, word_analyzer
from .writer import TermListText

__all__ = ["SCHEMA_VERSION", "TEXT_FIELDS", "make_schema"]

SCHEMA_VERSION = "4"  # 2: plain-file segments; 3: NFC fix in normalize; 4: *_fold fields derived

# Searchable text fields, each with _fold and _word companions.
TEXT_FIELDS = ("title", "body", "author")


class DerivedFoldText(TermListText):
    """A ``*_fold`` field: queries name it, :mod:`indexer.folded` derives it from the exact field."""

    def index(self, value, **kwargs):
        raise ValueError("a *_fold field is derived from its exact field (indexer/folded.py); it takes no value")


def make_schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True, sortable=True),
        hash=ID(stored=True, sortable=True),
        origin=ID(stored=True, sortable=True),
        path=STORED(),
        url=STORED(),
        source=ID(stored=True, sortable=True),
        category=ID(stored=True, sortable=True),
        date=DATETIME(stored=True, sortable=True),
        has_time=STORED(),
        year=NUMERIC(int, bits=32, sortable=True, signed=False),
        title=TermListText(analyzer=syllable_analyzer(), stored=True, phrase=True),
        title_fold=DerivedFoldText(analyzer=fold_analyzer(), phrase=True),
        title_word=TermListText(analyzer=word_analyzer(), phrase=False),
        body=TermListText(analyzer=syllable_analyzer(), stored=True, phrase=True),
        body_fold=DerivedFoldText(analyzer=fold_analyzer(), phrase=True),
        body_word=TermListText(analyzer=word_analyzer(), phrase=False),
        author=TermListText(analyzer=syllable_analyzer(), stored=True, phrase=True),
        author_fold=DerivedFoldText(analyzer=fold_analyzer(), phrase=True),
        author_word=TermListText(analyzer=word_analyzer(), phrase=False),
    )
