"""Routes: the search page, the article page, the JSON API and a health check."""

from __future__ import annotations

import re
from datetime import datetime

from flask import Blueprint, abort, current_app, jsonify, render_template, request
from markupsafe import Markup

from indexer import MAX_QUERY_CHARS, SORTS, NoIndexError, id_problem

bp = Blueprint("search", __name__)

MAX_PARAM_CHARS = 200  # any parameter but the query (dates, year, category, sort, page...)
MAX_SUGGEST_CHARS = 200  # what type-ahead completes
# The JSON API's errors: {"error": a Vietnamese message for readers, "code": one of these, stable, for programs}.
BAD_PARAMETER, QUERY_TOO_LONG, NO_INDEX = "bad_parameter", "query_too_long", "no_index"
NO_INDEX_MESSAGE = "Chưa có chỉ mục. Hãy chạy: vnsearch index seeds"


def engine():
    return current_app.extensions["vnsearch"]


class BadRequest(ValueError):
    def __init__(self, message: str, code: str = BAD_PARAMETER):
        super().__init__(message)
        self.code = code


def _int(params, name: str, default: int, low: int, high: int | None = None) -> int:
    raw = params.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"'{name}' phải là số nguyên") from None
    if value < low or (high is not None and value > high):
        raise BadRequest(f"'{name}' phải trong khoảng {low}..{high if high is not None else '∞'}")
    return value


def _params() -> dict[str, str]:
    """The query string, each parameter but ``q`` cut to MAX_PARAM_CHARS: they are echoed
    in pages and error messages, and no valid one is longer."""
    return {k: v if k == "q" else v[:MAX_PARAM_CHARS] for k, v in request.args.items()}


def _search_args(params, max_per_page: int, long_query: bool = False) -> dict:
    """Validated search parameters; raises BadRequest.  ``long_query``: a query over
    MAX_QUERY_CHARS is searched (the engine cuts it, with a notice) instead of refused."""
    q = params.get("q", "")
    if len(q) > MAX_QUERY_CHARS and not long_query:
        raise BadRequest(f"truy vấn dài quá {MAX_QUERY_CHARS} ký tự", QUERY_TOO_LONG)
    sort = params.get("sort", "relevance") or "relevance"
    if sort not in SORTS:
        raise BadRequest(f"'sort' phải là một trong: {', '.join(SORTS)}")
    mode = params.get("mode", "all") or "all"
    if mode not in ("all", "any"):
        raise BadRequest("'mode' phải là 'all' hoặc 'any'")
    args = {
        "query": q,
        "page": _int(params, "page", 1, 1, 1000),
        "per_page": _int(params, "per_page", current_app.config["PER_PAGE"], 1, max_per_page),
        "sort": sort,
        "mode": mode,
        "date_from": params.get("from") or None,
        "date_to": params.get("to") or None,
        "category": params.get("category") or None,
        "as_typed": params.get("as_typed", ""),
    }
    year = params.get("year", "")
    if year:
        if not re.fullmatch(r"\d{4}", year):
            raise BadRequest("'year' phải có dạng YYYY")
        args["date_from"] = args["date_to"] = year
    return args


@bp.get("/")
def index():
    params = _params()
    # Echoed in the box, the title and every link: at most MAX_QUERY_CHARS of the query (a
    # 240 KB query made a 3.85 MB page); the engine searches that much and says it cut it.
    form = {k: params.get(k, "")[:MAX_QUERY_CHARS] for k in ("q", "sort", "from", "to", "year", "category", "as_typed")}
    error = None
    results = None
    try:
        args = _search_args(params, current_app.config["MAX_PER_PAGE"], long_query=True)
    except BadRequest as exc:
        # The page never fails on a bad parameter: search plainly and say what was ignored.
        error = f"Đã bỏ qua tham số không hợp lệ: {exc}."
        args = {"query": params.get("q", ""), "page": 1, "per_page": current_app.config["PER_PAGE"]}
    status = 200
    indexed = engine().count()
    if args["query"].strip() or args.get("year") or args.get("category") or args.get("date_from"):
        try:
            results = engine().search(facets=True, **args)
        except ValueError as exc:
            error = f"Tham số không hợp lệ: {exc}"
            results = engine().search(args["query"], facets=True)
            status = 400
        except NoIndexError:
            error = "Chưa có chỉ mục. Hãy chạy: vnsearch index seeds"
    return render_template("index.html", form=form, results=results, error=error, indexed=indexed,
                           index_exists=engine().exists(), pages=_page_window(results) if results else []), status


def _page_window(results, width: int = 2) -> list[int | None]:
    """Page numbers to show: 1 … 4 5 [6] 7 8 … 20."""
    last = results.pages
    shown = sorted({1, last, *range(max(1, results.page - width), min(last, results.page + width) + 1)})
    out: list[int | None] = []
    for n in shown:
        if out and n - out[-1] > 1:
            out.append(None)
        out.append(n)
    return out


@bp.get("/article/<path:doc_id>")
def article(doc_id: str):
    if id_problem(doc_id):  # the indexer's policy: such an id is never indexed
        abort(404)
    try:
        art = engine().get(doc_id)
    except NoIndexError:
        abort(404)
    if art is None:
        abort(404)
    q = request.args.get("q", "")[:MAX_QUERY_CHARS]
    if q.strip():
        hl = engine().highlighter(q)
        title = Markup(hl.mark(art.title))
        paragraphs = [Markup(hl.mark(p)) for p in art.paragraphs]
    else:
        title = art.title
        paragraphs = art.paragraphs
    related = engine().related(doc_id, limit=5)
    return render_template("article.html", article=art, title=title, paragraphs=paragraphs,
                           related=related, q=q)


@bp.get("/api/search")
def api_search():
    try:
        params = _params()
        args = _search_args(params, current_app.config["MAX_PER_PAGE"])
        results = engine().search(explain=params.get("explain", ""), **args)  # explain: how each hit scored
    except BadRequest as exc:
        return jsonify(error=str(exc), code=exc.code), 400
    except ValueError as exc:  # what the engine refused (a BadSearchArgument): its message in Vietnamese
        return jsonify(error=getattr(exc, "message_vi", "tham số không hợp lệ"), code=BAD_PARAMETER), 400
    except NoIndexError:
        return jsonify(error=NO_INDEX_MESSAGE, code=NO_INDEX), 503
    data = results.to_dict()
    for hit in data["hits"]:  # the page's path where the app is mounted
        hit["page_url"] = request.script_root + hit["page_url"]
    return jsonify(data)


@bp.get("/api/suggest")
def api_suggest():
    q = request.args.get("q", "")
    if len(q) > MAX_SUGGEST_CHARS:
        return jsonify(error=f"truy vấn dài quá {MAX_SUGGEST_CHARS} ký tự", code=QUERY_TOO_LONG), 400
    try:
        suggestions = engine().complete(q) if q.strip() else []
    except NoIndexError:
        suggestions = []
    return jsonify(query=q, suggestions=suggestions)


@bp.get("/healthz")
def healthz():
    ix = engine()
    return jsonify(status="ok", articles=ix.count(), index=ix.exists(),
                   time=datetime.now().isoformat(timespec="seconds"))
