"""What a run of plain words adds to its syllables' matches, decided by words and adjacency.

A short run (a topic: "mặt trận tổ quốc") gets its shingles, its adjacent
pairs and itself scored with their own IDF on every match before the top is
chosen (``rescore.AdjacentPairs`` with ``own_idf``); a long one (a headline, a
question) gets adjacency and lead bonuses on the top candidates only.  pyvi's
compounds of a query typed with diacritics rescore too.  Segmentation never
decides what matches: these only rank.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from whoosh import query as wq

from ..config import Ranking
from ..text.analysis import analyze
from ..text.normalize import fold, has_diacritics
from .rescore import AdjacentPairs, LeadTerms

__all__ = ["RunBonuses", "phrase_bonus", "run_bonuses"]

FIELDS = ("title", "body")


@dataclass
class RunBonuses:
    rescore: list[wq.Query | AdjacentPairs | LeadTerms] = field(default_factory=list)  # the top candidates
    proximity: list[AdjacentPairs] = field(default_factory=list)  # every match
    readable: list[AdjacentPairs] = field(default_factory=list)   # unaccented runs, to be read (reading.py)


def run_bonuses(syllables: list[str], text: str, ranking: Ranking, any_terms: bool, accented: bool,
                forms: list[list[str]]) -> RunBonuses:
    """The bonuses of a run of ``syllables`` (typed as ``text``); ``forms``: the run's other
    written forms (an acronym's), ``accented``: the query has diacritics somewhere."""
    out = RunBonuses()
    if len(syllables) < 2:
        return out
    r, weights = ranking, ranking.field_weights
    folded = [fold(s) for s in syllables]
    if len(syllables) <= r.shingle_syllables:
        exact = all(has_diacritics(s) for s in syllables)  # exact where typed with every mark
        for f in FIELDS:
            w = weights[f]
            out.proximity.append(AdjacentPairs(
                f if exact else f + "_fold", syllables if exact else folded,
                boost=w * r.shingle_weight if len(syllables) > 2 else 0.0,  # two syllables: the pair is the phrase
                phrase_boost=w * r.shingle_phrase_weight, own_idf=True,
                forms=[form if exact else [fold(s) for s in form] for form in forms]))
        if not accented:
            out.readable.append(out.proximity[-1])
    else:
        for f in FIELDS:
            w = weights[f]
            out.rescore.append(AdjacentPairs(
                f + "_fold", folded[:r.max_bonus_pairs], boost=w * r.pair_weight if len(syllables) > 2 else 0.0,
                phrase_boost=w * r.phrase_weight if len(syllables) <= r.max_bonus_phrase else 0.0))
    if r.lead_weight and any_terms:  # tuned for headlines and questions (any-word mode)
        out.rescore.append(LeadTerms("body_fold", list(dict.fromkeys(folded)), r.lead_syllables, r.lead_weight))
    if any(has_diacritics(s) for s in syllables):
        for compound in dict.fromkeys(analyze(text).words):
            out.rescore += [wq.Term(f + "_word", compound, boost=weights[f] * r.word_weight) for f in FIELDS]
    return out


def phrase_bonus(text: str, ranking: Ranking) -> list[AdjacentPairs]:
    """A quotation in an any-word query: standing together ranks, it does not filter."""
    syllables = analyze(text, words=False).syllables
    if len(syllables) < 2:
        return []
    if any(has_diacritics(s) for s in syllables):
        suffix = ""
    else:
        suffix, syllables = "_fold", [fold(s) for s in syllables]
    return [AdjacentPairs(f + suffix, syllables, boost=0.0,
                          phrase_boost=ranking.field_weights[f] * ranking.phrase_weight) for f in FIELDS]
