"""The search API: open an index, update it, search it, read articles from it.

>>> from indexer import open_index
>>> ix = open_index("index_dir")                      # doctest: +SKIP
>>> ix.update(["seeds"])                              # doctest: +SKIP
>>> results = ix.search("mat tran to quoc")           # doctest: +SKIP
>>> results.hits[0].title, results.hits[0].snippet    # doctest: +SKIP

An :class:`Index` is safe to share between threads: each thread gets its
own Whoosh searcher, and every call first checks whether ``vnsearch index``
published a new generation or committed an update, so a long-running
server sees new articles without a restart.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Callable

import numpy as np
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh import collectors, scoring, sorting

from ..text.acronyms import AcronymTable, load_acronyms
from ..text.analysis import analyze
from ..ingest import Problem
from ..build import IndexReport, forget_sources, update_index
from ..store.schema import INDEX_NAME
from .lexicon import Lexicon
from .highlight import Highlighter
from ..text.ime import MORE_FREQUENT, decode_query
from ..text.normalize import fold, has_diacritics
from ..store.arrays_read import NO_YEAR, SegmentArrays
from .rescore import AdjacentPairs, LeadTerms, on_candidates
from .parser import parse
from .plan import QueryBuilder
from ..store.generations import NoIndexError, current_generation
from ..text.syllables import is_well_spelled
from .evaluate import Segment, Unsupported, by_date, evaluate, top

__all__ = ["Index", "Hit", "SearchResults", "Article", "open_index", "DEFAULT_INDEX_DIR",
           "MAX_PER_PAGE", "MAX_QUERY_CHARS", "SORTS", "EMPTY_INDEX_NOTICE"]

DEFAULT_INDEX_DIR = "index_dir"
MAX_PER_PAGE = 100
MAX_RESULTS_DEPTH = 10_000       # page * per_page beyond this is refused
MAX_QUERY_CHARS = 1000
SORTS = ("relevance", "date")
SUGGEST_BELOW = 3                # offer did-you-mean when fewer hits than this
SUGGEST_MAX_CHARS = 12           # longer words get no did-you-mean
# A word in fewer than this share of the articles may still be a typo if a close word is
# SUGGEST_POPULAR times as frequent: a big corpus holds every common typo a few times
# ("trog" is in 3 of 111,828 articles, "trong" in 103,336).
SUGGEST_RARE_SHARE = 0.001
SUGGEST_POPULAR = 50
SUGGEST_BY_SPELLING = True      # trust Vietnamese spelling (see Index._suggest); False: frequency and marks only
RESCORE_WINDOW = 200             # any-term mode: candidates rescored with every query word
# Time budgets (seconds).  A query that matches everything with hundreds of
# wildcard expansions would otherwise run for minutes; like Elasticsearch's
# ``timeout``, it returns what was found in time, with a notice.
COLLECT_SECONDS = 1.5            # ranking passes, from the start of the search
COUNT_SECONDS = 0.5              # exact total of an all-words query (else an estimate)
COUNT_LIMIT = 10_000             # beyond this many, the total is "more than" (Elasticsearch's
                                 # track_total_hits; also the deepest page a reader may ask for)
TIE_MARGIN = 10                  # Whoosh path: results collected past the limit to see its ties
RESCORE_SECONDS = 2.0            # bonuses stop being added this long after the start
EMPTY_INDEX_NOTICE = "Chỉ mục chưa có bài viết nào."
TIMED_OUT_NOTICE = "Truy vấn quá rộng: kết quả được xếp hạng trong thời gian cho phép, có thể chưa đầy đủ."

WEIGHTING = scoring.BM25F(B=0.75, K1=1.2, title_B=0.5, title_fold_B=0.5)


@dataclass
class Hit:
    id: str
    title: str
    date: str | None
    score: float | None
    url: str
    snippet: str
    title_html: str = ""
    author: str = ""
    source: str = ""
    category: str = ""

    def to_dict(self) -> dict:
        """The public JSON shape of a hit (CLI ``--json`` and the web API)."""
        return {k: getattr(self, k) for k in ("id", "title", "date", "score", "url", "snippet")}


@dataclass
class SearchResults:
    query: str
    total: int
    page: int
    per_page: int
    took_ms: float
    hits: list[Hit] = field(default_factory=list)
    suggestion: str | None = None
    notice: str | None = None
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    # How ``total`` relates to the real number of matches: "eq" exact, "gte" at
    # least (counting stopped at COUNT_LIMIT), "approx" Whoosh's estimate.
    total_relation: str = "eq"

    @property
    def total_text(self) -> str:
        """The total as a reader should read it: "1.234", "hơn 10.000", "khoảng 52.000"."""
        number = f"{self.total:,}".replace(",", ".")
        return {"gte": "hơn ", "approx": "khoảng "}.get(self.total_relation, "") + number

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    def to_dict(self) -> dict:
        return {
            "query": self.query, "total": self.total, "total_relation": self.total_relation,
            "page": self.page, "per_page": self.per_page,
            "took_ms": self.took_ms, "suggestion": self.suggestion, "notice": self.notice,
            "hits": [h.to_dict() for h in self.hits],
        }


@dataclass
class Article:
    """A stored article, as written, for the article page."""

    id: str
    title: str
    body: str
    date: str | None
    author: str
    source: str
    category: str
    url: str
    path: str

    @property
    def paragraphs(self) -> list[str]:
        return [p.strip() for p in self.body.split("\n") if p.strip()]

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Collected:
    """What one ranking pass found, whichever engine ran it."""

    top: list[tuple[int, float | None]]   # (docnum, score), best first, up to the limit
    total: int
    relation: str = "eq"                  # see SearchResults.total_relation
    timed_out: bool = False
    groups: dict[str, dict] = field(default_factory=dict)


def _typo_preferences(lexicon, typed: str, folded: bool, before: str | None, after: str | None):
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


def _same_case(word: str, typed: str) -> str:
    """``word`` (lower-case, from the index) cased as the reader typed: "Trọng", "TRỌNG"."""
    if len(typed) > 1 and typed.isupper():
        return word.upper()
    if typed[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def _date_text(stored: dict) -> str | None:
    d = stored.get("date")
    if not isinstance(d, datetime):
        return None
    return d.isoformat(timespec="minutes") if stored.get("has_time") else d.date().isoformat()


class _Deadline(collectors.WrappingCollector):
    """Stops collecting at ``deadline``; what was collected stays usable.

    Unlike Whoosh's TimeLimitCollector it needs no timer thread or SIGALRM
    (searches run in server threads), and it keeps the child's block-quality
    skipping, which lives in ``child.matches()``.
    """

    def __init__(self, child, deadline: float):
        super().__init__(child)
        self.deadline = deadline  # a time.perf_counter() value
        self.timed_out = False

    def collect_matches(self):
        child, deadline, n = self.child, self.deadline, 0
        for sub_docnum in child.matches():
            child.collect(sub_docnum)
            n += 1
            if not n & 63 and time.perf_counter() > deadline:
                self.timed_out = True
                raise collectors.TimeLimit()


def _without_block_quality(collector):
    node = collector
    while node is not None:
        if hasattr(node, "usequality"):
            node.usequality = False
        node = getattr(node, "child", None)
    return collector


def _count_within(searcher, q, deadline: float, limit: int) -> int | None:
    """Matching documents up to ``limit``, or None if counting is not done by ``deadline``."""
    n = 0
    for sub, _ in searcher.leaf_searchers():
        for _ in q.matcher(sub).all_ids():
            n += 1
            if n >= limit:
                return n
            if not n & 1023 and time.perf_counter() > deadline:
                return None
    return n


class Index:
    """A search index in ``index_dir`` (built or not yet)."""

    def __init__(self, index_dir: str | Path = DEFAULT_INDEX_DIR, acronyms_path: str | Path | None = None,
                 vectorized: bool = True):
        self.index_dir = Path(index_dir)
        # False: always Whoosh's matchers (the reference the vectorised path is tested against).
        self.vectorized = vectorized
        self._acronyms_path = acronyms_path
        self._acronyms: AcronymTable | None = None
        self._local = threading.local()
        self._arrays: dict[tuple[str, str], SegmentArrays | None] = {}  # shared by threads
        self._arrays_lock = threading.Lock()
        self._id_orders: dict[tuple, np.ndarray] = {}  # shared by threads: see _id_order

    # --- lifecycle ----------------------------------------------------------
    @property
    def acronyms(self) -> AcronymTable:
        if self._acronyms is None:
            self._acronyms = load_acronyms(self.index_dir / "acronyms.txt", self._acronyms_path)
        return self._acronyms

    def exists(self) -> bool:
        return current_generation(self.index_dir) is not None

    def warm_up(self) -> None:
        """Load pyvi's model and open the index now: a server's first reader would
        otherwise wait for them (about a second)."""
        analyze("Mặt trận Tổ quốc")  # compound words: pyvi's CRF model
        if self.exists():
            self._searcher()

    def update(self, paths: list[str | Path], rebuild: bool = False, jobs: int | None = None,
               progress: Callable[[int], None] | None = None,
               on_problem: Callable[[Problem], None] | None = None) -> IndexReport:
        """Add new, re-index changed and remove deleted articles under ``paths`` (see
        ``build.update_index``)."""
        return update_index(paths, self.index_dir, rebuild=rebuild, jobs=jobs, progress=progress,
                            on_problem=on_problem)

    def forget(self, paths: list[str | Path]) -> IndexReport:
        """Remove every article indexed from ``paths``, which need not exist any more."""
        return forget_sources(paths, self.index_dir)

    def _searcher(self):
        gen = current_generation(self.index_dir)
        if gen is None:
            raise NoIndexError(f"no index in {self.index_dir}; run: vnsearch index PATH --index-dir {self.index_dir}")
        local = self._local
        searcher = getattr(local, "searcher", None)
        if searcher is None or local.generation != gen or not searcher.up_to_date():
            # Not Searcher.refresh(): it reuses segment readers and so keeps
            # deletions made by the update it is meant to pick up.
            if searcher is not None:
                searcher.close()
            ix = whoosh_index.open_dir(str(gen), indexname=INDEX_NAME)
            searcher = ix.searcher(weighting=WEIGHTING)
            local.generation = gen
            local.segments = self._segments(searcher, gen) if self.vectorized else None
            local.lexicon = Lexicon(searcher.reader(), local.segments)
            local.id_order = None
        local.searcher = searcher
        return searcher

    def _id_order(self, searcher) -> np.ndarray:
        """Each docnum's place in article-id order: how equal scores (and equal dates) are
        ordered, the same whichever worker wrote which article (docnums are not)."""
        order = getattr(self._local, "id_order", None)
        if order is None:
            reader = searcher.reader()
            # Docnums are fixed by the segments and their sizes (deletions do not renumber):
            # threads whose searchers see the same segments share one order (0.2 s to make
            # for the full corpus).
            key = (str(self._local.generation),) + tuple(
                (leaf.segment().segid, leaf.doc_count_all()) for leaf, _ in _leaves(reader))
            with self._arrays_lock:
                order = self._id_orders.get(key)
            if order is None:
                ids = list(reader.column_reader("id")) if reader.doc_count_all() else []
                order = np.empty(len(ids), dtype=np.int64)
                order[sorted(range(len(ids)), key=ids.__getitem__)] = np.arange(len(ids))
                with self._arrays_lock:  # the latest only: a thread on an older reader keeps its own
                    self._id_orders = {key: order}
            self._local.id_order = order
        return order

    def _segments(self, searcher, gen: Path) -> list[Segment] | None:
        """The searcher's segments with their posting arrays, or None if one has none yet."""
        with self._arrays_lock:  # arrays of replaced generations are not needed any more; not
            # closed here: another thread may still be searching them (their files close when
            # the last searcher lets go of them)
            for key in [k for k in self._arrays if k[0] != str(gen)]:
                del self._arrays[key]
        segments = []
        for leaf, offset in _leaves(searcher.reader()):
            segid = leaf.segment().segid
            key = (str(gen), segid)
            with self._arrays_lock:
                if key not in self._arrays:
                    self._arrays[key] = SegmentArrays.open(gen, segid)
                arrays = self._arrays[key]
            if arrays is None or arrays.doc_count != leaf.doc_count_all():
                with self._arrays_lock:
                    self._arrays.pop(key, None)  # built later by an update: look again next time
                return None
            live = None
            if leaf.has_deletions():
                live = np.zeros(arrays.doc_count, dtype=bool)
                live[np.fromiter(leaf.all_doc_ids(), dtype=np.int64)] = True
            segments.append(Segment(arrays, offset, live))
        return segments

    def close(self) -> None:
        searcher = getattr(self._local, "searcher", None)
        if searcher is not None:
            searcher.close()
            self._local.searcher = None

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def count(self) -> int:
        """Number of articles in the index (0 if there is none yet)."""
        try:
            return self._searcher().doc_count()
        except NoIndexError:
            return 0

    def stats(self) -> dict:
        """What is on disk: articles, replaced or removed articles whose segment still holds
        them (counted in ranking statistics until the segment is rewritten; see
        ``writer.RECLAIM_SHARE``), Whoosh segments, live generation, size in MB."""
        gen = current_generation(self.index_dir)
        if gen is None:
            return {"documents": 0, "deleted": 0, "segments": 0, "generation": None, "size_mb": 0.0}
        searcher = self._searcher()
        reader = searcher.reader()
        size = sum(f.stat().st_size for f in gen.iterdir() if f.is_file())
        return {"documents": searcher.doc_count(), "deleted": reader.doc_count_all() - reader.doc_count(),
                "segments": len(_leaves(reader)), "generation": gen.name, "size_mb": round(size / 2**20, 1)}

    # --- search -------------------------------------------------------------
    def search(self, query: str, page: int = 1, per_page: int = 10, sort: str = "relevance",
               date_from: datetime | str | None = None, date_to: datetime | str | None = None,
               mode: str = "all", facets: bool = False, snippet_chars: int = 240,
               category: str | None = None, highlight: bool = True) -> SearchResults:
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
        words it spells ("mặt trận", ``ime.decode_query``), with a notice.
        """
        started = time.perf_counter()
        args = (page, per_page, sort, date_from, date_to, mode, facets, snippet_chars, category, highlight, started)
        query = query if isinstance(query, str) else str(query)
        decoded, unknown = self._keystrokes(query)
        spelled = None
        if decoded is not None and unknown:
            # A word no article holds: the query as typed cannot have every word; skip it.
            spelled, spelled_relaxed = self._search(decoded, *args)
            if spelled.total and not spelled_relaxed:
                return self._as_spelled(spelled, query, decoded, started)
        results, relaxed = self._search(query, *args)
        if decoded is None:
            return results
        if spelled is None:
            spelled, spelled_relaxed = self._search(decoded, *args)
        # The words spelled win when the keystrokes find next to nothing, or far less.
        if spelled.total and not spelled_relaxed and (
                results.total < SUGGEST_BELOW or relaxed or spelled.total >= MORE_FREQUENT * results.total):
            return self._as_spelled(spelled, query, decoded, started)
        return results

    def _keystrokes(self, query: str) -> tuple[str | None, bool]:
        """``ime.decode_query`` over this index, and whether a decoded word as typed is
        in no article at all."""
        self._searcher()
        lexicon = self._local.lexicon
        unknown: list[str] = []

        def typed_frequency(word: str) -> int:
            df = lexicon.doc_frequency("body_fold", word)
            if not df:
                unknown.append(word)
            return df

        decoded = decode_query(query[:MAX_QUERY_CHARS], lambda s: lexicon.doc_frequency("body", s), typed_frequency,
                               common=max(3, lexicon.doc_count() * SUGGEST_RARE_SHARE))
        return decoded, bool(unknown)

    @staticmethod
    def _as_spelled(spelled: SearchResults, query: str, decoded: str, started: float) -> SearchResults:
        spelled.query = query[:MAX_QUERY_CHARS]
        spelled.notice = _join([f"Hiển thị kết quả cho “{decoded}”: chữ gõ khi tắt bộ gõ tiếng Việt (Telex, VNI). "
                                "Đặt trong ngoặc kép để tìm đúng chữ đã gõ.", spelled.notice or ""])
        spelled.took_ms = _ms(started)
        return spelled

    def _search(self, query: str, page, per_page, sort, date_from, date_to, mode, facets, snippet_chars, category,
                highlight, started: float) -> tuple[SearchResults, bool]:
        """``search`` of the query as typed, and whether it fell back to any word."""
        page, per_page = int(page), int(per_page)
        if page < 1 or not 1 <= per_page <= MAX_PER_PAGE or page * per_page > MAX_RESULTS_DEPTH:
            raise ValueError(f"page must be >= 1, per_page 1..{MAX_PER_PAGE}, page*per_page <= {MAX_RESULTS_DEPTH}")
        if sort not in SORTS:
            raise ValueError(f"sort must be one of {', '.join(SORTS)}")
        if mode not in ("all", "any"):
            raise ValueError("mode must be 'all' or 'any'")
        date_from, date_to = _bound(date_from, False), _bound(date_to, True)
        query = query if isinstance(query, str) else str(query)
        notices: list[str] = []
        if len(query) > MAX_QUERY_CHARS:
            query = query[:MAX_QUERY_CHARS]
            notices.append(f"Truy vấn quá dài; chỉ dùng {MAX_QUERY_CHARS} ký tự đầu.")
        node, parse_notices = parse(query)
        notices += parse_notices
        searcher = self._searcher()
        if not searcher.doc_count():  # a normal state (every article removed): say why nothing is found
            notices.append(EMPTY_INDEX_NOTICE)
        accented = has_diacritics(query)

        def make_plan(any_terms: bool):
            p = QueryBuilder(self._local.lexicon, self.acronyms, any_terms=any_terms, accented=accented,
                             prune=getattr(self._local, "segments", None) is None).build(node, date_from, date_to)
            if category:
                p.filter = _and_filter(p.filter, wq.Term("category", category))
            return p

        plan = make_plan(mode == "any")
        notices += plan.notices
        if plan.query is None and plan.filter is None:
            return SearchResults(query, 0, page, per_page, _ms(started), notice=_join(notices) or
                                 "Hãy nhập từ khoá để tìm kiếm."), False
        limit = _limit(page, per_page, plan)
        deadline = started + COLLECT_SECONDS
        found = self._collect(searcher, plan, limit, sort, facets, deadline, count=mode == "all")
        relaxed_used = False
        if found.total == 0 and mode == "all" and plan.clauses >= 2:
            relaxed = make_plan(True)
            relaxed_limit = _limit(page, per_page, relaxed)
            relaxed_found = self._collect(searcher, relaxed, relaxed_limit, sort, facets, deadline, count=False)
            if relaxed_found.total:
                notices.append("Không có bài nào chứa tất cả các từ; đang hiển thị các bài chứa một số từ.")
                plan, found, limit, relaxed_used = relaxed, relaxed_found, relaxed_limit, True
        if found.timed_out:
            notices.append(TIMED_OUT_NOTICE)
        total, relation = found.total, found.relation
        start = (page - 1) * per_page
        if plan.rescore and sort == "relevance":
            ranked = self._rescored(searcher, found.top, plan.rescore, started + RESCORE_SECONDS)
            page_hits = ranked[start:start + per_page]
        else:
            page_hits = found.top[start:start + per_page]
        hits = [self._hit(searcher, docnum, score, plan.highlighter if highlight else None, snippet_chars, sort)
                for docnum, score in page_hits]
        suggestion = None
        if total < SUGGEST_BELOW or relaxed_used:
            suggestion = self._suggest(searcher, query, plan.words)
        facet_counts = {}
        for name, groups in found.groups.items():
            facet_counts[name] = {str(k): v for k, v in sorted(groups.items(), key=lambda kv: (-kv[1], str(kv[0])))
                                  if k not in (None, "", 0, NO_YEAR)}  # NO_YEAR: Whoosh's "no date"
        return SearchResults(query, total, page, per_page, _ms(started), hits, suggestion, _join(notices), facet_counts,
                             relation), relaxed_used

    def _rescored(self, searcher, found: list[tuple[int, float]], queries: list,
                  deadline: float) -> list[tuple[int, float]]:
        """Add each rescore query's score to the candidates, reading their postings only.

        Past ``deadline`` the remaining bonuses are left out (for every candidate alike).
        """
        scores = dict(found)
        candidates = sorted(scores)
        segments = getattr(self._local, "segments", None)
        lexicon = self._local.lexicon
        for q in queries:
            if time.perf_counter() > deadline:
                break
            if isinstance(q, (AdjacentPairs, LeadTerms)):
                if segments is not None:
                    bonus = q.scores_from_arrays(lexicon, segments, candidates, WEIGHTING.K1, WEIGHTING.B)
                else:
                    bonus = q.scores(searcher, lexicon, candidates, WEIGHTING.K1, WEIGHTING.B)
                for docnum, value in bonus.items():
                    scores[docnum] += value
                continue
            if segments is not None:
                try:
                    docs, values = evaluate(q, lexicon, WEIGHTING, segments)
                except Unsupported:
                    pass
                else:
                    hit = np.isin(docs, candidates)
                    for docnum, value in zip(docs[hit].tolist(), values[hit].tolist()):
                        scores[docnum] += value
                    continue
            matcher = q.matcher(searcher)
            for docnum in on_candidates(matcher, candidates):
                scores[docnum] += matcher.score()
        order = self._id_order(searcher)
        return sorted(scores.items(), key=lambda kv: (-kv[1], order[kv[0]]))

    def _collect(self, searcher, plan, limit: int, sort: str, facets: bool, deadline: float,
                 count: bool) -> _Collected:
        """The top ``limit`` matches of ``plan``, their total and facets.

        Vectorised over the posting arrays when every segment has them (an exact
        total, in milliseconds); else by Whoosh's matchers, with a time budget.
        """
        q, flt = plan.query or wq.Every(), plan.filter
        # Filters join the query rather than using Whoosh's filter=: its counting pass
        # tests the filter bitset's truth per document, an O(documents) scan each time.
        # Date ranges score a constant, so ranking is unchanged.
        if flt is not None:
            q = flt if isinstance(q, wq.Every) else wq.And([q, flt])
        segments = getattr(self._local, "segments", None)
        if segments is not None:
            try:
                docs, scores = evaluate(q, self._local.lexicon, WEIGHTING, segments)
            except Unsupported:
                pass
            else:
                rank = self._id_order(searcher)
                if sort == "date":
                    dates = _per_doc(segments, docs, "date")
                    best = [(d, None) for d in by_date(docs, dates, limit, rank)]
                else:
                    best = top(docs, scores, limit, rank)
                groups = _facets(segments, docs) if facets else {}
                return _Collected(best, len(docs), "eq", False, groups)
        return self._collect_whoosh(searcher, q, limit, sort, facets, deadline, count)

    def _collect_whoosh(self, searcher, q, limit: int, sort: str, facets: bool, deadline: float,
                        count: bool) -> _Collected:
        # Whoosh keeps the lowest docnums among equal scores: collect past the limit until
        # the scores there differ, then order ties by id as the vectorised path does.
        wanted = limit + TIE_MARGIN if sort == "relevance" else limit
        results = self._run(searcher, q, wanted, sort, facets, deadline)
        while sort == "relevance" and wanted > limit and not results.timed_out \
                and results.scored_length() == wanted and results.score(limit - 1) == results.score(wanted - 1):
            wanted *= 4
            results = self._run(searcher, q, wanted, sort, facets, deadline)
        relation = "approx"
        if results.timed_out:
            total = max(results.estimated_length(), results.scored_length())
        elif results.scored_length() < wanted:
            total, relation = results.scored_length(), "eq"  # every match was collected: no second pass
        elif count:
            # Readers see this number: exact up to COUNT_LIMIT, if counting fits in time.
            counted = _count_within(searcher, results.q, min(time.perf_counter() + COUNT_SECONDS,
                                                             deadline + COUNT_SECONDS), COUNT_LIMIT)
            if counted is None:
                total = max(results.estimated_length(), results.scored_length())
            else:
                total, relation = counted, ("gte" if counted >= COUNT_LIMIT else "eq")
        else:
            # An any-word query matches most of the index; counting it exactly would
            # cost a second pass, so its total is Whoosh's estimate.
            total = max(results.estimated_length(), results.scored_length())
        groups = {name: results.groups(name) for name in ("year", "category")} if facets else {}
        # scored_length(), not len(): len() runs Whoosh's full counting pass.
        found = [(h.docnum, h.score) for h in results]
        if sort == "relevance":
            order = self._id_order(searcher)
            found = sorted(found, key=lambda ds: (-ds[1], order[ds[0]]))[:limit]
        return _Collected(found, total, relation, results.timed_out, groups)

    def _run(self, searcher, q, limit: int, sort: str, facets: bool, deadline: float):
        kwargs = {"limit": limit, "terms": False}
        if sort == "date":  # equal dates in id order
            kwargs["sortedby"] = [sorting.FieldFacet("date", reverse=True), sorting.FieldFacet("id")]
        if facets:
            kwargs["groupedby"] = {
                "year": sorting.FieldFacet("year", maptype=sorting.Count),
                "category": sorting.FieldFacet("category", maptype=sorting.Count),
            }
        collector = _Deadline(searcher.collector(**kwargs), deadline)
        try:
            searcher.search_with_collector(q, collector)
        except collectors.TimeLimit:
            pass
        except (IndexError, AssertionError):
            # Whoosh 2.7's block-quality skipping (skip_to_quality in its binary
            # matchers) can step past the end of a posting block on some query
            # shapes; the same search without that optimisation is correct.
            collector = _Deadline(_without_block_quality(searcher.collector(**kwargs)), deadline)
            try:
                searcher.search_with_collector(q, collector)
            except collectors.TimeLimit:
                pass
        results = collector.results()
        results.timed_out = collector.timed_out
        return results

    def _hit(self, searcher, docnum: int, score: float | None, highlighter: Highlighter | None,
             snippet_chars: int, sort: str) -> Hit:
        stored = searcher.stored_fields(docnum)
        title = stored.get("title", "")
        score = round(score, 4) if score is not None and sort == "relevance" else None
        if highlighter is None:
            return Hit(id=stored["id"], title=title, date=_date_text(stored), score=score,
                       url=stored.get("url") or stored.get("path") or "", snippet="")
        return Hit(
            id=stored["id"], title=title, date=_date_text(stored), score=score,
            url=stored.get("url") or stored.get("path") or "",
            snippet=highlighter.snippet(stored.get("body", ""), maxchars=snippet_chars),
            title_html=highlighter.mark(title), author=stored.get("author", ""),
            source=stored.get("source", ""), category=stored.get("category", ""),
        )

    def _suggest(self, searcher, query: str, words: list[tuple[str, str, bool]]) -> str | None:
        """Replace rare words with close, frequent ones: 'mat tran to qoc' -> 'mat tran to quoc'.

        Rare words a reader means are left alone: one the index holds that is spelled
        as a Vietnamese syllable can be ("Phên giậu", "cá mó gù": correcting them to
        frequent neighbours, "phần giấu", is the suggestion readers laugh at), and one
        the index holds that was typed capitalised (a name, a brand, an acronym:
        "Lady Gaga", "Dell XPS").  Candidates are ranked by ``_typo_preferences``,
        then frequency.  Measured by ``bench/suggest.py``.
        """
        reader = self._local.lexicon  # folded fields included
        suggestion = query
        changed = False
        rare = max(3, reader.doc_count() * SUGGEST_RARE_SHARE)
        for n, (typed, syllable, folded) in enumerate(words):
            fieldname = "body_fold" if folded else "body"
            freq = reader.doc_frequency(fieldname, syllable)
            # A syllable has at most 7 letters; edit distance on a longer "word" (a URL,
            # a pasted blob) is not worth computing.
            if freq >= rare or not 2 <= len(syllable) <= SUGGEST_MAX_CHARS:
                continue
            if SUGGEST_BY_SPELLING:
                held = freq or reader.doc_frequency("title_fold" if folded else "title", syllable)
                if held and (is_well_spelled(syllable) or typed[:1].isupper()):
                    continue
            better = max(2, freq * 5) if freq < 3 else freq * SUGGEST_POPULAR
            best = None
            for maxdist in (1, 2) if len(syllable) >= 5 else (1,):
                close = (reader.close_terms(fieldname, syllable, maxdist, prefix=1) if SUGGEST_BY_SPELLING
                         else reader.terms_within(fieldname, syllable, maxdist, prefix=1))
                candidates = [(reader.doc_frequency(fieldname, t), t) for t in close if t != syllable]
                candidates = [c for c in candidates if c[0] > better]
                if candidates:
                    if SUGGEST_BY_SPELLING:
                        prefer = _typo_preferences(reader, syllable, folded, words[n - 1][1] if n else None,
                                                   words[n + 1][1] if n + 1 < len(words) else None)
                        best = max(candidates, key=lambda c: (*prefer(c[1]), c[0]))[1]
                    else:
                        best = max(candidates, key=lambda c: (fold(c[1]) == fold(syllable), c[0]))[1]
                    break
            if best:
                suggestion = suggestion.replace(typed, _same_case(best, typed), 1)
                changed = True
        return suggestion if changed and suggestion != query else None

    def highlighter(self, query: str) -> Highlighter:
        """What ``query`` would mark: ``.mark(text)`` / ``.snippet(text)`` give escaped HTML."""
        highlighter = None
        decoded, _ = self._keystrokes(query)
        for text in (query, decoded) if decoded else (query,):  # keystrokes: also the words they spell
            node, _ = parse(text[:MAX_QUERY_CHARS])
            built = QueryBuilder(self._local.lexicon, self.acronyms, accented=has_diacritics(text)).build(node).highlighter
            if highlighter is None:
                highlighter = built
            else:
                highlighter.patterns |= built.patterns
        return highlighter

    # --- articles -------------------------------------------------------------
    def get(self, doc_id: str) -> Article | None:
        """The stored article with this id, or None."""
        searcher = self._searcher()
        stored = searcher.document(id=doc_id)
        if stored is None:
            return None
        return Article(id=stored["id"], title=stored.get("title", ""), body=stored.get("body", ""),
                       date=_date_text(stored), author=stored.get("author", ""),
                       source=stored.get("source", ""), category=stored.get("category", ""),
                       url=stored.get("url", ""), path=stored.get("path", ""))

    def related(self, doc_id: str, limit: int = 5) -> list[Hit]:
        """Articles most like this one: Whoosh's more-like-this over body syllables (its
        Bo1 key terms, its query), ranked on the posting arrays like any search; Whoosh's
        matchers took 1-3 s for it on the full corpus, and the article page waited."""
        searcher = self._searcher()
        docnum = searcher.document_number(id=doc_id)
        if docnum is None:
            return []
        stored = searcher.stored_fields(docnum)
        text = (stored.get("title", "") + "\n") * 2 + stored.get("body", "")[:20_000]
        terms = searcher.key_terms_from_text("body", text, numterms=25, normalize=False)  # as more_like
        if not terms:
            return []
        q = wq.Or([wq.Term("body", word, boost=weight) for word, weight in terms])
        plan = SimpleNamespace(query=q, filter=None)
        deadline = time.perf_counter() + COLLECT_SECONDS
        found = self._collect(searcher, plan, limit + 1, "relevance", False, deadline, count=False)
        best = [(d, score) for d, score in found.top if d != docnum][:limit]  # more_like masks the article
        empty = Highlighter()
        return [self._hit(searcher, d, score, empty, 160, "relevance") for d, score in best]

    def complete(self, prefix: str, limit: int = 8) -> list[str]:
        """Completions of the last word being typed, most frequent first."""
        words = prefix.split()
        if not words or prefix[-1:].isspace():
            return []
        last = analyze(words[-1], words=False).syllables
        if not last:
            return []
        stem = last[-1]
        head = prefix[: len(prefix) - len(words[-1])]
        fieldname = "title" if has_diacritics(stem) else "title_fold"
        self._searcher()
        reader = self._local.lexicon  # folded fields included
        found = reader.prefix_frequencies(fieldname, stem, 2000)
        found.sort(key=lambda ft: (-ft[0], ft[1]))
        return [head + t for _, t in found[:limit]]


def _leaves(reader) -> list:
    """The reader's segments as (reader, docnum offset): none for an index with no articles,
    where Whoosh gives one segment-less ``EmptyReader`` (its ``segment()`` is None)."""
    return [(leaf, offset) for leaf, offset in reader.leaf_readers() if leaf.segment() is not None]


def _per_doc(segments: list[Segment], docs: np.ndarray, column: str) -> np.ndarray:
    """A per-document array (``date``, ``year``, ``category``) at global ``docs``."""
    out = np.zeros(len(docs), dtype=getattr(segments[0].arrays, column).dtype) if segments else np.zeros(0)
    for seg in segments:
        inside = (docs >= seg.offset) & (docs < seg.offset + seg.arrays.doc_count)
        out[inside] = getattr(seg.arrays, column)[docs[inside] - seg.offset]
    return out


def _facets(segments: list[Segment], docs: np.ndarray) -> dict[str, dict]:
    """Matches per year and per category (as Whoosh's Count facets report them)."""
    years: dict = {}
    categories: dict = {}
    for seg in segments:
        local = docs[(docs >= seg.offset) & (docs < seg.offset + seg.arrays.doc_count)] - seg.offset
        values, counts = np.unique(seg.arrays.year[local], return_counts=True)
        for v, c in zip(values.tolist(), counts.tolist()):
            if v == NO_YEAR:
                continue
            years[v] = years.get(v, 0) + c
        codes, counts = np.unique(seg.arrays.category[local], return_counts=True)
        for code, c in zip(codes.tolist(), counts.tolist()):
            name = seg.arrays.categories[code]
            categories[name] = categories.get(name, 0) + c
    return {"year": years, "category": categories}


def _limit(page: int, per_page: int, plan) -> int:
    """How many top matches to collect: the page, or the rescore window if larger."""
    return max(page * per_page, RESCORE_WINDOW if plan.rescore else 0)


def _and_filter(a: wq.Query | None, b: wq.Query) -> wq.Query:
    return b if a is None else wq.And([a, b])


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def _join(notices: list[str]) -> str | None:
    notices = list(dict.fromkeys(n for n in notices if n))
    return " ".join(notices) if notices else None


def _bound(value: datetime | str | None, end: bool) -> datetime | None:
    from .parser import parse_date_bound

    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    parsed = parse_date_bound(str(value), end=end)
    if parsed is None:
        raise ValueError(f"invalid date {value!r}; use YYYY, YYYY-MM or YYYY-MM-DD")
    return parsed


def open_index(index_dir: str | Path = DEFAULT_INDEX_DIR, acronyms_path: str | Path | None = None) -> Index:
    """An :class:`Index` on ``index_dir`` (which need not be built yet)."""
    return Index(index_dir, acronyms_path)
