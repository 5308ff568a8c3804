"""Did-you-mean: corrections of rare words, by the words around them."""

from __future__ import annotations

import re
import time

import numpy as np

from ..config import Suggest
from ..text.normalize import fold
from ..text.syllables import is_well_spelled
from .lexicon import Lexicon
from .rescore import _common_keys

__all__ = ["did_you_mean"]

PAIR_FIELDS = ("title", "body")
PAIR_DOCS = 2000   # documents read per segment to count a pair: enough to tell "held" from "not"
CONTEXT_CANDIDATES = 12  # the most frequent close words whose pairs with the neighbours are counted
CONTEXT_RATIO = 4  # a fix the neighbours confirm this many times less often is ruled out ("muốn kiện", not "kền")

EXCLUDED = re.compile(r"(?:-|(?:^|\s)(?:NOT|KHÔNG)\s+)$")  # what comes right before an excluded word
Word = tuple[str, bool]  # a syllable as the index holds it, and whether it was typed without marks


def pair_count(lexicon: Lexicon, first: Word, second: Word) -> int:
    """How often ``first`` stands right before ``second`` in titles and bodies (a lower bound
    past PAIR_DOCS documents a segment).  A folded syllable stands for all its written forms."""
    total = 0
    for base in PAIR_FIELDS:
        for seg in lexicon.segments:
            arrays = seg.arrays
            ids = [arrays.term_ids(base + "_fold" if folded else base, text) for text, folded in (first, second)]
            if not ids[0] or not ids[1]:
                continue
            postings = [arrays.postings(i) for i in ids]
            common = np.intersect1d(postings[0].per_doc()[0], postings[1].per_doc()[0], assume_unique=True)
            if not len(common):
                continue
            common = common[:PAIR_DOCS]
            keys = []
            for p in postings:
                owner, pos = p.positions(np.flatnonzero(np.isin(p.docs, common)))
                keys.append(np.unique((p.docs[owner].astype(np.int64) << 32) | pos))
            total += len(_common_keys(keys[0] + 1, keys[1]))
    return total


def typo_preferences(lexicon, typed: str, folded: bool, before: str | None, after: str | None):
    """What makes a candidate the likelier fix of ``typed``, most telling first.

    Well-spelled Vietnamese (a corpus repeats its typos, "trog", so "Trọg" must
    become "Trọng"); a compound with the next or previous word ("bịn rịg" ->
    "bịn rịn", not the more frequent "rịa"); a doubled letter undone ("Tinn" ->
    "Tin"); the typed letters with other marks ("tâp" -> "tập" before "tâm").
    """
    undoubled = {typed[:i] + typed[i + 1:] for i in range(1, len(typed)) if typed[i] == typed[i - 1]}

    def in_compound(candidate: str) -> bool:
        if folded:  # compounds are indexed as written, with their marks
            return False
        return bool((before and lexicon.doc_frequency("body_word", f"{before}_{candidate}"))
                    or (after and lexicon.doc_frequency("body_word", f"{candidate}_{after}")))

    return lambda c: (is_well_spelled(c), in_compound(c), c in undoubled, fold(c) == fold(typed))


