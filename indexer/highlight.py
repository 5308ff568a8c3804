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
from dataclasses import dataclass, field
from html import escape

from whoosh.analysis import Token
from whoosh.highlight import BasicFragmentScorer, ContextFragmenter, Fragment, HtmlFormatter

from .analysis import Analysis, analyze
from .normalize import fold

__all__ = ["Highlighter", "Matcher"]

# A syllable matcher: ("exact", canonical) or ("fold", folded).
Matcher = tuple[str, str]
_SPACE_RUN = re.compile(r"\s+")
# Never analyse more than this much of one text to build a snippet.
MAX_HIGHLIGHT_CHARS = 200_000


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
    """Marks every occurrence of a set of syllable sequences."""

    patterns: set[tuple[Matcher, ...]] = field(default_factory=set)

    def add(self, *matchers: Matcher) -> None:
        if matchers:
            self.patterns.add(tuple(matchers))

    def spans(self, analysis: Analysis) -> list[tuple[int, int]]:
        """Merged ``(start, end)`` character spans of all matches, in order."""
        if not self.patterns:
            return []
        by_first: dict[Matcher, list[tuple[Matcher, ...]]] = {}
        for p in self.patterns:
            by_first.setdefault(p[0], []).append(p)
        syl = analysis.syllables
        folded = [fold(s) for s in syl]
        found = []
        for i in range(len(syl)):
            for key in (("exact", syl[i]), ("fold", folded[i])):
                for p in by_first.get(key, ()):
                    if i + len(p) <= len(syl) and all(
                        (syl if kind == "exact" else folded)[i + k] == value
                        for k, (kind, value) in enumerate(p)
                    ):
                        found.append((analysis.spans[i][0], analysis.spans[i + len(p) - 1][1]))
        found.sort()
        merged: list[tuple[int, int]] = []
        for start, end in found:
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        return merged

    def _tokens(self, text: str, near: int | None = None) -> tuple[list[Token], int]:
        """Tokens for Whoosh's fragmenter; with ``near``, only those within that many
        characters of a match (the fragmenter never looks further)."""
        analysis = analyze(text[:MAX_HIGHLIGHT_CHARS], words=False)
        marks: list[tuple[int, int]] = []
        for start, end in self.spans(analysis):
            # "<mark>Mặt trận</mark>", not "<mark>Mặt</mark> <mark>trận</mark>"
            if marks and start - marks[-1][1] <= 3 and not text[marks[-1][1]:start].strip():
                marks[-1] = (marks[-1][0], end)
            else:
                marks.append((start, end))
        tokens = []
        m = 0
        for syllable, (start, end) in zip(analysis.syllables, analysis.spans):
            while m < len(marks) and marks[m][1] <= start:
                m += 1
            if near is not None and not (
                (m < len(marks) and marks[m][0] - start <= near) or (m > 0 and start - marks[m - 1][1] <= near)
            ):
                continue
            if m < len(marks) and marks[m][0] <= start:
                if tokens and tokens[-1].matched and tokens[-1].endchar == marks[m][1]:
                    continue  # inside a mark already emitted
                tokens.append(Token(text=syllable, startchar=marks[m][0], endchar=marks[m][1],
                                    matched=True, boost=1.0))
            else:
                tokens.append(Token(text=syllable, startchar=start, endchar=end, matched=False, boost=1.0))
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
        scorer = BasicFragmentScorer()
        frags = sorted(fragmenter.fragment_tokens(text, tokens), key=scorer, reverse=True)[:fragments]
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


def _opening(text: str, maxchars: int) -> str:
    text = " ".join(text.split())
    if len(text) <= maxchars:
        return escape(text, quote=False)
    cut = text.rfind(" ", 0, maxchars)
    return escape(text[: cut if cut > maxchars // 2 else maxchars], quote=False) + " …"
