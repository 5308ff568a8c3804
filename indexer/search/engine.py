"""The search API: open an index, update it, search it, read articles from it.

>>> from indexer import open_index
>>> ix = open_index("index_dir")                      # doctest: +SKIP
>>> ix.update(["seeds"])                              # doctest: +SKIP
>>> results = ix.search("mat tran to quoc")           # doctest: +SKIP
>>> results.hits[0].title, results.hits[0].snippet    # doctest: +SKIP

An :class:`Index` is safe to share between threads: each thread gets its own
Whoosh searcher, and every call first checks whether ``vnsearch index``
published a new generation or committed an update, so a long-running server
sees new articles without a restart.  A search is composed of the modules
beside this one: ``parser`` (text to a tree), ``plan`` (tree to a query, its
bonuses and marks), ``evaluate`` (the query over the posting arrays), ``collect``
(top, newest, facets), ``rescore`` (bonuses on the candidates), ``highlight``,
``suggest``; see docs/architecture.md.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
from whoosh import query as wq

from ..build import IndexReport, Progress, forget_sources, update_index
from ..config import DEFAULT, Config
from ..ingest import Problem
from ..store.arrays_read import NO_YEAR
from ..store.generations import NoIndexError, current_generation
from ..text.acronyms import AcronymTable, load_acronyms
from ..text.ime import MORE_FREQUENT, decode_query
from ..text.normalize import has_diacritics
from ..text.segment import load_model
from .collect import by_date, facets, per_doc, top
from .evaluate import evaluate
from .explain import explanation
from .highlight import Highlighter, highlighter_for
from .parser import parse, searched_text
from .plan import Plan, QueryBuilder
from .reading import read_runs
from .relax import alternatives
from .request import SORTS, Request
from .rescore import AdjacentPairs, LeadTerms, add_shingles
from .results import Hit, SearchResults, StoredArticle, date_text, elapsed_ms, join_notices, stored_article, web_link
from .snapshot import Snapshot, Snapshots, leaves
from .suggest import did_you_mean

__all__ = ["DEFAULT_INDEX_DIR", "EMPTY_INDEX_NOTICE", "Index", "MAX_PER_PAGE", "MAX_QUERY_CHARS", "SORTS",
           "open_index"]

DEFAULT_INDEX_DIR = "index_dir"
MAX_PER_PAGE = DEFAULT.limits.max_per_page        # the CLI and the web refuse more
MAX_QUERY_CHARS = DEFAULT.limits.max_query_chars  # ... and cut queries here
# Like Elasticsearch's ``timeout``: a query so broad that ranking it takes longer returns
# what was ranked by then, with a notice (seconds from the start of the search).
COLLECT_SECONDS = 1.5
EMPTY_INDEX_NOTICE = "Chỉ mục chưa có bài viết nào."
TIMED_OUT_NOTICE = "Truy vấn quá rộng: kết quả được xếp hạng trong thời gian cho phép, có thể chưa đầy đủ."
KEYSTROKES_NOTICE = ("Hiển thị kết quả cho “{}”: chữ gõ khi tắt bộ gõ tiếng Việt (Telex, VNI). "
                     "Đặt trong ngoặc kép để tìm đúng chữ đã gõ.")
RELAXED_NOTICE = "Không có bài nào chứa tất cả các từ; đang hiển thị các bài chứa một số từ."


@dataclass
class _Collected:
    """What one ranking pass found."""

    top: list[tuple[int, float | None]]   # (docnum, score), best first, up to the limit
    total: int
    timed_out: bool = False
    groups: dict[str, dict] = field(default_factory=dict)
    reading: str | None = None  # how an unaccented run was read ("mặt trận tổ quốc"), if one reading leads
    parts: list = field(default_factory=list)  # each shingle item's (item, docnums, values), for explain


class Index:
    """A search index in ``index_dir`` (built or not yet), searched with ``config``."""

    def __init__(self, index_dir: str | Path = DEFAULT_INDEX_DIR, acronyms_path: str | Path | None = None,
                 config: Config = DEFAULT):
        self.index_dir = Path(index_dir)
        self.config = config
        self._acronyms_path = acronyms_path
        self._acronyms: AcronymTable | None = None
        self._snapshots = Snapshots(self.index_dir)

    # --- lifecycle ----------------------------------------------------------
    @property
    def acronyms(self) -> AcronymTable:
        if self._acronyms is None:
            self._acronyms = load_acronyms(self.index_dir / "acronyms.txt", self._acronyms_path)
        return self._acronyms

    def exists(self) -> bool:
        return current_generation(self.index_dir) is not None

    def warm_up(self, background: bool = True) -> None:
        """Load pyvi's model and open the index now (a first reader would wait a second for them);
        the type-ahead table is built behind, in a thread (4 s for 111,828 articles), or before
        returning (a server about to fork its workers, which then share it)."""
        load_model()
        if self.exists():
            args = (self._snapshots.current(), self.acronyms)
            if background:
                threading.Thread(target=self._snapshots.phrases, args=args, daemon=True).start()
            else:
                self._snapshots.phrases(*args)

    def update(self, paths: list[str | Path], rebuild: bool = False, jobs: int | None = None,
               progress: Callable[[int], None] | None = None, on_problem: Callable[[Problem], None] | None = None,
               on_progress: Callable[[Progress], None] | None = None) -> IndexReport:
        """Add new, re-index changed and remove deleted articles under ``paths`` (``build.update_index``)."""
        return update_index(paths, self.index_dir, rebuild=rebuild, jobs=jobs, progress=progress,
                            on_problem=on_problem, on_progress=on_progress)

    def forget(self, paths: list[str | Path]) -> IndexReport:
        """Remove every article indexed from ``paths``, which need not exist any more."""
        return forget_sources(paths, self.index_dir)

    def close(self) -> None:
        self._snapshots.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def count(self) -> int:
        """Number of articles in the index (0 if there is none yet)."""
        try:
            return self._snapshots.current().doc_count
        except NoIndexError:
            return 0

    def stats(self) -> dict:
        """What is on disk: articles, replaced or removed articles whose segment still holds
        them (counted in ranking statistics until the segment is rewritten; see
        ``store.segment_writer.RECLAIM_SHARE``), Whoosh segments, live generation, size in MB."""
        gen = current_generation(self.index_dir)
        if gen is None:
            return {"articles": 0, "deleted": 0, "segments": 0, "generation": None, "size_mb": 0.0}
        reader = self._snapshots.current().searcher.reader()
        size = sum(f.stat().st_size for f in gen.iterdir() if f.is_file())
        return {"articles": reader.doc_count(), "deleted": reader.doc_count_all() - reader.doc_count(),
                "segments": len(leaves(reader)), "generation": gen.name, "size_mb": round(size / 2**20, 1)}

    # --- search -------------------------------------------------------------
    def search(self, query: str, page: int = 1, per_page: int = 10, sort: str = "relevance",
               date_from: datetime | str | None = None, date_to: datetime | str | None = None,
               mode: str = "all", facets: bool = False, snippet_chars: int = 240,
               category: str | None = None, highlight: bool = True, as_typed: bool = False,
               explain: bool = False) -> SearchResults:
        """Ranked search.

        ``mode="all"`` requires every word (falling back to any word, with a
        notice, when nothing has them all); ``mode="any"`` ranks by any word,
        as a long question needs.  ``date_from``/``date_to`` accept a
        datetime or '2020', '2020-05', '2020-05-17'.  Raises ValueError for
        out-of-range arguments; never for the query text.  ``category``
        restricts to one category (as listed in ``facets``); ``highlight=False``
        skips snippets (``snippet`` is then empty), for bulk use.

        A query typed with the Vietnamese keyboard off ("mawtj traanj", Telex;
        "ma85t tra65n", VNI) that finds next to nothing is searched as the
        words it spells ("mặt trận", ``ime.decode_query``), with a notice.  A few
        words typed without diacritics also rank as the collection most often writes
        them ("mat tran to quoc": "mặt trận tổ quốc" first; ``results.reading``), unless
        ``as_typed``.  ``explain``: each hit's ``explanation`` (see :meth:`explain`), made
        with this search's own plan and candidates, within a time budget.
        """
        started = time.perf_counter()
        snap = self._snapshots.current()
        request = Request.make(query, self.config.limits, page, per_page, sort, date_from, date_to, mode, facets,
                               snippet_chars, category, highlight, as_typed, explain)
        results = self._answer(snap, request, started)
        if not results.total and snap.doc_count:  # what emptied it: the searches without each condition
            cut = request.for_query(request.query[:self.config.limits.max_query_chars])  # as it was searched
            results.alternatives = alternatives(cut, lambda r: self._count(snap, r))
        return results

    def _count(self, snap: Snapshot, request: Request) -> tuple[int, bool]:
        found, relaxed = self._search(snap, request, time.perf_counter())
        return found.total, relaxed

    def _answer(self, snap: Snapshot, request: Request, started: float) -> SearchResults:
        """The query as typed, or as the keystrokes typed with the keyboard off spell it."""
        decoded, unknown = self._keystrokes(snap, request.query) if self.config.suggest.keystrokes else (None, False)
        spelled = None
        if decoded is not None and unknown:
            # A word no article holds: the query as typed cannot have every word; skip it.
            spelled, spelled_relaxed = self._search(snap, request.for_query(decoded), started)
            if spelled.total and not spelled_relaxed:
                return self._as_spelled(spelled, request.query, decoded, started)
        results, relaxed = self._search(snap, request, started)
        if decoded is None:
            return results
        if spelled is None:
            spelled, spelled_relaxed = self._search(snap, request.for_query(decoded), started)
        # The words spelled win when the keystrokes find next to nothing, or far less.
        if spelled.total and not spelled_relaxed and (results.total < self.config.suggest.below or relaxed
                                                       or spelled.total >= MORE_FREQUENT * results.total):
            return self._as_spelled(spelled, request.query, decoded, started)
        return results

    def plan(self, query: str, mode: str = "all", date_from: datetime | None = None,
             date_to: datetime | None = None, category: str | None = None) -> Plan:
        """What ``query`` is searched as: the query tree, its filter, bonuses and marks."""
        return self._plan(self._snapshots.current(), query, mode == "any", date_from, date_to, category)

    def _plan(self, snap: Snapshot, query: str, any_terms: bool, date_from: datetime | None,
              date_to: datetime | None, category: str | None) -> Plan:
        node, notices = parse(query[:self.config.limits.max_query_chars])
        accented = has_diacritics(searched_text(node))  # an excluded word's marks do not count
        plan = QueryBuilder(snap.lexicon, self.acronyms, any_terms=any_terms, accented=accented,
                            config=self.config).build(node, date_from, date_to)
        plan.notices[:0] = notices
        if category:
            wanted = wq.Term("category", category)
            plan.filter = wanted if plan.filter is None else wq.And([plan.filter, wanted])
        return plan

    def _keystrokes(self, snap: Snapshot, query: str) -> tuple[str | None, bool]:
        """``ime.decode_query`` over this index, and whether a decoded word as typed is
        in no article at all."""
        lexicon = snap.lexicon
        unknown: list[str] = []

        def typed_frequency(word: str) -> int:
            df = lexicon.doc_frequency("body_fold", word)
            if not df:
                unknown.append(word)
            return df

        decoded = decode_query(query[:self.config.limits.max_query_chars], lambda s: lexicon.doc_frequency("body", s),
                               typed_frequency, common=max(3, lexicon.doc_count() * self.config.suggest.rare_share))
        return decoded, bool(unknown)

    def _as_spelled(self, spelled: SearchResults, query: str, decoded: str, started: float) -> SearchResults:
        spelled.query = query[:self.config.limits.max_query_chars]
        spelled.notice = join_notices([KEYSTROKES_NOTICE.format(decoded), spelled.notice or ""])
        spelled.took_ms = elapsed_ms(started)
        return spelled

    def _search(self, snap: Snapshot, request: Request, started: float) -> tuple[SearchResults, bool]:
        """``search`` of the query as typed, and whether it fell back to any word."""
        limits, query = self.config.limits, request.query
        notices: list[str] = []
        if len(query) > limits.max_query_chars:
            query = query[:limits.max_query_chars]
            notices.append(f"Truy vấn quá dài; chỉ dùng {limits.max_query_chars} ký tự đầu.")
        if not snap.doc_count:  # a normal state (every article removed): say why nothing is found
            notices.append(EMPTY_INDEX_NOTICE)
        args = (request.date_from, request.date_to, request.category)
        plan = self._plan(snap, query, request.mode == "any", *args)
        notices += plan.notices
        if plan.query is None and plan.filter is None:
            return SearchResults(query, 0, request.page, request.per_page, elapsed_ms(started),
                                 notice=join_notices(notices) or "Hãy nhập từ khoá để tìm kiếm."), False
        deadline = started + COLLECT_SECONDS
        found = self._collect(snap, plan, self._limit(request, plan), request.sort, request.facets, deadline,
                              request.as_typed)
        relaxed = False
        if found.total == 0 and request.mode == "all" and plan.clauses >= 2:
            any_plan = self._plan(snap, query, True, *args)
            any_found = self._collect(snap, any_plan, self._limit(request, any_plan), request.sort, request.facets,
                                      deadline, request.as_typed)
            if any_found.total:
                notices.append(RELAXED_NOTICE)
                plan, found, relaxed = any_plan, any_found, True
        if found.timed_out:
            notices.append(TIMED_OUT_NOTICE)
        ranked: Sequence[tuple[int, float | None]] = found.top
        if plan.rescore and request.sort == "relevance":
            ranked = self._rescored(snap, found.top, plan.rescore, started + limits.rescore_seconds)
        highlighter = highlighter_for(snap.lexicon, plan.marks, plan.minor_marks) if request.highlight else None
        start = (request.page - 1) * request.per_page
        hits = [self._hit(snap, docnum, score, highlighter, request.snippet_chars, request.sort)
                for docnum, score in ranked[start:start + request.per_page]]
        if request.explain:  # with this search's own plan, candidates and window; bounded in time
            window = {d for d, _ in found.top}
            budget = time.perf_counter() + limits.rescore_seconds
            for hit, (docnum, _) in zip(hits, ranked[start:start + request.per_page]):
                hit.explanation = (explanation(plan, snap.lexicon, snap.segments, self.config.ranking, docnum,
                                               found.parts, docnum in window, {"id": hit.id}, budget)
                                   if request.sort == "relevance" else {"id": hit.id, "sort": "date", "score": None})
        suggestion = None
        if request.suggest and (found.total < self.config.suggest.below or relaxed):
            suggestion = did_you_mean(snap.lexicon, query, plan.words, self.config.suggest)
        facet_counts = {name: {str(k): v for k, v in sorted(groups.items(), key=lambda kv: (-kv[1], str(kv[0])))
                               if k not in (None, "", 0, NO_YEAR)}
                        for name, groups in found.groups.items()}
        return SearchResults(query, found.total, request.page, request.per_page, elapsed_ms(started), hits, suggestion,
                             join_notices(notices), facet_counts, reading=found.reading), relaxed

    def _limit(self, request: Request, plan: Plan) -> int:
        """How many top matches to collect: the page, or the rescore window if larger."""
        return max(request.wanted, self.config.ranking.rescore_window if plan.rescore else 0)

    def _collect(self, snap: Snapshot, plan, limit: int, sort: str, with_facets: bool, deadline: float,
                 as_typed: bool = False) -> _Collected:
        """The top ``limit`` matches of ``plan`` (by score, or newest first), their total and facets."""
        parts: list = []
        docs, scores, timed_out, reading = self._scores(snap, plan, sort, deadline, as_typed, parts)
        rank = self._snapshots.id_order(snap)
        if sort == "date":
            best: list[tuple[int, float | None]] = [
                (d, None) for d in by_date(docs, per_doc(snap.segments, docs, "date"), limit, rank)]
        else:
            best = list(top(docs, scores, limit, rank))
        return _Collected(best, len(docs), timed_out, facets(snap.segments, docs) if with_facets else {}, reading,
                          parts)

    def _scores(self, snap: Snapshot, plan, sort: str, deadline: float, as_typed: bool,
                parts: list | None = None) -> tuple[np.ndarray, np.ndarray, bool, str | None]:
        """Every match of ``plan`` (ascending docnums) and its score before the top is rescored,
        whether the deadline passed, and the reading announced; ``parts`` collects each shingle
        item's (item, docnums, values) for ``explain``."""
        docs, scores, timed_out = evaluate(plan.whole(), snap.lexicon, self.config.ranking, snap.segments,
                                           deadline)
        reading = None
        r = self.config.ranking
        if plan.proximity and sort != "date" and len(docs):
            proximity = plan.proximity
            if plan.readable and not as_typed:  # unaccented words: also as the collection writes them
                proximity, reading = read_runs(snap.segments, proximity, plan.readable, docs, scores, r)
            scores = add_shingles(snap.lexicon, snap.segments, proximity, docs, scores, r, r.shingle_window,
                                  deadline, parts)
            timed_out |= time.perf_counter() > deadline
        return docs, scores, timed_out, reading

    def _rescored(self, snap: Snapshot, found: list, queries: list, deadline: float) -> list[tuple[int, float]]:
        """Add each bonus's score to the candidates, reading their postings only.

        Past ``deadline`` the remaining bonuses are left out (for every candidate alike).
        """
        scores = dict(found)
        candidates = sorted(scores)
        for q in queries:
            if time.perf_counter() > deadline:
                break
            if isinstance(q, (AdjacentPairs, LeadTerms)):
                for docnum, value in q.scores(snap.lexicon, snap.segments, candidates, self.config.ranking).items():
                    scores[docnum] += value
                continue
            docs, values, _ = evaluate(q, snap.lexicon, self.config.ranking, snap.segments)
            hit = np.isin(docs, candidates)
            for docnum, value in zip(docs[hit].tolist(), values[hit].tolist()):
                scores[docnum] += value
        order = self._snapshots.id_order(snap)
        return sorted(scores.items(), key=lambda kv: (-kv[1], order[kv[0]]))

    def _hit(self, snap: Snapshot, docnum: int, score: float | None, highlighter: Highlighter | None,
             snippet_chars: int, sort: str) -> Hit:
        stored = snap.searcher.stored_fields(docnum)
        title = stored.get("title", "")
        score = round(score, 4) if score is not None and sort == "relevance" else None
        url = web_link(stored.get("url"))  # the file an article was read from is not a link
        if highlighter is None:
            return Hit(id=stored["id"], title=title, date=date_text(stored), score=score, url=url, snippet="")
        return Hit(id=stored["id"], title=title, date=date_text(stored), score=score, url=url,
                   snippet=highlighter.snippet(stored.get("body", ""), maxchars=snippet_chars),
                   title_html=highlighter.mark(title), author=stored.get("author", ""),
                   source=stored.get("source", ""), category=stored.get("category", ""))

    def highlighter(self, query: str) -> Highlighter:
        """What ``query`` would mark: ``.mark(text)`` / ``.snippet(text)`` give escaped HTML."""
        snap = self._snapshots.current()
        decoded, _ = self._keystrokes(snap, query)
        marks, minor = [], []
        for text in (query, decoded) if decoded else (query,):  # keystrokes: also the words they spell
            plan = self._plan(snap, text, False, None, None, None)
            marks += plan.marks
            minor += plan.minor_marks
        return highlighter_for(snap.lexicon, marks, minor)

    # --- articles -------------------------------------------------------------
    def explain(self, query: str, doc_id: str, mode: str = "all", as_typed: bool = False,
                date_from: datetime | str | None = None, date_to: datetime | str | None = None,
                category: str | None = None) -> dict | None:
        """How ``doc_id`` scored for ``query`` (as ``search`` ranks it on the first page), as
        Elasticsearch's ``_explain``: each term or phrase with its field, statistics and
        contribution, the shingles of the query's words and the bonuses on the top
        candidates; the ``value`` of the parts adds up to ``score``.  None for an unknown id.
        The query is explained as typed (not as keystrokes typed with the keyboard off)."""
        snap = self._snapshots.current()
        docnum = snap.docnum(doc_id)
        if docnum is None:
            return None
        request = Request.make(query, self.config.limits, date_from=date_from, date_to=date_to, mode=mode,
                               category=category, as_typed=as_typed)
        text = request.query[:self.config.limits.max_query_chars]
        args = (request.date_from, request.date_to, request.category)
        plan = self._plan(snap, text, mode == "any", *args)
        deadline = time.perf_counter() + COLLECT_SECONDS
        parts: list = []  # each shingle item's (item, docnums, values)
        docs, scores, _, reading = self._scores(snap, plan, "relevance", deadline, as_typed, parts)
        relaxed = not len(docs) and mode == "all" and plan.clauses >= 2
        if relaxed:  # as search does: nothing has every word, so any word counts
            plan, parts = self._plan(snap, text, True, *args), []
            docs, scores, _, reading = self._scores(snap, plan, "relevance", deadline, as_typed, parts)
        window = dict(top(docs, scores, self._limit(request, plan), self._snapshots.id_order(snap)))
        return explanation(plan, snap.lexicon, snap.segments, self.config.ranking, docnum, parts,
                           docnum in window, {"id": doc_id, "query": query, "mode": "any" if relaxed else mode,
                                              "reading": reading}, deadline)

    def get(self, doc_id: str) -> StoredArticle | None:
        """The stored article with this id, or None."""
        stored = self._snapshots.current().searcher.document(id=doc_id)
        return stored_article(stored) if stored is not None else None

    def related(self, doc_id: str, limit: int = 5) -> list[Hit]:
        """Articles most like this one: Whoosh's more-like-this over body syllables (its
        Bo1 key terms, its query), ranked on the posting arrays like any search; Whoosh's
        matchers took 1-3 s for it on the full corpus, and the article page waited."""
        snap = self._snapshots.current()
        docnum = snap.docnum(doc_id)
        if docnum is None:
            return []
        stored = snap.searcher.stored_fields(docnum)
        text = (stored.get("title", "") + "\n") * 2 + stored.get("body", "")[:20_000]
        terms = snap.searcher.key_terms_from_text("body", text, numterms=25, normalize=False)  # as more_like
        if not terms:
            return []
        plan = Plan(wq.Or([wq.Term("body", word, boost=weight) for word, weight in terms]), None)
        found = self._collect(snap, plan, limit + 1, "relevance", False, time.perf_counter() + COLLECT_SECONDS)
        best = [(d, score) for d, score in found.top if d != docnum][:limit]  # more_like masks the article
        return [self._hit(snap, d, score, Highlighter(), 160, "relevance") for d, score in best]

    def doc_frequency(self, term: str, field: str = "body") -> int:
        """How many articles hold ``term`` (a syllable as the index holds it: lower-case, or
        unaccented in a ``*_fold`` field) in ``field``, deleted copies still counted."""
        return self._snapshots.current().lexicon.doc_frequency(field, term)

    def complete(self, prefix: str, limit: int = 8) -> list[str]:
        """Type-ahead: the titles' phrases completing what is typed, most frequent first
        ("hà n" -> "hà nội", "hà nam"; complete.py); the first call on a generation builds them."""
        return self._snapshots.phrases(self._snapshots.current(), self.acronyms).complete(prefix, limit)


def open_index(index_dir: str | Path = DEFAULT_INDEX_DIR, acronyms_path: str | Path | None = None,
               config: Config = DEFAULT) -> Index:
    """An :class:`Index` on ``index_dir`` (which need not be built yet)."""
    return Index(index_dir, acronyms_path, config)
