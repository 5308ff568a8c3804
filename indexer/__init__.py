"""vnsearch: full-text search for Vietnamese news articles.

The public API::

    from indexer import open_index
    ix = open_index("index_dir")
    report = ix.update(["seeds"])          # add / update / remove articles
    results = ix.search("mat tran to quoc", per_page=5)
    for hit in results.hits:
        print(hit.title, hit.snippet)
"""

from .ingest import id_problem
from .build import IndexReport, update_index
from .search.engine import DEFAULT_INDEX_DIR, Article, Hit, Index, SearchResults, open_index
from .store.generations import IndexBusyError, NoIndexError

__all__ = [
    "DEFAULT_INDEX_DIR", "Article", "Hit", "Index", "IndexBusyError", "IndexReport", "NoIndexError",
    "SearchResults", "id_problem", "open_index", "update_index",
]
__version__ = "0.1.0"
