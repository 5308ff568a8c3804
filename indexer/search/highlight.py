"""Snippets with the query's words marked, cut from the text as written.

Whoosh's own highlighter re-tokenises stored text and needs the analyser to
report character offsets; ours does (see ``analysis.py``), but a match here
is richer than one term: a folded syllable, an exact one, or a sequence of
them (a phrase or an acronym's expansion).  So this module finds the matched
character spans itself and hands them to Whoosh's ``ContextFragmenter`` and
an HTML formatter: the text between marks is HTML-escaped by Whoosh, and
every mark covers exactly the characters the author wrote.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from html import escape
from math import log

from whoosh.highlight import ContextFragmenter, Fragment, FragmentScorer, HtmlFormatter

from ..text.analysis import Analysis, analyze
from ..text.normalize import INVISIBLE, fold

__all__ = ["Highlighter", "Matcher", "highlighter_for"]

MINOR_MARK_SCALE = 0.1  # a phrase's syllable standing alone, in choosing a snippet's passage

# A syllable matcher: ("exact", canonical) or ("fold", folded).
Matcher = tuple[str, str]
_SPACE_RUN = re.compile(r"\s+")
# Never analyse more than this much of one text to build a snippet.
MAX_HIGHLIGHT_CHARS = 200_000
# Texts shorter than this are analysed whole; longer ones only around likely matches.
WINDOW_MIN_CHARS = 1500
MAX_CLASS_SEARCHES = 6   # up to this many words are searched for in the text as written
WINDOW_PASSAGES = 2      # ... and when likely matches are everywhere, the best this many passages
_UNUSUAL = re.compile("[%s\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]" % INVISIBLE)
_SPACE = re.compile(r"\s")
_WORD = re.compile(r"[^\W_]")  # a letter or digit: part of some syllable


class _Token:
    """What Whoosh's fragmenter and formatter read of a token; ``whoosh.analysis.Token``
    costs a keyword-argument dictionary per syllable, and an article has hundreds.

    A mark's ``boost`` is what it is worth to a passage and ``patterns`` the
    query words it covers (see :class:`_PassageScorer`)."""

    __slots__ = ("text", "startchar", "endchar", "matched", "boost", "patterns")

    def __init__(self, text: str, startchar: int, endchar: int, matched: bool, boost: float = 1.0,
                 patterns: frozenset = frozenset()):
        self.text, self.startchar, self.endchar, self.matched = text, startchar, endchar, matched
        self.boost, self.patterns = boost, patterns

    def copy(self) -> _Token:
        return _Token(self.text, self.startchar, self.endchar, self.matched, self.boost, self.patterns)


@dataclass
class _Mark:
    """One marked span: the query words found in it and their occurrences' worth."""

    start: int
    end: int
    weight: float
    occurrences: int
    patterns: set


class _PassageScorer(FragmentScorer):
    """Ranks passages as a reader would: rare words over common ones, query words
    side by side over the same words scattered, more of the query over less, and
    a word said again adds less each time.

    Whoosh's BasicFragmentScorer counts matches times distinct words, so for "da
    nang" a passage saying "đã" eight times beats one saying "Đà Nẵng".  Here a
    mark is worth the IDF of its words times the number of query words standing
    together in it; a passage adds its marks best first, the i-th at 1/i of its
    worth, times the number of query words it covers (``minor`` patterns, a phrase's
    syllables standing alone, do not count as covering anything).
    """

    def __init__(self, minor: frozenset = frozenset()):
        self.minor = minor

    def __call__(self, f: Fragment) -> float:
        covered: set = set()
        for t in f.matches:
            covered |= t.patterns - self.minor
        worth = sorted((t.boost for t in f.matches), reverse=True)
        return sum(w / i for i, w in enumerate(worth, 1)) * max(1, len(covered))


