"""Issue 22: the JSON the CLI (``--json``) and the web API (``/api/search``, ``/api/suggest``,
``/healthz``) give, over real HTTP from ``vnsearch serve``'s server and the real CLI."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest

from .test_cli import vnsearch


@pytest.fixture(scope="module")
def live(shared_index):
    """The web app over the shared index, served by the guarded waitress server on a real socket."""
    from search_web import create_app
    from search_web.server import Limits, Server

    server = Server(create_app(index_dir=shared_index.index_dir), "127.0.0.1", 0, threads=2, limits=Limits())
    server.listen()
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.addresses[0][1]}"
    server.stop()
    thread.join(timeout=10)


def get(url: str, path: str, **params) -> tuple[int, dict]:
    """Status and JSON body of a GET, errors included."""
    try:
        with urllib.request.urlopen(url + path + ("?" + urlencode(params) if params else ""), timeout=30) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def cli_json(index_dir, *args: str) -> dict:
    out = vnsearch(*args, "--index-dir", str(index_dir), "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_stats_and_healthz_count_articles_under_one_name(live, shared_index):
    stats = cli_json(shared_index.index_dir, "stats")
    status, health = get(live, "/healthz")
    assert status == 200 and stats["articles"] == health["articles"] == shared_index.count() == 12
    assert "documents" not in stats and stats == shared_index.stats()
    text = vnsearch("stats", "--index-dir", str(shared_index.index_dir)).stdout
    assert text.splitlines()[0] == "articles: 12"


def test_one_limit_on_hits_per_page_for_the_api_and_the_cli(live, shared_index):
    """The API capped per_page at 50, the CLI --limit at 100: one constant now, the engine's."""
    from indexer import DEFAULT, MAX_PER_PAGE

    assert MAX_PER_PAGE == DEFAULT.limits.max_per_page == 100
    status, data = get(live, "/api/search", q="mặt trận", per_page=MAX_PER_PAGE)
    assert status == 200 and data["per_page"] == MAX_PER_PAGE and data["total"] == len(data["hits"]) >= 5
    status, data = get(live, "/api/search", q="mặt trận", per_page=MAX_PER_PAGE + 1)
    assert status == 400 and f"1..{MAX_PER_PAGE}" in data["error"]
    assert cli_json(shared_index.index_dir, "search", "mặt trận", "--limit", str(MAX_PER_PAGE))["per_page"] == 100
    over = vnsearch("search", "mặt trận", "--limit", str(MAX_PER_PAGE + 1), "--index-dir", str(shared_index.index_dir))
    assert over.returncode == 2 and f"{MAX_PER_PAGE}" in over.stderr and over.stdout == ""
