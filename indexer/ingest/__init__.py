"""Reading articles from folders of seed-style files and JSON-lines feeds."""

from .records import MAX_ID_CHARS, Article, Problem, ReadMeter, Unchanged, id_problem
from .sources import iter_articles, origin_of

__all__ = ["Article", "MAX_ID_CHARS", "Problem", "ReadMeter", "Unchanged", "id_problem", "iter_articles", "origin_of"]