class _MarkFormatter(HtmlFormatter):
    """``<mark>word</mark>``, without Whoosh's per-term classes."""

    def __init__(self):
        super().__init__(tagname="mark", between=" … ")

    def _text(self, text):
        return super()._text(_SPACE_RUN.sub(" ", text))

    def format_token(self, text, token, replace=False):
        return "<mark>%s</mark>" % self._text(text[token.startchar:token.endchar])


@dataclass
class Highlighter:
    """Marks every occurrence of a set of syllable sequences.

    ``weigh`` tells what a matched syllable says about a passage (the query
    builder gives its IDF); without it every syllable counts 1.
    """

    patterns: set[tuple[Matcher, ...]] = field(default_factory=set)
    weigh: Callable[[Matcher], float] | None = field(default=None, compare=False, repr=False)
    _weights: dict = field(default_factory=dict, compare=False, repr=False)
    _scales: dict = field(default_factory=dict, compare=False, repr=False)

    def add(self, *matchers: Matcher, scale: float = 1.0) -> None:
        """Mark ``matchers`` standing together; ``scale`` < 1: marked, but worth less when a
        snippet's passage is chosen (a syllable of the query's phrase standing alone)."""
        if matchers:
            pattern = tuple(matchers)
            self._scales[pattern] = max(scale, self._scales.get(pattern, 0.0)) if pattern in self.patterns else scale
            self.patterns.add(pattern)

    def _weight(self, pattern: tuple[Matcher, ...]) -> float:
        w = self._weights.get(pattern)
        if w is None:
            w = sum(self.weigh(m) for m in pattern) if self.weigh else float(len(pattern))
            w = self._weights[pattern] = w * self._scales.get(pattern, 1.0)
        return w

    def _marks(self, analysis: Analysis) -> list[_Mark]:
        """The merged spans of all matches, in order, with what they are worth."""
        if not self.patterns:
            return []
        exact_first: dict[str, list[tuple[Matcher, ...]]] = {}
        fold_first: dict[str, list[tuple[Matcher, ...]]] = {}
        for p in self.patterns:
            kind, value = p[0]
            (exact_first if kind == "exact" else fold_first).setdefault(value, []).append(p)
        syl = analysis.syllables
        folded = fold("\x00".join(syl)).split("\x00") if syl else []  # one C call, not one per syllable
        n = len(syl)
        found = []
        # Few syllables start a match: find those in one comprehension, check them in full.
        for i in [i for i, (e, f) in enumerate(zip(syl, folded)) if e in exact_first or f in fold_first]:
            for p in exact_first.get(syl[i], []) + fold_first.get(folded[i], []):
                if i + len(p) <= n and all(
                    (syl if kind == "exact" else folded)[i + k] == value
                    for k, (kind, value) in enumerate(p)
                ):
                    found.append((analysis.spans[i][0], analysis.spans[i + len(p) - 1][1], p))
        found.sort(key=lambda f: (f[0], f[1]))
        merged: list[_Mark] = []
        for start, end, p in found:
            if merged and start <= merged[-1].end:
                last = merged[-1]
                last.end = max(end, last.end)
                if p not in last.patterns:  # overlapping patterns (a phrase and its words) each count
                    last.weight += self._weight(p)
                    last.occurrences += 1
                    last.patterns.add(p)
            else:
                merged.append(_Mark(start, end, self._weight(p), 1, {p}))
        return merged

    def _analysis_near(self, text: str, near: int) -> Analysis:
        """The analysis of ``text`` where it can matter: within ``near`` characters of
        a possible match.

        Analysing a 3,000-character article costs milliseconds; a search shows ten.
        Every match starts with a syllable whose folded form begins a pattern, so a
        regular expression over the folded text finds a superset of the match
        starts; the analysis of whitespace-delimited windows around them equals the
        whole text's analysis there (syllables never cross whitespace).  Texts with
        combining marks or invisible characters (whose folding changes length) are
        analysed whole.
        """
        text = text[:MAX_HIGHLIGHT_CHARS]
        if len(text) < WINDOW_MIN_CHARS or _UNUSUAL.search(text) or _letter_classes()[1].search(text):
            return analyze(text, words=False)
        firsts = sorted({fold(p[0][1]) for p in self.patterns}, key=len, reverse=True)
        longest = max(len(p) for p in self.patterns)
        margin = near + 12 * longest + 20
        found = _likely_starts(text, firsts)
        windows: list[list[int]] = []
        for start, key in found:
            lo, hi = max(0, start - margin), min(len(text), start + len(key) + margin)
            if windows and lo <= windows[-1][1]:
                windows[-1][1] = hi
            else:
                windows.append([lo, hi])
        if sum(hi - lo for lo, hi in windows) > len(text) * 0.6:
            # Common words everywhere: analyse only the passages that look best the
            # way _PassageScorer will judge them.
            slack = 12 * longest + 20  # room for a match that starts at the edge
            worth: dict[str, float] = {}
            for p in self.patterns:
                key = fold(p[0][1])
                worth[key] = max(worth.get(key, 0.0), self._weight(p))
            windows = [[max(0, a - near // 3 - slack), min(len(text), a + near + slack)]
                       for a in _densest(found, worth, near, WINDOW_PASSAGES)]
        out = Analysis()
        done = 0  # the text before this is analysed
        for lo, hi in windows:
            while lo > done and not _SPACE.match(text, lo - 1):  # widen to whitespace
                lo -= 1
            while hi < len(text) and not _SPACE.match(text, hi):
                hi += 1
            lo = max(lo, done)
            if lo >= hi:
                continue
            done = hi
            part = analyze(text[lo:hi], words=False)
            out.syllables += part.syllables
            out.spans += [(a + lo, b + lo) for a, b in part.spans]
        return out

    def _tokens(self, text: str, near: int | None = None) -> tuple[list[_Token], int]:
        """Tokens for Whoosh's fragmenter; with ``near``, only those within that many
        characters of a match (the fragmenter never looks further)."""
        if near is None or not self.patterns:
            analysis = analyze(text[:MAX_HIGHLIGHT_CHARS], words=False)
        else:
            analysis = self._analysis_near(text, near)
        marks: list[_Mark] = []
        for mark in self._marks(analysis):
            # "<mark>Mặt trận</mark>", not "<mark>Mặt</mark> <mark>trận</mark>"
            if marks and mark.start - marks[-1].end <= 3 and not text[marks[-1].end:mark.start].strip():
                last = marks[-1]
                last.end, last.weight = mark.end, last.weight + mark.weight
                last.occurrences += mark.occurrences
                last.patterns |= mark.patterns
            else:
                marks.append(mark)
        tokens: list[_Token] = []
        m = 0
        syllables, spans = analysis.syllables, analysis.spans
        indices: Sequence[int]
        if near is None:
            indices = range(len(syllables))
        else:  # only syllables within ``near`` characters of a mark
            starts = [a for a, _ in spans]
            ranges: list[list[int]] = []
            for mark in marks:
                start, end = mark.start, mark.end
                lo, hi = bisect_left(starts, start - near), bisect_right(starts, end + near)
                if ranges and lo <= ranges[-1][1]:
                    ranges[-1][1] = max(hi, ranges[-1][1])
                else:
                    ranges.append([lo, hi])
            indices = [i for lo, hi in ranges for i in range(lo, hi)]
        for i in indices:
            syllable, (start, end) = syllables[i], spans[i]
            while m < len(marks) and marks[m].end <= start:
                m += 1
            if m < len(marks) and marks[m].start <= start:
                mark = marks[m]
                if tokens and tokens[-1].matched and tokens[-1].endchar == mark.end:
                    continue  # inside a mark already emitted
                # Query words side by side are worth more than the same words apart.
                tokens.append(_Token(syllable, mark.start, mark.end, True, mark.weight * mark.occurrences,
                                     frozenset(mark.patterns)))
            else:
                tokens.append(_Token(syllable, start, end, False))
        return tokens, len(marks)

    def mark(self, text: str) -> str:
        """The whole of ``text``, escaped, with matches in ``<mark>``."""
        tokens, count = self._tokens(text)
        if not count:
            return escape(text, quote=False)
        out, index = [], 0
        for t in tokens:
            if t.matched:
                out.append(escape(text[index:t.startchar], quote=False))
                out.append("<mark>%s</mark>" % escape(text[t.startchar:t.endchar], quote=False))
                index = t.endchar
        out.append(escape(text[index:], quote=False))
        return "".join(out)

    def snippet(self, text: str, maxchars: int = 240, fragments: int = 2) -> str:
        """Best passages of ``text`` around the matches, or its opening if none."""
        tokens, count = self._tokens(text, near=maxchars)
        if not count:
            return _opening(text, maxchars)
        fragmenter = ContextFragmenter(maxchars=maxchars, surround=max(20, maxchars // 3), charlimit=None)
        scorer = _PassageScorer(frozenset(p for p, scale in self._scales.items() if scale < 1))
        # ContextFragmenter yields an empty fragment spanning from the text's start when a
        # fragment's countdown lands exactly on 0 (whoosh 2.7.5); such a "passage" has no match.
        found = [f for run in _runs(text, tokens) for f in fragmenter.fragment_tokens(text, run) if f.matches]
        if scorer.minor:  # a passage with the query's words together, if any, before scattered syllables
            major = [f for f in found if any(t.patterns - scorer.minor for t in f.matches)]
            found = major or found
        frags = sorted(found, key=scorer, reverse=True)[:fragments]
        frags.sort(key=lambda f: f.startchar)
        merged: list[Fragment] = []
        for f in frags:  # passages that (nearly) touch read better as one
            if merged and f.startchar - merged[-1].endchar < 40:
                prev = merged.pop()
                f = Fragment(text, prev.matches + [m for m in f.matches if m.startchar >= prev.endchar],
                             prev.startchar, max(prev.endchar, f.endchar))
            merged.append(f)
        frags = merged
        formatter = _MarkFormatter()
        parts = []
        for f in frags:
            html = formatter.format_fragment(f).strip()
            if f.startchar > 0:
                html = "… " + html
            if f.endchar < len(text):
                html += " …"
            parts.append(html)
        return " ".join(parts).replace("… …", "…")


@lru_cache(maxsize=1)
def _letter_classes() -> tuple[dict[str, str], re.Pattern]:
    """For each lower-case folded character, a regex class of every character that
    folds and lower-cases to it; and a pattern for characters whose folding or
    lower-casing changes the text's length (such texts are analysed whole)."""
    groups: dict[str, list[str]] = {}
    unsafe = []
    for cp in range(0x10000):
        if 0xD800 <= cp < 0xE000:
            continue
        ch = chr(cp)
        target = fold(ch).lower()
        if len(target) != 1:
            unsafe.append(ch)
        elif target != ch:
            groups.setdefault(target, []).append(ch)
    classes = {t: "[%s%s]" % (re.escape(t), "".join(map(re.escape, chs))) for t, chs in groups.items()}
    return classes, re.compile("[%s]" % "".join(map(re.escape, unsafe)))


def _likely_starts(text: str, firsts: list[str]) -> list[tuple[int, str]]:
    """(offset, folded lower-case form) of each whole-word occurrence in ``text`` of one
    of ``firsts`` (folded, lower-case, longest first), accents and case ignored.

    Each letter becomes the class of everything that folds to it ("a" ->
    [aàáảãạăâ…AÀ…]), so the text is searched as written instead of being folded
    and lower-cased first (two passes over every shown article).
    """
    if len(firsts) > MAX_CLASS_SEARCHES:  # a long question: one pass over the folded text
        folded = fold(text).lower()
        starts = re.compile(r"(?<![^\W_])(?:%s)(?![^\W_])" % "|".join(map(re.escape, firsts)))
        return [(m.start(), m.group(0)) for m in starts.finditer(folded)]
    # Whole words cannot overlap, so one search per word gives what the alternation would.
    found = [(m.start(), first) for first in firsts for m in _word_pattern(first).finditer(text)]
    found.sort()
    return found


@lru_cache(maxsize=4096)
def _word_pattern(first: str) -> re.Pattern:
    """``first`` as a whole word, any accents, any case (compiled once: the classes are long)."""
    classes = _letter_classes()[0]
    return re.compile(r"(?<![^\W_])%s(?![^\W_])" % "".join(classes.get(c, re.escape(c)) for c in first))


def _runs(text: str, tokens: list[_Token]) -> list[list[_Token]]:
    """``tokens`` split where text between two of them was left out (it holds a word).

    The fragmenter measures a passage by the tokens it is given, so across such a
    gap it would make one passage of two distant ones and everything between.
    """
    runs: list[list[_Token]] = []
    run: list[_Token] = []
    end = 0
    for t in tokens:
        if run and t.startchar - end > 1 and _WORD.search(text, end, t.startchar):
            runs.append(run)
            run = []
        run.append(t)
        end = t.endchar
    if run:
        runs.append(run)
    return runs


def _densest(found: list[tuple[int, str]], worth: dict[str, float], width: int, k: int) -> list[int]:
    """Starts of the ``k`` best non-overlapping passages of ``width`` characters, in text order.

    ``found`` is (offset, word) of each likely match, in order, and ``worth`` what
    each word is worth.  As _PassageScorer will judge them, roughly: each word
    found counts its worth, more with a logarithm of its repeats and double if
    it once stands right beside another match; the sum times the distinct words.
    """
    beside = [bool(i and found[i - 1][0] + len(found[i - 1][1]) + 2 >= start) for i, (start, _) in enumerate(found)]
    for i in range(len(found) - 1):
        beside[i] = beside[i] or beside[i + 1]
    scored = []
    j = 0
    counts: dict[str, int] = {}
    together: dict[str, int] = {}
    for i, (start, _) in enumerate(found):
        while j < len(found) and found[j][0] < start + width:
            key = found[j][1]
            counts[key] = counts.get(key, 0) + 1
            together[key] = together.get(key, 0) + beside[j]
            j += 1
        value = sum(worth.get(key, 1.0) * (1 + log(n)) * (2 if together[key] else 1) for key, n in counts.items())
        scored.append((value * len(counts), -start))
        key = found[i][1]
        counts[key] -= 1
        together[key] -= beside[i]
        if not counts[key]:
            del counts[key], together[key]
    picked: list[int] = []
    for _, neg in sorted(scored, reverse=True):
        start = -neg
        if all(abs(start - p) >= width for p in picked):
            picked.append(start)
            if len(picked) == k:
                break
    return sorted(picked)


def _opening(text: str, maxchars: int) -> str:
    text = " ".join(text.split())
    if len(text) <= maxchars:
        return escape(text, quote=False)
    cut = text.rfind(" ", 0, maxchars)
    return escape(text[: cut if cut > maxchars // 2 else maxchars], quote=False) + " …"


def highlighter_for(lexicon, marks, minor_marks=()) -> Highlighter:
    """A highlighter of a plan's marks, each syllable weighed by ``lexicon`` (a ``Lexicon``)."""

    def weigh(matcher: Matcher) -> float:
        """What a marked syllable says about a passage: log(N/df) in the body, as matched
        (Whoosh's IDF less its floor of 1, so that a word in most articles counts little)."""
        kind, syllable = matcher
        return max(0.1, lexicon.idf("body" if kind == "exact" else "body_fold", syllable) - 1)

    highlighter = Highlighter(weigh=weigh)
    for mark in marks:
        highlighter.add(*mark)
    for mark in minor_marks:
        highlighter.add(*mark, scale=MINOR_MARK_SCALE)
    return highlighter
