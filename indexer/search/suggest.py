"""Did-you-mean: corrections of rare words, by the words around them."""

from __future__ import annotations

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
        if freq >= rare or not 2 <= len(syllable) <= cfg.max_chars:
            continue
        # The neighbours the index holds (the previous one as corrected) confirm a fix.
        before = chosen[n - 1] if n and (held[n - 1] or fixed[n - 1]) else None
        after = (words[n + 1][1], words[n + 1][2]) if n + 1 < len(words) and held[n + 1] else None
        if time.perf_counter() > deadline:  # a long query of rare words: by spelling and frequency alone
            before = after = None
        confirmed_only = False
        if cfg.by_spelling:
            if held[n] and (is_well_spelled(syllable) or typed[:1].isupper()
                            or _context(reader, chosen[n], before, after)):
                continue  # a real word, a name, or a phrase the index holds ("qua app")
            # Well spelled but not held, beside a misspelt word: only a fix the neighbours confirm.
            confirmed_only = not held[n] and misspelt and is_well_spelled(syllable)
        best = _best_fix(reader, syllable, folded, freq, before, after, confirmed_only, cfg)
        if best:
            chosen[n], fixed[n] = (best, folded), True
    if cfg.by_spelling and time.perf_counter() < deadline:
        _held_pairs(reader, words, chosen, held, fixed)
    suggestion = query
    for (typed, syllable, _), (now, _) in zip(words, chosen):
        if now != syllable:
            suggestion = suggestion.replace(typed, same_case(now, typed), 1)
    return suggestion if suggestion != query else None


def _context(reader: Lexicon, word: Word, before: Word | None, after: Word | None) -> int:
    """How often ``word`` stands after ``before`` and before ``after`` in the index."""
    return ((pair_count(reader, before, word) if before else 0)
            + (pair_count(reader, word, after) if after else 0))


def _best_fix(reader: Lexicon, syllable: str, folded: bool, freq: int, before: Word | None, after: Word | None,
              confirmed_only: bool, cfg: Suggest) -> str | None:
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
                         if (count := _context(reader, (t, folded), before, after))]
            if confirmed:  # the spelling preferences decide among those the context does not rule out
                most = max(c[0] for c in confirmed)
                return max((c for c in confirmed if c[0] * CONTEXT_RATIO >= most),
                           key=lambda c: (*prefer(c[2]), c[0], c[1]))[2]
        candidates = [] if confirmed_only else [c for c in found if c[0] > better]
        if candidates:
            return max(candidates, key=lambda c: (*prefer(c[1]), c[0]))[1]
    return None


def _held_pairs(reader: Lexicon, words, chosen: list[Word], held: list[bool], fixed: list[bool]) -> None:
    """Where two accented words stand together as the index never writes them, the other
    written form of one of them that the index holds beside the other, at least three
    times ("tâp huân" -> "tập huấn", where "Huân" is a name and "tập" a frequent word)."""
    for n in range(1, len(words)):
        (a, a_folded), (b, b_folded) = chosen[n - 1], chosen[n]
        if a_folded or b_folded or not (held[n - 1] or fixed[n - 1]) or not (held[n] or fixed[n]):
            continue
        if pair_count(reader, (a, False), (b, False)):
            continue
        best: tuple[int, int | None, str] = (2, None, "")
        for at in (n, n - 1):
            if fixed[at] or words[at][0][:1].isupper():
                continue  # a correction already chose its form; a capitalised word is a name
            for other in reader.variants("body_fold", fold(chosen[at][0])):
                if other == chosen[at][0]:
                    continue
                pair = ((a, False), (other, False)) if at == n else ((other, False), (b, False))
                count = pair_count(reader, *pair)
                if count > best[0]:
                    best = (count, at, other)
        if best[1] is not None:
            chosen[best[1]], fixed[best[1]] = (best[2], False), True
