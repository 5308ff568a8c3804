"""The search page, article page and JSON API.

``create_app(index_dir=...)`` is a Flask application factory (as in Flask's
tutorial).  The app only talks to the engine's public API (``indexer``);
it never opens Whoosh itself.  Run it with ``vnsearch serve`` (waitress) or
``flask --app search_web run`` for development.
"""

from __future__ import annotations

import os
from datetime import datetime

from flask import Flask, jsonify, render_template, request

from indexer import DEFAULT_INDEX_DIR, open_index

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
        MAX_PER_PAGE=50,
        JSON_AS_ASCII=False,
    )
    if test_config:
        app.config.update(test_config)
    app.json.ensure_ascii = False
    app.extensions["vnsearch"] = open_index(app.config["INDEX_DIR"])

    from . import views

    app.register_blueprint(views.bp)

    @app.after_request
    def security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
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
        return d.strftime("%d/%m/%Y %H:%M") if "T" in value else d.strftime("%d/%m/%Y")

    def _wants_json() -> bool:
        return request.path.startswith("/api/")

    @app.errorhandler(404)
    def not_found(error):
        if _wants_json():
            return jsonify(error="không tìm thấy"), 404
        return render_template("error.html", status=404, message="Không tìm thấy trang hoặc bài viết này."), 404

    @app.errorhandler(405)
    def method_not_allowed(error):
        if _wants_json():
            return jsonify(error="phương thức không được hỗ trợ"), 405
        return render_template("error.html", status=405, message="Phương thức không được hỗ trợ."), 405

    @app.errorhandler(500)
    def server_error(error):  # pragma: no cover - a bug; the reader still gets a page
        if _wants_json():
            return jsonify(error="lỗi máy chủ"), 500
        return render_template("error.html", status=500, message="Đã có lỗi xảy ra. Vui lòng thử lại."), 500

    return app
