"""Routes: the search page, the article page, the JSON API and a health check."""

from __future__ import annotations

import re
from datetime import datetime

from flask import Blueprint, abort, current_app, jsonify, render_template, request
from markupsafe import Markup

from indexer import NoIndexError
from indexer.search import MAX_QUERY_CHARS, SORTS

bp = Blueprint("search", __name__)

MAX_ID_CHARS = 512
_BAD_ID_RE = re.compile(r"[\x00-\x1f\x7f]|(^|/)\.\.(/|$)|^/|\\")


def engine():
    return current_app.extensions["vnsearch"]


class BadRequest(ValueError):
    pass


def _int(name: str, default: int, low: int, high: int | None = None) -> int:
    raw = request.args.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"'{name}' phải là số nguyên") from None
    if value < low or (high is not None and value > high):
        raise BadRequest(f"'{name}' phải trong khoảng {low}..{high if high is not None else '∞'}")
    return value


def _search_args(max_per_page: int) -> dict:
    """Validated search parameters from the query string; raises BadRequest."""
    q = request.args.get("q", "")
    if len(q) > MAX_QUERY_CHARS:
        raise BadRequest(f"truy vấn dài quá {MAX_QUERY_CHARS} ký tự")
    sort = request.args.get("sort", "relevance") or "relevance"
    if sort not in SORTS:
        raise BadRequest(f"'sort' phải là một trong: {', '.join(SORTS)}")
    mode = request.args.get("mode", "all") or "all"
    if mode not in ("all", "any"):
        raise BadRequest("'mode' phải là 'all' hoặc 'any'")
    args = {
        "query": q,
        "page": _int("page", 1, 1, 1000),
        "per_page": _int("per_page", current_app.config["PER_PAGE"], 1, max_per_page),
        "sort": sort,
        "mode": mode,
        "date_from": request.args.get("from") or None,
        "date_to": request.args.get("to") or None,
        "category": request.args.get("category") or None,
    }
    year = request.args.get("year", "")
    if year:
        if not re.fullmatch(r"\d{4}", year):
            raise BadRequest("'year' phải có dạng YYYY")
        args["date_from"] = args["date_to"] = year
    return args


@bp.get("/")
def index():
    form = {k: request.args.get(k, "") for k in ("q", "sort", "from", "to", "year", "category")}
    error = None
    results = None
    try:
        args = _search_args(current_app.config["MAX_PER_PAGE"])
    except BadRequest as exc:
        # The page never fails on a bad parameter: search plainly and say what was ignored.
        error = f"Đã bỏ qua tham số không hợp lệ: {exc}."
        args = {"query": form["q"][:MAX_QUERY_CHARS], "page": 1, "per_page": current_app.config["PER_PAGE"]}
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
                           pages=_page_window(results) if results else []), status


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


def _check_id(doc_id: str) -> None:
    if len(doc_id) > MAX_ID_CHARS or _BAD_ID_RE.search(doc_id):
        abort(404)


@bp.get("/article/<path:doc_id>")
def article(doc_id: str):
    _check_id(doc_id)
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
        args = _search_args(current_app.config["MAX_PER_PAGE"])
        results = engine().search(**args)
    except (BadRequest, ValueError) as exc:
        return jsonify(error=str(exc)), 400
    except NoIndexError:
        return jsonify(error="chưa có chỉ mục"), 503
    return jsonify(results.to_dict())


@bp.get("/api/suggest")
def api_suggest():
    q = request.args.get("q", "")
    if len(q) > 200:
        return jsonify(error="truy vấn dài quá 200 ký tự"), 400
    try:
        suggestions = engine().complete(q) if q.strip() else []
    except NoIndexError:
        suggestions = []
    return jsonify(query=q, suggestions=suggestions)


@bp.get("/healthz")
def healthz():
    ix = engine()
    return jsonify(status="ok", articles=ix.count(), index=ix.exists(), time=datetime.now().isoformat(timespec="seconds"))
