"""Whoosh field types that take the indexer's analysed term lists."""

from __future__ import annotations

from pickle import dumps

from whoosh.fields import TEXT
from whoosh.formats import Frequency, Positions
from whoosh.system import pack_uint

__all__ = ["COUNT_ONE", "DerivedFoldText", "ONE_POSITION", "TermListText", "encode_positions"]


class TermListText(TEXT):
    """A TEXT field whose value may be the list of its terms, analysed already.

    The indexer segments each article once and hands every field its terms
    (see ``build.analyze_article``); Whoosh numbers their positions 0, 1, ...
    and gives each a boost of 1.  Text values take Whoosh's usual path.
    """

    def index(self, value, **kwargs):
        fmt = self.format
        if not isinstance(value, list) or kwargs or type(fmt) not in (Positions, Frequency):
            return super().index(value, **kwargs)
        positions: dict[str, list[int]] = {}
        for i, term in enumerate(value):
            found = positions.get(term)
            if found is None:
                positions[term] = [i]
            else:
                found.append(i)
        fb = fmt.field_boost
        if type(fmt) is Positions:
            return [(term.encode("utf-8"), len(p), len(p) * fb, encode_positions(p))
                    for term, p in positions.items()]
        return [(term.encode("utf-8"), len(p), len(p) * fb, pack_uint(len(p))) for term, p in positions.items()]


def encode_positions(positions: list[int]) -> bytes:
    """``whoosh.formats.Positions.encode``: the count, then the pickled gaps.

    Most terms of an article occur once, so the pickle of a one-position list is
    kept per position.  The result is always a new object: a block pickles its
    values together, and pickle would write a shared object once and refer back
    to it, which is not the block Whoosh writes (tests/test_writer.py compares).
    """
    if len(positions) == 1:
        tail = ONE_POSITION.get(positions[0])
        if tail is None:
            tail = ONE_POSITION[positions[0]] = dumps(positions, 2)
        return COUNT_ONE + tail  # concatenation allocates a new bytes object
    return pack_uint(len(positions)) + dumps([b - a for a, b in zip([0] + positions, positions)], 2)


COUNT_ONE = pack_uint(1)
ONE_POSITION: dict[int, bytes] = {}


class DerivedFoldText(TermListText):
    """A ``*_fold`` field: queries name it, ``search/lexicon.py`` derives it from the exact field."""

    def index(self, value, **kwargs):
        raise ValueError("a *_fold field is derived from its exact field (indexer/search/lexicon.py); "
                         "it takes no value")
