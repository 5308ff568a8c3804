"""Did-you-mean corrections of rare words, and completions of the word being typed."""

from __future__ import annotations

from ..config import Suggest
from ..text.normalize import fold
from ..text.syllables import is_well_spelled
from .lexicon import Lexicon

__all__ = ["did_you_mean"]


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
    frequent neighbours, "phần giấu", is the suggestion readers laugh at), and one
    the index holds that was typed capitalised (a name, a brand, an acronym:
    "Lady Gaga", "Dell XPS").  Candidates are ranked by ``_typo_preferences``,
    then frequency.  Measured by ``bench/suggest.py``.
    """
    reader = lexicon
    suggestion = query
    changed = False
    rare = max(3, reader.doc_count() * cfg.rare_share)
    for n, (typed, syllable, folded) in enumerate(words):
        fieldname = "body_fold" if folded else "body"
        freq = reader.doc_frequency(fieldname, syllable)
        # A syllable has at most 7 letters; edit distance on a longer "word" (a URL,
        # a pasted blob) is not worth computing.
        if freq >= rare or not 2 <= len(syllable) <= cfg.max_chars:
            continue
        if cfg.by_spelling:
            held = freq or reader.doc_frequency("title_fold" if folded else "title", syllable)
            if held and (is_well_spelled(syllable) or typed[:1].isupper()):
                continue
        better = max(2, freq * 5) if freq < 3 else freq * cfg.popular
        best = None
        for maxdist in (1, 2) if len(syllable) >= 5 else (1,):
            close = (reader.close_terms(fieldname, syllable, maxdist, prefix=1) if cfg.by_spelling
                     else reader.terms_within(fieldname, syllable, maxdist, prefix=1))
            candidates = [(reader.doc_frequency(fieldname, t), t) for t in close if t != syllable]
            candidates = [c for c in candidates if c[0] > better]
            if candidates:
                if cfg.by_spelling:
                    prefer = typo_preferences(reader, syllable, folded, words[n - 1][1] if n else None,
                                               words[n + 1][1] if n + 1 < len(words) else None)
                    best = max(candidates, key=lambda c: (*prefer(c[1]), c[0]))[1]
                else:
                    best = max(candidates, key=lambda c: (fold(c[1]) == fold(syllable), c[0]))[1]
                break
        if best:
            suggestion = suggestion.replace(typed, same_case(best, typed), 1)
            changed = True
    return suggestion if changed and suggestion != query else None

