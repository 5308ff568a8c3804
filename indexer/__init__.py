"""vnsearch: full-text search for Vietnamese news articles.

The public API::

    from indexer import open_index
    ix = open_index("index_dir")
    report = ix.update(["seeds"])          # add / update / remove articles
    results = ix.search("mat tran to quoc", per_page=5)
    for hit in results.hits:
        print(hit.title, hit.snippet)

The package is in layers, each importing only those below it (checked in CI by
import-linter): ``text`` < ``ingest`` < ``store`` < ``build`` < ``search`` < the CLI;
``config`` and ``errors`` sit below them all.  See docs/architecture.md.
"""

from .build import IndexReport, Progress, update_index
from .config import DEFAULT, Config
from .errors import IndexingFailed
from .ingest import id_problem
from .search.engine import DEFAULT_INDEX_DIR, MAX_PER_PAGE, MAX_QUERY_CHARS, SORTS, Index, open_index
from .search.request import BadSearchArgument
from .search.results import Hit, SearchResults, StoredArticle
from .store.generations import IndexBusyError, NoIndexError

Article = StoredArticle  # the name this stored view had before 0.2: kept for callers

__all__ = [
    "DEFAULT", "DEFAULT_INDEX_DIR", "MAX_PER_PAGE", "MAX_QUERY_CHARS", "SORTS", "Article", "BadSearchArgument",
    "Config", "Hit", "Index", "IndexBusyError", "IndexReport", "IndexingFailed", "NoIndexError", "Progress",
    "SearchResults", "StoredArticle", "id_problem", "open_index", "update_index",
]
__version__ = "0.2.0"
