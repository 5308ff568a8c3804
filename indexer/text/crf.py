"""pyvi's CRF word-boundary model, decoded without building feature strings.

pyvi describes each syllable to python-crfsuite with about a dozen feature
strings ("word.lower():hà", "-1:word.istitle()", ...), which CRFsuite turns
back into attribute ids and sums the weights of.  Building and converting
those strings was 3 ms of every article's 10 ms of indexing.  The model is
small (two labels, 6,335 attributes), so :class:`CrfModel` reads its weights
once from pyvi's model file (CRFsuite's ``lCRF`` format) and computes the
same per-syllable scores with NumPy (a syllable's own, previous- and
next-word attributes looked up by its lower-cased form) and the same Viterbi
search in Python.

The arithmetic is CRFsuite's, addition for addition: a label's score starts
at 0 and adds the attribute weights in the order pyvi lists the features
(``crf1dt_state_score``), and Viterbi keeps the first of equal scores
(``crf1dc_viterbi``).  Adding 0.0 for an absent attribute changes no sum,
so the labels are bit-for-bit CRFsuite's; ``tests/test_segment.py`` compares
them with pyvi's own tokenizer on the seeds, a corpus sample and altered passages.
"""

from __future__ import annotations

import struct
from itertools import repeat

import numpy as np

__all__ = ["CrfModel"]

_HEADER = struct.Struct("<4sI4sIIIIIIIII")
_CHUNK = 12  # chunk id, size, item count
_FEATURE = struct.Struct("<IIId")  # type, source, destination, weight
_STATE, _TRANSITION = 0, 1
# pyvi's attributes that do not name a syllable (the rest are "<prefix>word.lower():<syllable>").
_FLAGS = ("bias", "word.isupper()", "word.istitle()", "word.isdigit()",
          "-1:word.istitle()", "-1:word.isupper()", "-1:word.bi_gram()", "-2:word.tri_gram()",
          "+1:word.istitle()", "+1:word.isupper()", "+1:word.bi_gram()", "+2:word.tri_gram()")
_SYLLABLE_PREFIXES = ("word.lower():", "-1:word.lower():", "+1:word.lower():")


def _strings(buffer: bytes, offset: int) -> list[str]:
    """The id -> string table of a CQDB (constant quark database) chunk."""
    chunk, _, _, _, count, backward = struct.unpack_from("<4sIIIII", buffer, offset)
    if chunk != b"CQDB":
        raise ValueError("not a CRFsuite model: string table missing")
    out = []
    for i in range(count):
        (record,) = struct.unpack_from("<I", buffer, offset + backward + 4 * i)
        start = offset + record + 8  # skip the id and the length
        out.append(buffer[start:buffer.index(b"\x00", start)].decode("utf-8"))
    return out


class CrfModel:
    """The weights of a two-label CRFsuite model over pyvi's features."""

    def __init__(self, data: bytes):
        (magic, _, kind, _, _, num_labels, _, off_features, off_labels, off_attrs, _, _) = \
            _HEADER.unpack_from(data, 0)
        if magic != b"lCRF" or kind != b"FOMC":
            raise ValueError("not a CRFsuite first-order model")
        self.labels = _strings(data, off_labels)
        if num_labels != 2 or len(self.labels) != 2:
            raise ValueError(f"expected pyvi's two labels, found {self.labels}")
        attributes = _strings(data, off_attrs)
        (count,) = struct.unpack_from("<I", data, off_features + 8)
        weights: dict[str, list[float]] = {}
        self.transition = [[0.0, 0.0], [0.0, 0.0]]
        for kind_, src, dst, weight in _FEATURE.iter_unpack(
                data[off_features + _CHUNK:off_features + _CHUNK + count * _FEATURE.size]):
            if kind_ == _STATE:
                weights.setdefault(attributes[src], [0.0, 0.0])[dst] = weight
            elif kind_ == _TRANSITION:
                self.transition[src][dst] = weight
        zero = [0.0, 0.0]
        self.flags = {name: np.array(weights.get(name, zero)) for name in _FLAGS}
        # Syllables with any weight get a row (row 0: unknown, all zero) in three tables.
        syllables = sorted({a.split(":", 1)[1] if a.startswith("word.") else a.split(":", 2)[2]
                            for a in weights if a.startswith(_SYLLABLE_PREFIXES)})
        self.rows = {s: i + 1 for i, s in enumerate(syllables)}
        self.own, self.before, self.after = (
            np.array([zero] + [weights.get(prefix + s, zero) for s in syllables])
            for prefix in _SYLLABLE_PREFIXES)

    @classmethod
    def from_file(cls, path: str) -> CrfModel:
        with open(path, "rb") as fh:
            return cls(fh.read())

    def tag(self, lower: list[str], upper: list[bool], title: list[bool], digit: list[bool],
            bigram: list[bool], trigram: list[bool]) -> list[int]:
        """Viterbi labels (0, 1: indexes into ``labels``) of one sequence.

        Per syllable ``i``: its lower-cased form and str predicates, whether
        syllables ``i-1, i`` form a known word (``bigram``) and ``i-2..i``
        (``trigram``); the entries a position lacks (``bigram[0]``) are ignored.
        """
        n = len(lower)
        if n == 0:
            return []
        f = self.flags
        rows = np.array(list(map(self.rows.get, lower, repeat(0))), dtype=np.intp)
        up, ti = np.array(upper), np.array(title)
        bi, tri = np.array(bigram), np.array(trigram)
        # One label score per row; each += is one feature, in pyvi's order (see module doc).
        score = np.zeros((n, 2))
        score += f["bias"]
        score += self.own[rows]
        score[up] += f["word.isupper()"]
        score[ti] += f["word.istitle()"]
        score[np.array(digit)] += f["word.isdigit()"]
        if n > 1:
            rest, head = score[1:], score[:-1]  # views: syllables with a previous / next one
            rest += self.before[rows[:-1]]
            rest[ti[:-1]] += f["-1:word.istitle()"]
            rest[up[:-1]] += f["-1:word.isupper()"]
            rest[bi[1:]] += f["-1:word.bi_gram()"]
            if n > 2:
                score[2:][tri[2:]] += f["-2:word.tri_gram()"]
            head += self.after[rows[1:]]
            head[ti[1:]] += f["+1:word.istitle()"]
            head[up[1:]] += f["+1:word.isupper()"]
            head[bi[1:]] += f["+1:word.bi_gram()"]
            if n > 2:
                score[:-2][tri[2:]] += f["+2:word.tri_gram()"]
        return self._viterbi(score[:, 0].tolist(), score[:, 1].tolist())

    def _viterbi(self, first: list[float], second: list[float]) -> list[int]:
        (t00, t01), (t10, t11) = self.transition
        a0, a1 = first[0], second[0]
        back0: list[int] = [0]
        back1: list[int] = [0]
        for s0, s1 in zip(first[1:], second[1:]):
            # Unrolled for the two labels (this loop runs once per syllable).  CRFsuite keeps
            # the first label of equal scores: label 1 only if strictly better.
            x, y = a0 + t00, a1 + t10
            if y > x:
                back0.append(1)
                m0 = y
            else:
                back0.append(0)
                m0 = x
            x, y = a0 + t01, a1 + t11
            if y > x:
                back1.append(1)
                m1 = y
            else:
                back1.append(0)
                m1 = x
            a0, a1 = m0 + s0, m1 + s1
        label = 1 if a1 > a0 else 0
        labels = [label] * len(first)
        for t in range(len(first) - 1, 0, -1):
            label = back1[t] if label else back0[t]
            labels[t - 1] = label
        return labels
