"""The index on disk: the schema and its field names, generations published atomically,
the segment writer, and the posting arrays beside each segment."""

import sys

from ..text import analysis as _analysis
from . import fields as _fields

# Indexes written before the package had layers pickled their schema's classes (in every table
# of contents, which Whoosh unpickles on opening) under the old module names:
# indexer.writer.TermListText, indexer.schema.DerivedFoldText, indexer.analysis.*.  They must
# still open (tests/test_store.py reads such a pickle).
sys.modules.setdefault("indexer.writer", _fields)
sys.modules.setdefault("indexer.schema", _fields)
sys.modules.setdefault("indexer.analysis", _analysis)
