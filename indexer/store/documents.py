"""Articles as Whoosh documents, and what the index holds of each (its manifest)."""

from __future__ import annotations

from ..ingest import Article
from ..text.analysis import analyze
from .schema import SCHEMA_VERSION

__all__ = ["analyze_article", "read_manifest"]


def analyze_article(article: Article) -> dict:
    """Whoosh field values for one article: analysed once, reused by the field kinds."""
    doc: dict = {
        "id": article.id,
        "hash": article.content_hash(SCHEMA_VERSION),
        "origin": article.origin,
        "path": article.path,
        "url": article.url,
        "source": article.source,
        "category": article.category,
        "has_time": article.has_time,
    }
    if article.date is not None:
        doc["date"] = article.date
        doc["year"] = article.date.year
    for name, text in (("title", article.title), ("body", article.body), ("author", article.author)):
        result = analyze(text, spans=False)  # terms only: offsets are for snippets
        doc[name] = result.syllables  # the *_fold fields are derived from these (search/lexicon.py)
        doc[name + "_word"] = result.words
        doc["_stored_" + name] = text
    return doc


def read_manifest(ix) -> dict[str, tuple[str, str]]:
    """id -> (hash, origin) of every live document, read from columns (no stored bodies)."""
    manifest: dict[str, tuple[str, str]] = {}
    with ix.reader() as reader:
        if reader.doc_count() == 0:
            return manifest
        # Each column read whole, in docnum order (deleted documents too): twice as fast
        # as a lookup per document, which finds the segment and its reader every time.
        ids, hashes, origins = (list(reader.column_reader(name)) for name in ("id", "hash", "origin"))
        if not len(ids) == len(hashes) == len(origins) == reader.doc_count_all():
            raise RuntimeError("index columns do not cover every document")
        for docnum in reader.all_doc_ids():
            manifest[ids[docnum]] = (hashes[docnum], origins[docnum])
    return manifest
