"""Why an article scored what it did, clause by clause (Elasticsearch's ``_explain``).

The query tree is walked for one document: every leaf (a term or a phrase in
one field) is scored by the one evaluation path (``evaluate.py``) and read at
that document, with the statistics BM25 used; unions add what matched,
intersections need every part, exclusions none.  The shingles and the bonuses
the engine adds after it are listed by the engine (``Index.explain``), so the
parts add up to the hit's score.
"""

from __future__ import annotations

import math
import time

import numpy as np
from whoosh import query as wq

from ..config import Ranking
from ..store.schema import base_of
from .evaluate import Segment, evaluate
from .plan import Plan
from .rescore import AdjacentPairs, LeadTerms

__all__ = ["explain_tree", "explanation", "part"]


def part(description: str, value: float, **facts) -> dict:
    """One line of an explanation: what counted, how much, and the statistics behind it."""
    return {"description": description, "value": round(float(value), 6), **facts}


def explanation(plan: Plan, lexicon, segments: list[Segment], ranking: Ranking, docnum: int, parts: list,
                in_window: bool, head: dict, deadline: float = math.inf) -> dict:
    """``head`` with whether ``docnum`` matches ``plan``, its score and every part of it: the
    tree's leaves, the shingle items (``parts``: (item, docnums, values) as the engine added
    them) and, ``in_window`` (among the candidates the bonuses rescore), the bonuses.  Past
    ``deadline`` it says so (``timed_out``) instead of evaluating more."""
    if time.perf_counter() > deadline:
        return {**head, "timed_out": True, "score": None, "details": []}
    if plan.query is None and plan.filter is None:  # nothing to search for: search finds nothing
        return {**head, "matched": False, "score": 0.0, "details": []}
    matched, _, details = explain_tree(plan.whole(), lexicon, ranking, segments, docnum, deadline)
    out = {**head, "matched": matched, "score": 0.0, "details": details}
    if time.perf_counter() > deadline:
        out["timed_out"] = True
    if not matched:
        return out
    for item, found, values in parts:
        at = np.flatnonzero(found == docnum)
        if len(at):
            shingles = " · ".join(" ".join(words) + ("" if with_forms or not item.forms else " (as typed)")
                                  for words, _, with_forms in item.shingles())
            read = ", ".join(f"{' '.join(r)} (×{w:.2f})" for r, w in item.readings)
            read = f"; read as {read}" if read else ""
            details.append(part(f"shingles {item.field}: {shingles}{read}", values[at[0]], field=item.field,
                                syllables=item.syllables, forms=item.forms,
                                readings=[{"syllables": list(r), "weight": w} for r, w in item.readings]))
    for bonus in plan.rescore if in_window else []:  # the bonuses rescore the top candidates only
        if isinstance(bonus, (AdjacentPairs, LeadTerms)):
            value = bonus.scores(lexicon, segments, [docnum], ranking).get(docnum)
            what = f"{type(bonus).__name__} {bonus.field}: {' '.join(bonus.syllables)}"
        else:
            value = _value_at(bonus, lexicon, ranking, segments, docnum)
            what = f"bonus {bonus}"
        if value:
            details.append(part(what, value))
    out["score"] = round(sum(d["value"] for d in details), 6)
    return out


def explain_tree(q, lexicon, ranking: Ranking, segments: list[Segment], docnum: int,
                 deadline: float = math.inf) -> tuple[bool, float, list[dict]]:
    """(whether ``docnum`` matches ``q``, its score, the leaves that counted); past ``deadline``
    a leaf matches nothing (as in ``evaluate``)."""
    if isinstance(q, (wq.Term, wq.Phrase)):
        value = _value_at(q, lexicon, ranking, segments, docnum, deadline)
        if value is None:
            return False, 0.0, []
        return True, value, [_leaf(q, lexicon, segments, docnum, value)]
    if isinstance(q, (wq.NumericRange, wq.Every)):
        value = _value_at(q, lexicon, ranking, segments, docnum, deadline)
        if value is None:
            return False, 0.0, []
        return True, value, [part(f"filter {q}", value)] if value else []
    if isinstance(q, wq.Or):
        found = [explain_tree(c, lexicon, ranking, segments, docnum, deadline) for c in q.subqueries]
        hits = [f for f in found if f[0]]
        return bool(hits), sum(f[1] for f in hits), [d for f in hits for d in f[2]]
    if isinstance(q, wq.And):
        found = [explain_tree(c, lexicon, ranking, segments, docnum, deadline) for c in q.subqueries]
        if not all(f[0] for f in found):
            return False, 0.0, []
        return True, sum(f[1] for f in found), [d for f in found for d in f[2]]
    if isinstance(q, wq.AndNot):
        matched, value, details = explain_tree(q.a, lexicon, ranking, segments, docnum, deadline)
        if not matched or explain_tree(q.b, lexicon, ranking, segments, docnum, deadline)[0]:
            return False, 0.0, []
        return True, value, details
    if isinstance(q, wq.AndMaybe):
        matched, value, details = explain_tree(q.a, lexicon, ranking, segments, docnum, deadline)
        if not matched:
            return False, 0.0, []
        extra, more, why = explain_tree(q.b, lexicon, ranking, segments, docnum, deadline)
        return True, value + (more if extra else 0.0), details + (why if extra else [])
    value = _value_at(q, lexicon, ranking, segments, docnum, deadline)  # anything else: as evaluated
    return (False, 0.0, []) if value is None else (True, value, [part(str(q), value)])


def _value_at(q, lexicon, ranking: Ranking, segments: list[Segment], docnum: int,
              deadline: float = math.inf) -> float | None:
    docs, scores, _ = evaluate(q, lexicon, ranking, segments, deadline)
    at = np.flatnonzero(docs == docnum)
    return float(scores[at[0]]) if len(at) else None


def _leaf(q, lexicon, segments: list[Segment], docnum: int, value: float) -> dict:
    field = q.fieldname
    words = [q.text] if isinstance(q, wq.Term) else list(q.words)
    words = [w.decode("utf-8") if isinstance(w, bytes) else w for w in words]
    kind = "term" if len(words) == 1 else "phrase"
    facts: dict = {"field": field, "boost": round(float(q.boost), 6)}
    seg = next((s for s in segments if s.offset <= docnum < s.offset + s.arrays.doc_count), None)
    if kind == "term" and seg is not None:
        local = docnum - seg.offset
        docs, tfs = seg.arrays.postings(seg.arrays.term_ids(field, words[0])).per_doc()
        at = np.searchsorted(docs, local)
        lengths = seg.arrays.lengths.get(base_of(field) or field)
        facts.update({
            "term": words[0], "doc_frequency": lexicon.doc_frequency(field, words[0]),
            "idf": round(lexicon.idf(field, words[0]), 6),
            "tf": int(tfs[at]) if at < len(docs) and docs[at] == local else 0,
            "field_length": int(lengths[local]) if lengths is not None else None,
            "avg_field_length": round(lexicon.avg_field_length(field, 0) or 0, 3)})
    else:
        facts["phrase"] = " ".join(words)
    return part(f"{kind} {field}:{' '.join(words)}", value, **facts)
