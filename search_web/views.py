"""Routes: the search page, the article page, the JSON API and a health check."""

from __future__ import annotations

import os
import re
from datetime import datetime
from functools import partial
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, render_template, request, url_for
from markupsafe import Markup

from indexer import MAX_QUERY_CHARS, SORTS, NoIndexError, id_problem

from .overview import overview

bp = Blueprint("search", __name__)

MAX_PARAM_CHARS = 200  # any parameter but the query (dates, year, category, sort, page...)
MAX_SUGGEST_CHARS = 200  # what type-ahead completes
# The JSON API's errors: {"error": a Vietnamese message for readers, "code": one of these, stable, for programs}.
BAD_PARAMETER, QUERY_TOO_LONG, NO_INDEX = "bad_parameter", "query_too_long", "no_index"
NO_INDEX_MESSAGE = "Chưa có chỉ mục. Hãy chạy: vnsearch index seeds"
# What a search page is: carried by every link of the page (pages, facets, did-you-mean) and
# through an article's link and back ("« Quay lại kết quả").
SEARCH_PARAMS = ("q", "page", "per_page", "sort", "mode", "from", "to", "year", "category", "as_typed")
_VN_DAY = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4})")  # 27/09/2019, 27-09-2019, 27.09.2019
_VN_MONTH = re.compile(r"(\d{1,2})[/.-](\d{4})")
_ISO = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")


def engine():
    return current_app.extensions["vnsearch"]


class BadRequest(ValueError):
    def __init__(self, message: str, code: str = BAD_PARAMETER, name: str = ""):
        super().__init__(message)
        self.code = code
        self.name = name  # the parameter at fault


def _int(params, name: str, default: int, low: int, high: int | None = None) -> int:
    raw = params.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"'{name}' phải là số nguyên", name=name) from None
    if value < low or (high is not None and value > high):
        raise BadRequest(f"'{name}' phải trong khoảng {low}..{high if high is not None else '∞'}", name=name)
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
        raise BadRequest(f"'sort' phải là một trong: {', '.join(SORTS)}", name="sort")
    mode = params.get("mode", "all") or "all"
    if mode not in ("all", "any"):
        raise BadRequest("'mode' phải là 'all' hoặc 'any'", name="mode")
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
            raise BadRequest("'year' phải có dạng YYYY", name="year")
        if not (args["date_from"] or args["date_to"]):  # dates typed in the form win over a year facet
            args["date_from"] = args["date_to"] = year
    return args


def page_date(value: str) -> tuple[str, str]:
    """A date typed on the page, as (what the engine and the links take, what the box shows):
    '27/9/2019' or '2019-09-27' -> ('2019-09-27', '27/09/2019'); '9/2019' or '2019-09' ->
    ('2019-09', '09/2019'); '2019' -> ('2019', '2019').  Raises BadRequest for anything else,
    or a day that does not exist (31/02/2020)."""
    text = value.strip()
    if m := _VN_DAY.fullmatch(text):
        day, _, month, year = m.groups()
    elif m := _VN_MONTH.fullmatch(text):
        (month, year), day = m.groups(), None
    elif m := _ISO.fullmatch(text):
        year, month, day = m.groups()
    else:
        raise BadRequest(f"“{text}” không phải ngày dạng dd/mm/yyyy")
    try:
        when = datetime(int(year), int(month or 1), int(day or 1))
    except ValueError:
        raise BadRequest(f"“{text}” không phải ngày có thật") from None
    y = f"{when.year:04d}"  # strftime writes the year 999 as "999", which no date parser reads back
    if day:
        return f"{y}-{when.month:02d}-{when.day:02d}", f"{when.day:02d}/{when.month:02d}/{y}"
    if month:
        return f"{y}-{when.month:02d}", f"{when.month:02d}/{y}"
    return y, y


