"""Indexing runs: what changed under the sources, analysed by worker processes into new
segments, committed together; the report of what was done."""

from .report import IndexReport, Progress
from .update import forget_sources, update_index

__all__ = ["IndexReport", "Progress", "forget_sources", "update_index"]
