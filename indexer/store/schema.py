"""The Whoosh schema: what is indexed, what is stored, and how fields are weighted.

Every text field exists three times (syllables, folded syllables, pyvi
words; see ``analysis.py``); the folded one is declared but never written:
its postings are the exact field's, folded at search time (``search/lexicon.py``).
Only the syllable field stores the text, and it stores the original as
written, which is what snippets and the article page show.  Text fields are
Whoosh's TEXT, indexing the indexer's term lists faster (``fields.py``).
``SCHEMA_VERSION`` is part of every document's change hash: bumping it when
analysis changes makes the next run re-index everything.
"""

from __future__ import annotations

from whoosh.fields import DATETIME, ID, NUMERIC, STORED, Schema

from ..text.analysis import fold_analyzer, syllable_analyzer, word_analyzer
from .fields import DerivedFoldText, TermListText

__all__ = ["FOLD_SUFFIX", "INDEX_NAME", "KEYWORD_FIELDS", "LENGTH_FIELDS", "POSITION_FIELDS", "POSTING_FIELDS",
           "SCHEMA_VERSION", "TEXT_FIELDS", "base_of", "make_schema"]

SCHEMA_VERSION = "4"  # 2: plain-file segments; 3: NFC fix in normalize; 4: *_fold fields derived
INDEX_NAME = "MAIN"   # Whoosh's name for the index in a generation folder

# The one place for field names.
TEXT_FIELDS = ("title", "body", "author")       # searchable text, each with _fold and _word companions
KEYWORD_FIELDS = ("source", "category")         # matched whole
POSITION_FIELDS = TEXT_FIELDS                   # postings with positions; their *_fold companions derived
POSTING_FIELDS = ("title_word", "body_word") + KEYWORD_FIELDS  # postings only (bonuses, filters)
LENGTH_FIELDS = POSITION_FIELDS + ("title_word", "body_word")  # per-document lengths BM25 needs
FOLD_SUFFIX = "_fold"


def base_of(fieldname: str) -> str | None:
    """The exact field a folded field is derived from, or None for any other field."""
    if fieldname.endswith(FOLD_SUFFIX) and fieldname[: -len(FOLD_SUFFIX)] in POSITION_FIELDS:
        return fieldname[: -len(FOLD_SUFFIX)]
    return None


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