def _page_params(params: dict[str, str], errors: list[str], notes: list[str]) -> tuple[dict, dict[str, str]]:
    """The page's search arguments and the search's parameters as its links carry them
    (dates as yyyy-mm-dd), each invalid parameter left out with a word in ``errors``: the
    page never fails on one (a bad date drops that date, not the whole search)."""
    params = dict(params)
    for name, label in (("from", "Từ ngày"), ("to", "Đến ngày")):
        if not params.get(name, "").strip():
            params.pop(name, None)
            continue
        try:
            params[name] = page_date(params[name])[0]
        except BadRequest as exc:
            errors.append(f"{label}: {exc}")
            params.pop(name)
    if params.get("from") and params.get("to") and params["from"] > params["to"]:
        params["from"], params["to"] = params["to"], params["from"]
        notes.append("“Từ ngày” sau “Đến ngày”: đã đổi chỗ hai ngày.")
    if params.get("from") or params.get("to"):
        params.pop("year", None)  # dates typed in the form win over a year chosen before
    while True:
        try:
            args = _search_args(params, current_app.config["MAX_PER_PAGE"], long_query=True)
            break
        except BadRequest as exc:
            errors.append(str(exc))
            if exc.name not in params:  # a problem of no one parameter: the query alone
                args = {"query": params.get("q", ""), "page": 1, "per_page": current_app.config["PER_PAGE"]}
                params = {"q": params.get("q", "")}
                break
            params.pop(exc.name)
    # Echoed in the box, the title and every link: at most MAX_QUERY_CHARS of the query (a
    # 240 KB query made a 3.85 MB page); the engine searches that much and says it cut it.
    state = {k: params.get(k, "")[:MAX_QUERY_CHARS] for k in SEARCH_PARAMS}
    if state["page"] == "1":
        state["page"] = ""
    return args, state


def search_link(state: dict[str, str], drop: tuple[str, ...] = ("page",), endpoint: str = "search.index",
                **changes) -> str:
    """A link to the search ``state`` (``SEARCH_PARAMS``), without ``drop``, with ``changes``."""
    values: dict[str, Any] = {k: v for k, v in state.items() if k not in drop}
    values.update(changes)
    return url_for(endpoint, **{k: v for k, v in values.items() if v not in (None, "")})


def _search_state() -> dict[str, str]:
    """The search an article was opened from, as its link passed it on (each parameter cut)."""
    params = _params()
    return {k: params.get(k, "")[:MAX_QUERY_CHARS] for k in SEARCH_PARAMS}


@bp.get("/")
def index():
    errors: list[str] = []
    notes: list[str] = []
    args, state = _page_params(_params(), errors, notes)
    error = " ".join(([f"Đã bỏ qua tham số không hợp lệ: {'; '.join(errors)}."] if errors else []) + notes) or None
    form = dict(state, **{k: _shown_date(state[k]) for k in ("from", "to")})
    results = None
    status = 200
    indexed = engine().count()
    if args["query"].strip() or args.get("category") or args.get("date_from") or args.get("date_to"):
        try:
            results = engine().search(facets=True, **args)
        except ValueError as exc:  # the engine's BadSearchArgument (a page too deep): its Vietnamese message
            error = f"Tham số không hợp lệ: {getattr(exc, 'message_vi', exc)}"
            args.update(page=1, per_page=current_app.config["PER_PAGE"])
            state.update(page="", per_page="")  # the links, too, go back to the first page
            try:
                results = engine().search(facets=True, **args)
            except ValueError:
                results = engine().search(args["query"], facets=True)
            status = 400
        except NoIndexError:
            error = NO_INDEX_MESSAGE
    home = overview(engine()) if results is None else None
    return render_template("index.html", form=form, results=results, error=error, indexed=indexed,
                           home=home, link=partial(search_link, state), index_exists=engine().exists(),
                           pages=_page_window(results) if results else []), status


def _shown_date(value: str) -> str:
    """A date of the links (yyyy-mm-dd) as the box shows it (dd/mm/yyyy)."""
    try:
        return page_date(value)[1] if value else ""
    except BadRequest:  # not one the page wrote: shown as it is
        return value


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
    state = _search_state()
    return render_template("article.html", article=art, title=title, paragraphs=paragraphs, related=related, q=q,
                           back=search_link(state, drop=()), searched=any(state.values()),
                           link=partial(search_link, state, ()))


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
    return jsonify(status="ok", articles=ix.count(), index=ix.exists(), worker=os.getpid(),
                   time=datetime.now().isoformat(timespec="seconds"))
