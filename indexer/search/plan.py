"""From a parsed query to a Whoosh query, plus what to highlight.

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
fuzzy terms expand to at most ``MAX_EXPANSIONS`` index terms.
"""

from __future__ import annotations

import heapq
import itertools
import math
from dataclasses import dataclass, field
from datetime import datetime

from whoosh import query as wq

from ..text.acronyms import AcronymTable
from ..text.analysis import analyze
from .lexicon import Lexicon
from .highlight import Highlighter
from ..text.normalize import fold, has_diacritics
from .rescore import AdjacentPairs, LeadTerms
from .parser import KEYWORD_FIELDS, TEXT_FIELDS, And, DateRange, Node, Not, Or, Phrase, Word
from ..text.syllables import split_glued

__all__ = ["Plan", "QueryBuilder", "FIELD_WEIGHTS"]

FIELD_WEIGHTS = {"title": 3.0, "body": 1.0, "author": 0.5}
FOLD_WEIGHT = 0.8       # a folded match, relative to an exact one
EXACT_BONUS = 0.3       # extra when an unaccented query word is literally in the text
# In a query typed with diacritics, an unaccented word ("Thanh", "ban") is
# most likely meant as written: exact matches count fully, folded ones little.
ACCENTED_QUERY_FOLD_WEIGHT = 0.2
PHRASE_WEIGHT = 1.0     # all consecutive query words next to each other
PAIR_WEIGHT = 1.5     # each pair of consecutive query words next to each other (tuned on dev)
WORD_WEIGHT = 0.5       # a pyvi compound of the query found as a word
MAX_EXPANSIONS = 50     # terms a prefix or fuzzy word may expand to
MAX_PHRASE_EXPANSIONS = 20  # completions of a phrase's last word ("thanh p*"): a phrase each
PHRASE_EXPANSION_SYLLABLES = 120  # ... and at most this many syllables in all those phrases
FUZZY_VARIANT_WEIGHT = 0.8  # a fuzzy word's other forms, relative to the form typed
MAX_QUERY_EXPANSIONS = 100  # ... and all of a query's prefix/fuzzy words together
MAX_SCAN = 5000         # index terms a prefix expansion may look at
MAX_WORDS = 32          # words beyond this are ignored (all-terms mode)
MAX_WORDS_ANY = 64      # any-term mode reads long questions
# Any-term mode on Whoosh's matchers ("common terms" in Elasticsearch's sense;
# not needed by the vectorised path, which scores every word exhaustively): a
# syllable in more than this share of documents only adds to the score of
# documents found by rarer words; it does not pull in documents by itself.
COMMON_RATIO = 0.10
COMMON_MIN_DOCS = 1000  # below this many documents every word counts
LEAD_WEIGHT = 0.5      # query syllables in the opening of the body (the lead): see proximity.LeadTerms
LEAD_SYLLABLES = 100    # (both tuned on vietnews-title and vicov19qa dev)
MAX_BONUS_PHRASE = 6    # whole-run phrase bonus for runs up to this many syllables
MAX_BONUS_PAIRS = 64    # adjacent-pair bonuses for this many syllables of a run
MAX_ANY_CLAUSES = 6     # any-term mode: words that may bring in documents by themselves
MIN_ANY_CLAUSES = 5     # ... and at least this many, the rarest of the common ones if need be


@dataclass
class Plan:
    """A compiled query: what matches, what filters, what to mark."""

    query: wq.Query | None
    filter: wq.Query | None
    highlighter: Highlighter
    notices: list[str] = field(default_factory=list)
    # (text as typed, syllable, folded?) of each plain positive word, for did-you-mean.
    words: list[tuple[str, str, bool]] = field(default_factory=list)
    clauses: int = 0  # number of top-level required clauses (any-term fallback needs >= 2)
    # Queries that only rescore the top candidates (bonuses, common words): see Index.search.
    rescore: list[wq.Query | AdjacentPairs] = field(default_factory=list)


