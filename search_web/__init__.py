"""The search page, article page and JSON API.

``create_app(index_dir=...)`` is a Flask application factory (as in Flask's
tutorial).  The app only talks to the engine's public API (``indexer``);
it never opens Whoosh itself.  Run it with ``vnsearch serve`` (waitress) or
``flask --app search_web run`` for development.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import cast
from urllib.parse import urlsplit, urlunsplit

from flask import Flask, jsonify, render_template, request
from flask.json.provider import DefaultJSONProvider

from indexer import DEFAULT_INDEX_DIR, MAX_PER_PAGE, IndexBusyError, NoIndexError, open_index

__all__ = ["create_app"]

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def create_app(index_dir: str | os.PathLike | None = None, test_config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(
        INDEX_DIR=str(index_dir or os.environ.get("VNSEARCH_INDEX_DIR", DEFAULT_INDEX_DIR)),
        PER_PAGE=10,
        MAX_PER_PAGE=MAX_PER_PAGE,  # the engine's one limit, the CLI's --limit too
        JSON_AS_ASCII=False,
    )
    if test_config:
        app.config.update(test_config)
    cast(DefaultJSONProvider, app.json).ensure_ascii = False  # Flask's default provider, typed as its base
    # Werkzeug redirects "/article//x" to "/article/x" (merge_slashes), absolute, on the
    # Host header's host: off, so such a path is matched as typed (an id "/x" is refused).
    app.url_map.merge_slashes = False
    app.extensions["vnsearch"] = open_index(app.config["INDEX_DIR"])

    from . import views

    app.register_blueprint(views.bp)

    @app.after_request
    def security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.after_request
    def relative_redirects(response):
        """A redirect Werkzeug builds (a missing trailing slash, merged slashes) names the
        Host header's host, which the client chose: send it as a path instead."""
        location = response.headers.get("Location")
        if location:
            response.headers["Location"] = _relative(location, request.host)
        return response

    @app.template_filter("vndate")
    def vndate(value: str | None) -> str:
        """'2019-09-27T18:20' -> '27/09/2019 18:20' (how Vietnamese readers write dates)."""
        if not value:
            return ""
        try:
            d = datetime.fromisoformat(value)
        except ValueError:
            return value
        day = f"{d.day:02d}/{d.month:02d}/{d.year:04d}"  # strftime writes the year 999 as "999"
        return f"{day} {d.hour:02d}:{d.minute:02d}" if "T" in value else day

    @app.template_filter("vnnum")
    def vnnum(value: int | float | None) -> str:
        """1234 -> '1.234': Vietnamese digit grouping, the same for every number on a page."""
        if value is None:
            return ""
        return f"{round(value):,}".replace(",", ".")

    def _wants_json() -> bool:
        return request.path.startswith("/api/")

    @app.errorhandler(404)
    def not_found(error):
        if _wants_json():
            return jsonify(error="không tìm thấy", code="not_found"), 404
        return render_template("error.html", status=404, message="Không tìm thấy trang hoặc bài viết này."), 404

    @app.errorhandler(405)
    def method_not_allowed(error):
        if _wants_json():
            return jsonify(error="phương thức không được hỗ trợ", code="method_not_allowed"), 405
        return render_template("error.html", status=405, message="Phương thức không được hỗ trợ."), 405

    @app.errorhandler(NoIndexError)
    @app.errorhandler(IndexBusyError)
    def index_unavailable(error):
        """Anticipated: no index yet, or one being replaced; 503, never a 500."""
        message = "Chưa có chỉ mục. Hãy chạy: vnsearch index seeds" if isinstance(error, NoIndexError) \
            else "Chỉ mục đang được cập nhật. Vui lòng thử lại sau."
        if _wants_json():
            return jsonify(error=message, code="no_index" if isinstance(error, NoIndexError) else "index_busy"), 503
        return render_template("error.html", status=503, message=message), 503

    @app.errorhandler(500)
    def server_error(error):  # pragma: no cover - a bug; the reader still gets a page
        if _wants_json():
            return jsonify(error="lỗi máy chủ", code="server_error"), 500
        return render_template("error.html", status=500, message="Đã có lỗi xảy ra. Vui lòng thử lại."), 500

    return app


def _relative(location: str, host: str) -> str:
    """``location`` as a path if it points at ``host`` (or has no scheme); never "//…",
    which a browser reads as another host."""
    parts = urlsplit(location)
    if parts.netloc and parts.netloc.lower() != host.lower():
        return location  # a deliberate redirect elsewhere (the app makes none today)
    path = "/" + parts.path.lstrip("/\\") if parts.path.startswith(("/", "\\")) else parts.path
    return urlunsplit(("", "", path, parts.query, parts.fragment))