def same_case(word: str, typed: str) -> str:
    """``word`` (lower-case, from the index) cased as the reader typed: "Trọng", "TRỌNG"."""
    if len(typed) > 1 and typed.isupper():
        return word.upper()
    if typed[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def did_you_mean(lexicon: Lexicon, query: str, words: list[tuple[str, str, bool]], cfg: Suggest) -> str | None:
    """Replace rare words with close, frequent ones: 'mat tran to qoc' -> 'mat tran to quoc'.

    Rare words a reader means are left alone: one the index holds that is spelled
    as a Vietnamese syllable can be ("Phên giậu", "cá mó gù": correcting them to
    frequent neighbours, "phần giấu", is the suggestion readers laugh at), one
    the index holds that was typed capitalised (a name, a brand, an acronym:
    "Lady Gaga", "Dell XPS"), one the index holds beside the word typed next to
    it ("qua app"), and a well-spelled one when another word is misspelt ("bịn
    rịg": the typo is "rịg").  Beside words the index holds, a candidate must
    stand beside them somewhere in the index ("Hona CB" -> "Honda CB", not the
    more frequent "Hon"), so a name the index holds once is found; without such
    neighbours, candidates are ranked by ``typo_preferences``, then frequency.
    Last, a pair the index never holds becomes the written form of it that it
    does ("tập huân" -> "tập huấn").  Measured by ``bench/suggest.py``.
    """
    reader = lexicon
    deadline = time.perf_counter() + cfg.context_seconds
    spans, touching = _spans(query, [typed for typed, _, _ in words])
    rare = max(3, reader.doc_count() * cfg.rare_share)
    freqs = [reader.doc_frequency("body_fold" if f else "body", s) for _, s, f in words]
    held = [bool(df or reader.doc_frequency("title_fold" if f else "title", s)) for df, (_, s, f) in zip(freqs, words)]
    misspelt = any(not h and not is_well_spelled(s) for h, (_, s, _) in zip(held, words))
    chosen: list[Word] = [(s, f) for _, s, f in words]
    fixed = [False] * len(words)
    for n, (typed, syllable, folded) in enumerate(words):
        freq = freqs[n]
        # A syllable has at most 7 letters; edit distance on a longer "word" (a URL,
        # a pasted blob) is not worth computing.
        span = spans[n]
        if freq >= rare or not 2 <= len(syllable) <= cfg.max_chars or span is None \
                or EXCLUDED.search(query[:span[0]]):  # an excluded word is left as typed
            continue
        # The neighbours the index holds (the previous one as corrected) confirm a fix: the words
        # typed side by side, not across "-", OR or a quotation mark.
        before = chosen[n - 1] if n and touching[n - 1] and (held[n - 1] or fixed[n - 1]) else None
        after = (words[n + 1][1], words[n + 1][2]) if n + 1 < len(words) and touching[n] and held[n + 1] else None
        if time.perf_counter() > deadline:  # a long query of rare words: by spelling and frequency alone
            before = after = None
        confirmed_only = False
        if cfg.by_spelling:
            if held[n] and (is_well_spelled(syllable) or typed[:1].isupper()
                            or _context(reader, chosen[n], before, after)):
                continue  # a real word, a name, or a phrase the index holds ("qua app")
            # Well spelled but not held, beside a misspelt word: only a fix the neighbours confirm.
            confirmed_only = not held[n] and misspelt and is_well_spelled(syllable)
        best = _best_fix(reader, syllable, folded, freq, before, after, confirmed_only, cfg, deadline)
        if best:
            chosen[n], fixed[n] = (best, folded), True
    if cfg.by_spelling:
        _held_pairs(reader, words, chosen, held, fixed, touching, deadline)
    suggestion = query
    for n in reversed(range(len(words))):  # each word where it was typed, from the end: spans stay true
        (typed, syllable, _), (now, _), span = words[n], chosen[n], spans[n]
        if now != syllable and span is not None:
            suggestion = suggestion[:span[0]] + same_case(now, typed) + suggestion[span[1]:]
    return suggestion if suggestion != query else None


def _spans(query: str, typed: list[str]) -> tuple[list[tuple[int, int] | None], list[bool]]:
    """Where each typed word stands in ``query`` (in order), and whether each one and the next
    stand side by side, only spaces between them (not "-", OR, a quotation mark, a field) and
    neither excluded."""
    spans: list[tuple[int, int] | None] = []
    at = 0
    for word in typed:
        start = query.find(word, at)
        spans.append((start, start + len(word)) if start >= 0 else None)
        at = start + len(word) if start >= 0 else at
    out = [bool(s and EXCLUDED.search(query[:s[0]])) for s in spans]  # an excluded word stands alone
    touching = [bool(a and b and query[a[1]:b[0]].isspace() and not (out[i] or out[i + 1]))
                for i, (a, b) in enumerate(zip(spans, spans[1:]))] + [False]
    return spans, touching


def _context(reader: Lexicon, word: Word, before: Word | None, after: Word | None) -> int:
    """How often ``word`` stands after ``before`` and before ``after`` in the index."""
    return ((pair_count(reader, before, word) if before else 0)
            + (pair_count(reader, word, after) if after else 0))


def _best_fix(reader: Lexicon, syllable: str, folded: bool, freq: int, before: Word | None, after: Word | None,
              confirmed_only: bool, cfg: Suggest, deadline: float = float("inf")) -> str | None:
    """The likeliest word the reader meant by ``syllable``: among the close words, one the
    neighbours confirm, else (unless ``confirmed_only``) a far more frequent one."""
    field = "body_fold" if folded else "body"
    better = max(2, freq * 5) if freq < 3 else freq * cfg.popular
    for maxdist in (1, 2) if len(syllable) >= 5 else (1,):
        close = (reader.close_terms(field, syllable, maxdist, prefix=1) if cfg.by_spelling
                 else reader.terms_within(field, syllable, maxdist, prefix=1))
        found = sorted(((reader.doc_frequency(field, t), t) for t in close if t != syllable), reverse=True)
        if not cfg.by_spelling:
            candidates = [c for c in found if c[0] > better]
            if candidates:
                return max(candidates, key=lambda c: (fold(c[1]) == fold(syllable), c[0]))[1]
            continue
        prefer = typo_preferences(reader, syllable, folded, before[0] if before else None,
                                  after[0] if after else None)
        if before or after:
            confirmed = [(count, df, t) for df, t in found[:CONTEXT_CANDIDATES]
                         if time.perf_counter() < deadline and (count := _context(reader, (t, folded), before, after))]
            if confirmed:  # the spelling preferences decide among those the context does not rule out
                most = max(c[0] for c in confirmed)
                return max((c for c in confirmed if c[0] * CONTEXT_RATIO >= most),
                           key=lambda c: (*prefer(c[2]), c[0], c[1]))[2]
        candidates = [] if confirmed_only else [c for c in found if c[0] > better]
        if candidates:
            return max(candidates, key=lambda c: (*prefer(c[1]), c[0]))[1]
    return None


def _held_pairs(reader: Lexicon, words, chosen: list[Word], held: list[bool], fixed: list[bool],
                touching: list[bool], deadline: float) -> None:
    """Beside a corrected word, a word it never stands beside in the index becomes the other
    written form of it that it does, at least three times ("tâp huân" -> "tập huấn", where
    "Huân" is a name and "tập" the fix of "tâp").  A word that stands in a pair the index
    holds with its other neighbour is the reader's ("bầu cử cảnh báo": not "bầu cứ")."""
    for n in range(1, len(words)):
        if not touching[n - 1] or fixed[n - 1] == fixed[n]:
            continue  # only a pair of a fix and a word as typed
        at, other = (n, n - 1) if fixed[n - 1] else (n - 1, n)
        (word, folded), (fix, fix_folded) = chosen[at], chosen[other]
        if folded or fix_folded or not held[at] or words[at][0][:1].isupper():
            continue  # unaccented words match every form; a capitalised word is a name
        fix_first = at == n

        def beside_fix(w: str, fix: str = fix, fix_first: bool = fix_first) -> int:
            return pair_count(reader, *(((fix, False), (w, False)) if fix_first else ((w, False), (fix, False))))

        if time.perf_counter() > deadline or beside_fix(word):
            continue
        far = at + 1 if at == n else at - 1  # the word's other neighbour
        if 0 <= far < len(words) and touching[min(at, far)] and pair_count(
                reader, *(((word, False), chosen[far]) if far > at else (chosen[far], (word, False)))):
            continue
        best: tuple[int, str] = (2, "")
        for variant in reader.variants("body_fold", fold(word)):
            if variant != word and time.perf_counter() < deadline:
                count = beside_fix(variant)
                if count > best[0]:
                    best = (count, variant)
        if best[1]:
            chosen[at], fixed[at] = (best[1], False), True
