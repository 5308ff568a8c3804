"""From a parsed query to a plan: the query tree to evaluate, the bonuses that rescore
the top candidates, what to mark in snippets, and the words did-you-mean may correct.

Matching is decided per syllable, never by segmentation:

* a syllable typed with diacritics must match exactly (after normalisation);
* one typed without them matches the folded field, and a literal match in
  the exact field adds a bonus, so "ban" ranks "ban" above "bàn";
* several syllables in one unit ("covid-19", a quoted phrase) must be a
  phrase in one field.

Ranking is then helped, never gated, by what depends on segmentation or
adjacency: a phrase bonus for consecutive query words (whole run and each
pair), a bonus for pyvi compounds found in the query, and title weight.
Acronyms and their expansions are alternatives of each other.  Prefix and
fuzzy terms expand to at most ``Limits.max_expansions`` index terms.  Whoosh's
query classes are the tree's vocabulary; ``evaluate.py`` evaluates it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime

from whoosh import query as wq

from ..config import DEFAULT, Config
from ..store.schema import KEYWORD_FIELDS, TEXT_FIELDS
from ..text.acronyms import AcronymTable
from ..text.analysis import analyze
from ..text.normalize import fold, has_diacritics
from ..text.syllables import split_glued
from .bonuses import phrase_bonus, run_bonuses
from .expand import blended, fuzzy_terms, prefix_terms
from .lexicon import Lexicon
from .parser import And, DateRange, Node, Not, Or, Phrase, Word
from .rescore import AdjacentPairs, LeadTerms

__all__ = ["Mark", "Plan", "QueryBuilder"]

# What a snippet marks: syllables that stand together, each ("exact", canonical) or ("fold", folded).
Mark = tuple[tuple[str, str], ...]


@dataclass
class Plan:
    """A compiled query: what matches, what filters, what rescores, what to mark."""

    query: wq.Query | None
    filter: wq.Query | None
    marks: list[Mark] = field(default_factory=list)
    # Marked too, but worth little in choosing a snippet: a phrase's syllables standing alone.
    minor_marks: list[Mark] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    # (text as typed, syllable, folded?) of each plain positive word, for did-you-mean.
    words: list[tuple[str, str, bool]] = field(default_factory=list)
    clauses: int = 0  # number of top-level required clauses (any-term fallback needs >= 2)
    # Queries that only rescore the top candidates (bonuses, common words): see Index.search.
    rescore: list[wq.Query | AdjacentPairs | LeadTerms] = field(default_factory=list)
    # Scored on every match before the top is chosen: a short run's shingles.
    proximity: list[AdjacentPairs] = field(default_factory=list)
    # Runs typed without any diacritic (folded syllables), whose readings can rank (reading.py).
    readable: list[AdjacentPairs] = field(default_factory=list)  # their folded shingles, with their forms

    def whole(self) -> wq.Query:
        """The query and its filter as one tree (date ranges score a constant: ranking is unchanged)."""
        q = self.query or wq.Every()
        if self.filter is None:
            return q
        return self.filter if isinstance(q, wq.Every) else wq.And([q, self.filter])


class QueryBuilder:
    def __init__(self, lexicon: Lexicon, acronyms: AcronymTable, any_terms: bool = False, accented: bool = False,
                 config: Config = DEFAULT):
        self.lexicon = lexicon  # term statistics, folded fields included (lexicon.py)
        self.accented = accented  # the reader typed diacritics somewhere in the query
        self.acronyms = acronyms
        self.any_terms = any_terms
        self.ranking, self.limits = config.ranking, config.limits
        self.weights = self.ranking.field_weights
        self.marks: list[Mark] = []
        self.minor_marks: list[Mark] = []
        self.notices: list[str] = []
        self.words: list[tuple[str, str, bool]] = []
        self.word_budget = self.limits.max_words_any if any_terms else self.limits.max_words
        self.rescore: list[wq.Query | AdjacentPairs | LeadTerms] = []
        self.expansions_left = self.limits.max_query_expansions
        self.proximity: list[AdjacentPairs] = []
        self.readable: list[AdjacentPairs] = []

    def _mark(self, *matchers: tuple[str, str]) -> None:
        self.marks.append(tuple(matchers))

    # --- entry point ------------------------------------------------------
    def build(self, node: Node | None, date_from: datetime | None = None,
              date_to: datetime | None = None) -> Plan:
        filters = []
        if date_from or date_to:
            filters.append(wq.DateRange("date", date_from, date_to))
        clauses = 0
        query = None
        if node is not None:
            children: list[Node] = node.children if isinstance(node, And) else [node]
            clauses = sum(1 for c in children if not isinstance(c, (Not, DateRange)))
            query, dates = self._and(children, top=True)
            filters += dates
        flt = None if not filters else (filters[0] if len(filters) == 1 else wq.And(filters))
        return Plan(query, flt, self.marks, self.minor_marks, self.notices, self.words, clauses, self.rescore,
                    self.proximity, self.readable)

    # --- tree -------------------------------------------------------------
    def _node(self, node: Node) -> wq.Query | None:
        if isinstance(node, Word):
            return self._word(node)
        if isinstance(node, Phrase):
            return self._phrase(node)
        if isinstance(node, And):
            return self._and(node.children)[0]
        if isinstance(node, Or):
            parts = [q for q in (self._node(c) for c in node.children) if q is not None]
            return _or(parts)
        if isinstance(node, Not):
            inner = self._node(node.child)
            return wq.AndNot(wq.Every(), inner) if inner is not None else None
        if isinstance(node, DateRange):
            return wq.DateRange("date", node.start, node.end)
        return None

    def _and(self, children: list[Node], top: bool = False) -> tuple[wq.Query | None, list[wq.Query]]:
        required: list[wq.Query] = []
        excluded: list[wq.Query] = []
        dates: list[wq.Query] = []
        boosts: list[wq.Query] = []
        run: list[Word] = []

        def flush():
            if run:
                req, bst = self._run(run)
                required.extend(req)
                boosts.extend(bst)
                run.clear()

        for child in children:
            if isinstance(child, Word) and child.field is None and not child.prefix and not child.fuzzy:
                run.append(child)
                continue
            if self.any_terms and isinstance(child, Phrase) and child.field is None:
                # In a question or a pasted headline, quotes mark a quotation, not a
                # filter: its words count like the others, standing together is a bonus.
                run.extend(Word(t) for t in child.text.split())
                self.rescore += phrase_bonus(child.text, self.ranking)
                continue
            flush()
            if isinstance(child, Not):
                q = self._excluded(child.child)
                if q is not None:
                    excluded.append(q)
            elif isinstance(child, DateRange) and top:
                dates.append(wq.DateRange("date", child.start, child.end))
            else:
                q = self._node(child)
                if q is not None:
                    required.append(q)
        flush()
        if required:
            positive = _or(required) if self.any_terms else (required[0] if len(required) == 1 else wq.And(required))
            if boosts:
                positive = wq.AndMaybe(positive, _or(boosts))
        elif excluded:
            positive = wq.Every()
        else:
            return None, dates
        if excluded:
            positive = wq.AndNot(positive, _or(excluded))
        return positive, dates

    def _excluded(self, node: Node) -> wq.Query | None:
        start, minor = len(self.marks), len(self.minor_marks)
        q = self._node(node)
        del self.marks[start:]  # excluded words are not marked
        del self.minor_marks[minor:]
        return q

    # --- runs of plain words ----------------------------------------------
    def _run(self, words: list[Word]) -> tuple[list[wq.Query], list[wq.Query]]:
        """Required clauses and ranking bonuses for consecutive plain words."""
        units: list[tuple[Word, list[str]]] = []  # (word, syllables)
        for w in words:
            syllables = analyze(w.text, words=False).syllables
            if not syllables:
                continue
            if self.any_terms and len(syllables) > 1:
                # "COVID-19" in a question: its syllables, not a (slow) phrase.
                for s in syllables:
                    if not any(u[1] == [s] for u in units) and self.word_budget > 0:
                        self.word_budget -= 1
                        units.append((Word(s, w.field), [s]))
                continue
            if self.any_terms and any(u[1] == syllables for u in units):
                continue  # a repeated word adds cost, not information
            if self.word_budget <= 0:
                limit = self.limits.max_words_any if self.any_terms else self.limits.max_words
                self.notices.append(f"Truy vấn quá dài: chỉ dùng {limit} từ đầu tiên.")
                break
            self.word_budget -= 1
            units.append((w, syllables))
        required: list[wq.Query] = []
        self._run_forms: list[list[str]] = []
        i = 0
        while i < len(units):
            match, span = None, 1  # span: how many units the table form covers
            if len(units[i][1]) == 1:
                singles = list(itertools.takewhile(lambda u: len(u[1]) == 1, units[i:]))
                match = self.acronyms.match([fold(u[1][0]) for u in singles], 0)
                span = match[0] if match else 1
            else:  # one word of several syllables, all of a table form: "TP.HCM"
                whole = self.acronyms.match([fold(s) for s in units[i][1]], 0)
                if whole and whole[0] == len(units[i][1]):
                    match = whole
            if match:
                forms = match[1]
                typed = [s for k in range(i, i + span) for s in units[k][1]]
                start = len(self.marks)
                own = [self._unit(units[k][0], units[k][1]) for k in range(i, i + span)]
                # Mark the typed words where they stand together, and each one where it stands
                # alone: a scattered syllable counted too, and the reader sees why it is there.
                del self.marks[start:]
                typed_marks = [("exact" if has_diacritics(s) or self.accented else "fold", s) for s in typed]
                self._mark(*typed_marks)
                if len(typed_marks) > 1:
                    self.minor_marks += [(matcher,) for matcher in dict.fromkeys(typed_marks)]
                alternatives = [own[0] if span == 1 else wq.And(own)]
                typed_weight = self._idf_sum(typed)
                for form in forms:
                    if tuple(map(fold, form)) == tuple(map(fold, typed)):
                        continue
                    if self.any_terms and len(form) > 1 and len(units) > self.ranking.shingle_syllables:
                        # A phrase per question word is too slow: the expansion rescores
                        # (a short query, "UBND", matches its expansion in either mode).
                        self._mark(*[("exact", s) for s in form])
                        self.rescore += [wq.Term(f, s, boost=self.weights[f] * 0.5)
                                         for s in form for f in ("title", "body")]
                    else:
                        # One concept, however it is written: "UBND" in a title counts as
                        # much as "Ủy ban nhân dân" there, not as one word against four.
                        form_weight = self._idf_sum(list(form))
                        scale = typed_weight / form_weight if typed_weight > 0 and form_weight > 0 \
                            and self.ranking.acronym_forms_as_typed else 1.0
                        alternatives.append(self._exact_sequence(list(form), scale))
                required.append(_or(alternatives))
                if i == 0 and span == len(units):  # the whole run is the concept: its other forms
                    self._run_forms = [list(form) for form in forms
                                       if tuple(map(fold, form)) != tuple(map(fold, typed))]
                i += span
            else:
                required.append(self._unit(*units[i]))
                i += 1
        # Bonuses never decide what matches, so they only rescore the top candidates:
        # positions are read for them alone.
        syllables = [s for _, syls in units for s in syls]
        bonuses = run_bonuses(syllables, " ".join(w.text for w, _ in units), self.ranking, self.any_terms,
                              self.accented, self._run_forms)
        self.rescore += bonuses.rescore
        self.proximity += bonuses.proximity
        self.readable += bonuses.readable
        return required, []

    # --- single units -----------------------------------------------------
    def _fields(self, name: str | None) -> tuple[str, ...]:
        if name in TEXT_FIELDS:
            return (name,)
        return ("title", "body") if self.any_terms else TEXT_FIELDS

    def _word(self, w: Word) -> wq.Query | None:
        if w.field in KEYWORD_FIELDS:
            return wq.Term(w.field, w.text.strip())
        syllables = analyze(w.text, words=False).syllables
        if not syllables:
            return None
        if w.prefix or w.fuzzy:
            return self._expanded(w, syllables)
        return self._unit(w, syllables)

    def _unit(self, w: Word, syllables: list[str]) -> wq.Query:
        fields = self._fields(w.field)
        if len(syllables) == 1:
            if w.field is None:
                self.words.append((w.text, syllables[0], not has_diacritics(syllables[0])))
            return self._syllable(syllables[0], fields)
        return self._sequence(syllables, fields)

    def _phrase(self, p: Phrase) -> wq.Query | None:
        if p.field in KEYWORD_FIELDS:
            return wq.Term(p.field, p.text.strip())
        syllables = analyze(p.text, words=False).syllables
        if not syllables:
            return None
        fields = self._fields(p.field)
        typed = p.text.rstrip()
        if typed.endswith("*") and not typed[-2:-1].isspace():
            if len(syllables) == 1:  # "mặ*": the word prefix mặ*
                return self._expanded(Word(syllables[0] + "*", p.field, prefix=True), syllables)
            return self._phrase_prefix(syllables, fields)
        if len(syllables) == 1 and has_diacritics(syllables[0]):
            return self._syllable(syllables[0], fields)
        return self._sequence(syllables, fields)

    def _phrase_prefix(self, syllables: list[str], fields) -> wq.Query:
        """``"thanh p*"``: the phrase whose last word starts with what was typed (Elasticsearch's
        match_phrase_prefix), the most frequent completions first."""
        accented = any(has_diacritics(s) for s in syllables)
        suffix = "" if accented else "_fold"
        key_field = "body" + suffix if "body" in fields else fields[0] + suffix
        candidates = prefix_terms(self.lexicon, self.limits, key_field, syllables[-1]) or [syllables[-1]]
        # A phrase per completion: a long phrase gets fewer (bounded work, hostile input included).
        limit = max(1, min(self.limits.max_phrase_expansions, self.expansions_left,
                           self.limits.phrase_expansion_syllables // len(syllables)))
        if len(candidates) >= limit:
            candidates = candidates[:limit]
            self.notices.append(f"“{syllables[-1]}*” có quá nhiều dạng; chỉ dùng {limit} dạng phổ biến nhất.")
        self.expansions_left -= len(candidates)
        return _or([self._sequence(syllables[:-1] + [c], fields) for c in candidates])

    def _syllable(self, s: str, fields) -> wq.Query:
        if has_diacritics(s):
            self._mark(("exact", s))
            return _or([wq.Term(f, s, boost=self.weights[f]) for f in fields])
        # In any-term mode each syllable gets one representation per field:
        # a long question has dozens of syllables, and Whoosh's unions are slow.
        parts = []
        if self.accented:
            self._mark(("exact", s))
            for f in fields:
                parts.append(wq.Term(f, s, boost=self.weights[f]))
                if not self.any_terms:
                    parts.append(wq.Term(f + "_fold", s,
                                         boost=self.weights[f] * self.ranking.accented_query_fold_weight))
        else:
            self._mark(("fold", s))
            for f in fields:
                parts.append(wq.Term(f + "_fold", s, boost=self.weights[f] * self.ranking.fold_weight))
                if not self.any_terms:
                    parts.append(wq.Term(f, s, boost=self.weights[f] * self.ranking.exact_bonus))
        glued = self._glued(s)
        if glued:  # "hanoi": also "ha noi" side by side
            parts.append(self._sequence(glued, fields))
        return _or(parts)

    def _glued(self, s: str) -> list[str] | None:
        """The syllables of a word typed without spaces ("vietnam"), if it is one."""
        if "body_fold" not in self.lexicon.schema:
            return None
        return split_glued(s, lambda piece: self.lexicon.doc_frequency("body_fold", piece))

    def _sequence(self, syllables: list[str], fields) -> wq.Query:
        """Syllables that must stand together: exact if typed with any diacritic, else folded."""
        if len(syllables) == 1:
            return self._syllable(syllables[0], fields)
        if any(has_diacritics(s) for s in syllables):
            self._mark(*[("exact", s) for s in syllables])
            return _or([wq.Phrase(f, syllables, boost=self.weights[f]) for f in fields])
        self._mark(*[("fold", s) for s in syllables])
        parts = []
        for f in fields:
            parts.append(wq.Phrase(f + "_fold", syllables, boost=self.weights[f] * self.ranking.fold_weight))
            parts.append(wq.Phrase(f, syllables, boost=self.weights[f] * self.ranking.exact_bonus))
        return _or(parts)

    def _exact_sequence(self, syllables: list[str], scale: float = 1.0) -> wq.Query:
        """An acronym table form: written with its diacritics, so matched exactly."""
        self._mark(*[("exact", s) for s in syllables])
        if len(syllables) == 1:
            return _or([wq.Term(f, syllables[0], boost=self.weights[f] * scale) for f in TEXT_FIELDS])
        return _or([wq.Phrase(f, syllables, boost=self.weights[f] * scale) for f in TEXT_FIELDS])

    def _idf_sum(self, syllables: list[str]) -> float:
        """What matching these syllables is worth in the body (folded if typed so): a
        multi-syllable form scores the sum of its syllables, a one-word acronym one."""
        return sum(self.lexicon.idf("body", s) if has_diacritics(s) or self.accented
                   else self.lexicon.idf("body_fold", fold(s)) for s in syllables)

    # --- prefix and fuzzy ---------------------------------------------------
    def _expanded(self, w: Word, syllables: list[str]) -> wq.Query | None:
        fields = self._fields(w.field)
        last = syllables[-1]
        folded = not has_diacritics(last)
        suffix = "_fold" if folded else ""
        key_field = "body" + suffix if w.field is None else w.field + suffix
        if w.prefix:
            candidates = prefix_terms(self.lexicon, self.limits, key_field, last)
        else:
            candidates = fuzzy_terms(self.lexicon, self.limits, key_field, last, w.fuzzy)
        if not candidates:
            candidates = [last]
        limit = max(1, min(self.limits.max_expansions, self.expansions_left))
        if len(candidates) >= limit:  # the most frequent forms come first
            candidates = candidates[:limit]
            self.notices.append(f"“{w.text}” có quá nhiều dạng; chỉ dùng {limit} dạng phổ biến nhất.")
        self.expansions_left -= len(candidates)
        weights = blended(self.lexicon, key_field, candidates, None if w.prefix else last,
                          self.ranking.fuzzy_variant_weight)
        alternatives = []
        for term in candidates:
            self._mark(*[("exact", s) for s in syllables[:-1]], ("fold" if folded else "exact", term))
            for f in fields:
                alternatives.append(wq.Term(f + suffix, term, boost=self.weights[f] * weights[term]))
        expansion = _or(alternatives)
        if len(syllables) == 1:
            return expansion
        return wq.And([self._sequence(syllables[:-1], fields), expansion])


def _or(parts: list[wq.Query]) -> wq.Query | None:
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else wq.Or(parts)
