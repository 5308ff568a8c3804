"""Every tunable number of search in one place, as frozen dataclasses.

``Index(config=...)`` takes a :class:`Config`; a benchmark tunes by passing one
(``dataclasses.replace(DEFAULT.ranking, pair_weight=2.0)``), never by patching
modules.  The values are the ones tuned on the benchmarks' dev splits (see
BENCHMARKS.md); their comments say what each weighs or bounds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = ["Config", "DEFAULT", "Limits", "Ranking", "Suggest"]


def _frozen(mapping: dict) -> Mapping:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class Ranking:
    """BM25F and the weights of what a query's words are matched as."""

    k1: float = 1.2
    b: float = 0.75
    field_b: Mapping[str, float] = field(default_factory=lambda: _frozen({"title": 0.5, "title_fold": 0.5}))
    field_weights: Mapping[str, float] = field(
        default_factory=lambda: _frozen({"title": 3.0, "body": 1.0, "author": 0.5}))
    fold_weight: float = 0.8        # a folded match, relative to an exact one
    exact_bonus: float = 0.3        # extra when an unaccented query word is literally in the text
    # In a query typed with diacritics, an unaccented word ("Thanh", "ban") is most
    # likely meant as written: exact matches count fully, folded ones little.
    accented_query_fold_weight: float = 0.2
    phrase_weight: float = 1.0      # all consecutive query words next to each other
    pair_weight: float = 1.5        # each pair of consecutive query words next to each other
    word_weight: float = 0.5        # a pyvi compound of the query found as a word
    lead_weight: float = 0.5        # query syllables in the opening of the body (the lead)
    lead_syllables: int = 100       # (both tuned on vietnews-title and vicov19qa dev)
    max_bonus_phrase: int = 6       # whole-run phrase bonus for runs up to this many syllables
    max_bonus_pairs: int = 64       # adjacent-pair bonuses for this many syllables of a run
    # A run of at most this many syllables (a topic: "mặt trận tổ quốc") has its adjacent
    # pairs and itself scored as terms with their own IDF, over every match (shingles):
    # the words decide which articles are candidates, not only how the top ones are reordered.
    shingle_syllables: int = 6
    shingle_weight: float = 1.0     # each adjacent pair of such a run (tuned on vi-topics and vicov19qa dev)
    shingle_phrase_weight: float = 1.5  # the whole run
    # The shingles' own BM25 saturation and length normalisation: an article about a topic
    # says its words again and again, at length, where one that mentions it in a title does
    # not (tuned on vi-topics dev: nDCG@10 0.873 -> 0.916 with k1 2.0, b 0.3; the syllables
    # keep k1, b: repeating them inside other words must not count more).
    shingle_k1: float = 2.0
    shingle_b: float = 0.3
    # ... over the best this many matches by syllable score when there are more (the
    # shingles' IDF then counted over them): "người dân" matches most of a large index.
    shingle_window: int = 2_000
    # A run typed without diacritics is also scored as the collection writes it (its
    # readings, reading.py, found on the best ``reading_sample`` matches by syllable score):
    # its shingles found written so score again, times the share of the run's occurrences
    # written so.
    reading_weight: float = 1.0
    reading_sample: int = 500
    reading_notice_share: float = 0.5  # "kết quả cho: mặt trận tổ quốc" when a reading is this common
    fuzzy_variant_weight: float = 0.8  # a fuzzy word's other forms, relative to the form typed
    # An acronym's other forms weigh what the typed form weighs (its IDF mass): one concept,
    # however it is written.  False: each form by its own IDF (bench/acronyms.py compares).
    acronym_forms_as_typed: bool = True
    rescore_window: int = 200       # candidates rescored with the bonuses (any-word mode)

    def b_for(self, fieldname: str) -> float:
        return self.field_b.get(fieldname, self.b)


@dataclass(frozen=True)
class Limits:
    """Bounds on what one query may cost, whatever it holds."""

    max_query_chars: int = 1000
    max_per_page: int = 100
    max_results_depth: int = 10_000  # page * per_page beyond this is refused
    max_words: int = 32              # words beyond this are ignored (all-words mode)
    max_words_any: int = 64          # any-word mode reads long questions
    max_expansions: int = 50         # terms a prefix or fuzzy word may expand to
    max_phrase_expansions: int = 20  # completions of a phrase's last word ("thanh p*"): a phrase each
    phrase_expansion_syllables: int = 120  # ... and at most this many syllables in all those phrases
    max_query_expansions: int = 100  # all of a query's prefix/fuzzy words together
    max_scan: int = 5000             # index terms a prefix expansion may look at
    # Time budgets (seconds), from the start of the search: bonuses still missing this long
    # after the start are left out, for every candidate alike.
    rescore_seconds: float = 2.0


@dataclass(frozen=True)
class Suggest:
    """Did-you-mean and the reading of keystrokes typed with the Vietnamese keyboard off."""

    below: int = 3               # offer did-you-mean when fewer hits than this
    max_chars: int = 12          # longer words get no did-you-mean
    # A word in fewer than this share of the articles may still be a typo if a close word is
    # ``popular`` times as frequent: a big corpus holds every common typo a few times
    # ("trog" is in 3 of 111,828 articles, "trong" in 103,336).
    rare_share: float = 0.001
    popular: int = 50
    by_spelling: bool = True     # trust Vietnamese spelling; False: frequency and marks only
    # Counting how often candidates stand beside the other words stops after this many seconds
    # (a long query of rare words); the words left are fixed by spelling and frequency alone.
    context_seconds: float = 0.3
    keystrokes: bool = True      # read words typed with the Vietnamese keyboard off ("mawtj" -> "mặt")


@dataclass(frozen=True)
class Config:
    ranking: Ranking = field(default_factory=Ranking)
    limits: Limits = field(default_factory=Limits)
    suggest: Suggest = field(default_factory=Suggest)


DEFAULT = Config()