class QueryBuilder:
    def __init__(self, lexicon: Lexicon, acronyms: AcronymTable, any_terms: bool = False, accented: bool = False,
                 prune: bool = True):
        self.lexicon = lexicon  # term statistics, folded fields included (folded.py)
        # Any-term mode: let only the rarest words pick candidates (Whoosh's matchers
        # cost per posting); False when every word can be scored over every document.
        self.prune = prune
        self.accented = accented  # the reader typed diacritics somewhere in the query
        self.acronyms = acronyms
        self.any_terms = any_terms
        self.highlighter = Highlighter(weigh=self._highlight_weight)
        self.notices: list[str] = []
        self.words: list[tuple[str, str, bool]] = []
        self.word_budget = MAX_WORDS_ANY if any_terms else MAX_WORDS
        self.rescore: list[wq.Query | AdjacentPairs] = []
        self.expansions_left = MAX_QUERY_EXPANSIONS

    def _highlight_weight(self, matcher: tuple[str, str]) -> float:
        """What a marked syllable says about a passage: log(N/df) in the body, as matched
        (Whoosh's IDF less its floor of 1, so that a word in most articles counts little)."""
        kind, syllable = matcher
        return max(0.1, self.lexicon.idf("body" if kind == "exact" else "body_fold", syllable) - 1)

    # --- entry point ------------------------------------------------------
    def build(self, node: Node | None, date_from: datetime | None = None,
              date_to: datetime | None = None) -> Plan:
        filters = []
        if date_from or date_to:
            filters.append(wq.DateRange("date", date_from, date_to))
        clauses = 0
        query = None
        if node is not None:
            children = node.children if isinstance(node, And) else [node]
            clauses = sum(1 for c in children if not isinstance(c, (Not, DateRange)))
            query, dates = self._and(children, top=True)
            filters += dates
        flt = None if not filters else (filters[0] if len(filters) == 1 else wq.And(filters))
        return Plan(query, flt, self.highlighter, self.notices, self.words, clauses, self.rescore)

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
                self.rescore += self._phrase_bonus(child.text)
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
        saved = self.highlighter
        self.highlighter = Highlighter()  # excluded words are not marked
        try:
            return self._node(node)
        finally:
            self.highlighter = saved

    # --- runs of plain words ----------------------------------------------
    def _run(self, words: list[Word]) -> tuple[list[wq.Query], list[wq.Query]]:
        """Required clauses and ranking bonuses for consecutive plain words."""
        units = []  # (word, syllables)
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
                limit = MAX_WORDS_ANY if self.any_terms else MAX_WORDS
                self.notices.append(f"Truy vấn quá dài: chỉ dùng {limit} từ đầu tiên.")
                break
            self.word_budget -= 1
            units.append((w, syllables))
        required: list[wq.Query] = []
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
                saved, self.highlighter = self.highlighter, Highlighter()
                own = [self._unit(units[k][0], units[k][1]) for k in range(i, i + span)]
                self.highlighter = saved
                # Mark the typed words where they stand together, not each one anywhere.
                self.highlighter.add(*[("exact" if has_diacritics(s) or self.accented else "fold", s)
                                       for s in typed])
                alternatives = [own[0] if span == 1 else wq.And(own)]
                typed_weight = self._idf_sum(typed)
                for form in forms:
                    if tuple(map(fold, form)) == tuple(map(fold, typed)):
                        continue
                    if self.any_terms and len(form) > 1:
                        # A phrase per question word is too slow: the expansion rescores.
                        self.highlighter.add(*[("exact", s) for s in form])
                        self.rescore += [self.lexicon.term(f, s, boost=FIELD_WEIGHTS[f] * 0.5) for s in form for f in ("title", "body")]
                    else:
                        # One concept, however it is written: "UBND" in a title counts as
                        # much as "Ủy ban nhân dân" there, not as one word against four.
                        form_weight = self._idf_sum(list(form))
                        scale = typed_weight / form_weight if typed_weight > 0 and form_weight > 0 else 1.0
                        alternatives.append(self._exact_sequence(list(form), scale))
                required.append(_or(alternatives))
                i += span
            else:
                required.append(self._unit(*units[i]))
                i += 1
        boosts = self._run_boosts(units)
        if self.any_terms and self.prune:
            # The rarest words find the candidates; common words, the words beyond
            # MAX_ANY_CLAUSES and compounds only rescore the top candidates (see
            # Index.search).  Scoring them in the Whoosh query would cost a skip
            # per matched document in every one of their posting lists.
            later = [q for q in required if self._is_common(q)]
            if len(later) == len(required):
                later = []
            required = [q for q in required if not any(q is c for c in later)]
            if len(required) < MIN_ANY_CLAUSES and later:
                # One rare word alone picks a poor candidate window: the rarest of
                # the common words join it ("Hàn Quốc có nữ ngoại trưởng").
                later.sort(key=self._doc_frequency)
                promoted = later[:MIN_ANY_CLAUSES - len(required)]
                required += promoted
                later = later[len(promoted):]
            if len(required) > MAX_ANY_CLAUSES:
                ranked = sorted(required, key=self._doc_frequency)
                required, rest = ranked[:MAX_ANY_CLAUSES], ranked[MAX_ANY_CLAUSES:]
                later += rest
            self.rescore += later
        # Bonuses never decide what matches, so they only rescore the top candidates:
        # scoring them inside the Whoosh query costs position reads for every match.
        self.rescore += boosts
        return required, []

    def _doc_frequency(self, q: wq.Query) -> int:
        terms = [t for t in (q.subqueries if isinstance(q, wq.Or) else [q]) if isinstance(t, wq.Term)]
        return max((self.lexicon.doc_frequency(t.fieldname, t.text) for t in terms), default=0)

    def _is_common(self, q: wq.Query) -> bool:
        """True for a single-syllable clause whose syllable is in very many documents."""
        total = self.lexicon.doc_count_all()
        if total < COMMON_MIN_DOCS:
            return False
        terms = [t for t in (q.subqueries if isinstance(q, wq.Or) else [q]) if isinstance(t, wq.Term)]
        body = [t for t in terms if t.fieldname in ("body", "body_fold")]
        if not body or len(terms) != len(q.subqueries if isinstance(q, wq.Or) else [q]):
            return False
        return self.lexicon.doc_frequency(body[0].fieldname, body[0].text) > COMMON_RATIO * total

    def _run_boosts(self, units) -> list[wq.Query | AdjacentPairs]:
        syllables = [s for _, syls in units for s in syls]
        if len(syllables) < 2:
            return []
        boosts = []
        folded = [fold(s) for s in syllables]
        # Positions of the query syllables are read on the candidates only
        # (proximity.py): the whole run as a phrase for a few words, every
        # adjacent pair for a headline or a question.
        for f in ("title", "body"):
            w = FIELD_WEIGHTS[f]
            # Two syllables: the pair is the phrase.
            boosts.append(AdjacentPairs(f + "_fold", folded[:MAX_BONUS_PAIRS],
                                        boost=w * PAIR_WEIGHT if len(syllables) > 2 else 0.0,
                                        phrase_boost=w * PHRASE_WEIGHT if len(syllables) <= MAX_BONUS_PHRASE else 0.0))
        if LEAD_WEIGHT and self.any_terms:  # tuned for headlines and questions (any-word mode)
            boosts.append(LeadTerms("body_fold", list(dict.fromkeys(folded)), LEAD_SYLLABLES, LEAD_WEIGHT))
        if any(has_diacritics(s) for s in syllables):
            text = " ".join(w.text for w, _ in units)
            for compound in dict.fromkeys(analyze(text).words):
                for f in ("title", "body"):
                    boosts.append(self.lexicon.term(f + "_word", compound, boost=FIELD_WEIGHTS[f] * WORD_WEIGHT))
        return boosts

    def _phrase_bonus(self, text: str) -> list[AdjacentPairs]:
        syllables = analyze(text, words=False).syllables
        if len(syllables) < 2:
            return []
        if any(has_diacritics(s) for s in syllables):
            suffix = ""
        else:
            suffix, syllables = "_fold", [fold(s) for s in syllables]
        return [AdjacentPairs(f + suffix, syllables, boost=0.0, phrase_boost=FIELD_WEIGHTS[f] * PHRASE_WEIGHT)
                for f in ("title", "body")]

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
        key_field = ("body" if accented else "body_fold") if "body" in fields else fields[0] + ("" if accented else "_fold")
        candidates = self._prefix_terms(key_field, syllables[-1]) or [syllables[-1]]
        # A phrase per completion: a long phrase gets fewer (bounded work, hostile input included).
        limit = max(1, min(MAX_PHRASE_EXPANSIONS, self.expansions_left, PHRASE_EXPANSION_SYLLABLES // len(syllables)))
        if len(candidates) >= limit:
            candidates = candidates[:limit]
            self.notices.append(f"“{syllables[-1]}*” có quá nhiều dạng; chỉ dùng {limit} dạng phổ biến nhất.")
        self.expansions_left -= len(candidates)
        return _or([self._sequence(syllables[:-1] + [c], fields) for c in candidates])

    def _syllable(self, s: str, fields) -> wq.Query:
        if has_diacritics(s):
            self.highlighter.add(("exact", s))
            return _or([self.lexicon.term(f, s, boost=FIELD_WEIGHTS[f]) for f in fields])
        # In any-term mode each syllable gets one representation per field:
        # a long question has dozens of syllables, and Whoosh's unions are slow.
        parts = []
        if self.accented:
            self.highlighter.add(("exact", s))
            for f in fields:
                parts.append(self.lexicon.term(f, s, boost=FIELD_WEIGHTS[f]))
                if not self.any_terms:
                    parts.append(self.lexicon.term(f + "_fold", s, boost=FIELD_WEIGHTS[f] * ACCENTED_QUERY_FOLD_WEIGHT))
        else:
            self.highlighter.add(("fold", s))
            for f in fields:
                parts.append(self.lexicon.term(f + "_fold", s, boost=FIELD_WEIGHTS[f] * FOLD_WEIGHT))
                if not self.any_terms:
                    parts.append(self.lexicon.term(f, s, boost=FIELD_WEIGHTS[f] * EXACT_BONUS))
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
            self.highlighter.add(*[("exact", s) for s in syllables])
            return _or([self.lexicon.phrase(f, syllables, boost=FIELD_WEIGHTS[f]) for f in fields])
        self.highlighter.add(*[("fold", s) for s in syllables])
        parts = []
        for f in fields:
            parts.append(self.lexicon.phrase(f + "_fold", syllables, boost=FIELD_WEIGHTS[f] * FOLD_WEIGHT))
            parts.append(self.lexicon.phrase(f, syllables, boost=FIELD_WEIGHTS[f] * EXACT_BONUS))
        return _or(parts)

    def _exact_sequence(self, syllables: list[str], scale: float = 1.0) -> wq.Query:
        """An acronym table form: written with its diacritics, so matched exactly."""
        self.highlighter.add(*[("exact", s) for s in syllables])
        if len(syllables) == 1:
            return _or([self.lexicon.term(f, syllables[0], boost=FIELD_WEIGHTS[f] * scale) for f in TEXT_FIELDS])
        return _or([self.lexicon.phrase(f, syllables, boost=FIELD_WEIGHTS[f] * scale) for f in TEXT_FIELDS])

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
            candidates = self._prefix_terms(key_field, last)
        else:
            candidates = self._fuzzy_terms(key_field, last, w.fuzzy)
        if not candidates:
            candidates = [last]
        limit = max(1, min(MAX_EXPANSIONS, self.expansions_left))
        if len(candidates) >= limit:  # the most frequent forms come first
            candidates = candidates[:limit]
            self.notices.append(f"“{w.text}” có quá nhiều dạng; chỉ dùng {limit} dạng phổ biến nhất.")
        self.expansions_left -= len(candidates)
        weights = self._blended(key_field, candidates, typed=None if w.prefix else last)
        alternatives = []
        for term in candidates:
            self.highlighter.add(*[("exact", s) for s in syllables[:-1]], ("fold" if folded else "exact", term))
            for f in fields:
                alternatives.append(self.lexicon.term(f + suffix, term, boost=FIELD_WEIGHTS[f] * weights[term]))
        expansion = _or(alternatives)
        if len(syllables) == 1:
            return expansion
        return wq.And([self._sequence(syllables[:-1], fields), expansion])

    def _blended(self, fieldname: str, terms: list[str], typed: str | None) -> dict[str, float]:
        """Boosts giving every expansion the IDF of the most frequent one.

        Unblended, the rarest expansion of "học~" (a typo, "hóc") has the highest
        IDF and ranks first: Elasticsearch blends term frequencies for the same
        reason (``top_terms_blended_freqs``).  A fuzzy word's own form stays ahead
        of its variants.
        """
        total = self.lexicon.doc_count_all() or 1
        idf = {t: math.log(total / (self.lexicon.doc_frequency(fieldname, t) + 1)) + 1 for t in terms}
        common = min(idf.values())
        return {t: (common / idf[t] if idf[t] > 0 else 1.0) * (1.0 if typed in (None, t) else FUZZY_VARIANT_WEIGHT)
                for t in terms}

    def _prefix_terms(self, fieldname: str, prefix: str) -> list[str]:
        if fieldname not in self.lexicon.schema:
            return []
        found = self.lexicon.prefix_frequencies(fieldname, prefix, MAX_SCAN)
        return [t for _, t in heapq.nlargest(MAX_EXPANSIONS, found)]

    def _fuzzy_terms(self, fieldname: str, text: str, maxdist: int) -> list[str]:
        if fieldname not in self.lexicon.schema or len(text) < 3:
            return [text]
        found = []
        for i, term in enumerate(self.lexicon.terms_within(fieldname, text, maxdist, prefix=1)):
            if i >= MAX_SCAN:
                break
            found.append((self.lexicon.doc_frequency(fieldname, term), term))
        return [t for _, t in heapq.nlargest(MAX_EXPANSIONS, found)]


def _or(parts: list[wq.Query]) -> wq.Query | None:
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else wq.Or(parts)
