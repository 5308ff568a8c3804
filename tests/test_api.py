"""Issue 22: the JSON the CLI (``--json``) and the web API (``/api/search``, ``/api/suggest``,
``/healthz``) give, over real HTTP from ``vnsearch serve``'s server and the real CLI."""

from __future__ import annotations

import contextlib
import json
import threading
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest

from indexer import BadSearchArgument

from .test_cli import vnsearch


@contextlib.contextmanager
def serving(index_dir):
    """The web app over ``index_dir``, served by the guarded waitress server on a real socket."""
    from search_web import create_app
    from search_web.server import Limits, Server

    server = Server(create_app(index_dir=index_dir), "127.0.0.1", 0, threads=2, limits=Limits())
    server.listen()
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.addresses[0][1]}"
    finally:
        server.stop()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def live(shared_index):
    with serving(shared_index.index_dir) as url:
        yield url


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


BAD_DATE = "ngày không hợp lệ 'hôm qua': dùng YYYY, YYYY-MM hoặc YYYY-MM-DD"
TOO_DEEP = "chỉ xem được 10.000 kết quả đầu: số trang × số kết quả mỗi trang không được quá 10.000"


@pytest.mark.parametrize("params,status,code,error", [
    ({"q": "x", "from": "hôm qua"}, 400, "bad_parameter", BAD_DATE),
    ({"q": "x", "page": "1000", "per_page": "100"}, 400, "bad_parameter", TOO_DEEP),
    ({"q": "x", "per_page": "0"}, 400, "bad_parameter", "'per_page' phải trong khoảng 1..100"),
    ({"q": "x", "page": "abc"}, 400, "bad_parameter", "'page' phải là số nguyên"),
    ({"q": "x", "sort": "random"}, 400, "bad_parameter", "'sort' phải là một trong: relevance, date"),
    ({"q": "x" * 1001}, 400, "query_too_long", "truy vấn dài quá 1000 ký tự"),
])
def test_api_search_errors_are_vietnamese_with_a_stable_code(live, params, status, code, error):
    assert get(live, "/api/search", **params) == (status, {"error": error, "code": code})


def test_every_json_error_is_vietnamese_with_a_stable_code(live, tmp_path):
    assert get(live, "/api/suggest", q="x" * 201) == (400, {"error": "truy vấn dài quá 200 ký tự",
                                                            "code": "query_too_long"})
    assert get(live, "/api/nope") == (404, {"error": "không tìm thấy", "code": "not_found"})
    request = urllib.request.Request(live + "/api/search?q=x", method="POST")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    assert (caught.value.code, json.load(caught.value)) == \
        (405, {"error": "phương thức không được hỗ trợ", "code": "method_not_allowed"})
    with serving(tmp_path / "no-index") as bare:
        assert get(bare, "/api/search", q="x") == \
            (503, {"error": "Chưa có chỉ mục. Hãy chạy: vnsearch index seeds", "code": "no_index"})


def test_the_cli_says_a_bad_search_argument_as_the_api_does(shared_index, tmp_path):
    index_dir = str(shared_index.index_dir)
    for args, message in ((["--from", "hôm qua"], BAD_DATE), (["--page", "1000", "--limit", "100"], TOO_DEEP),
                          (["--limit", "0"], "số kết quả mỗi trang phải trong khoảng 1..100"),
                          (["--page", "0"], "số trang phải từ 1 trở lên")):
        out = vnsearch("search", "x", "--index-dir", index_dir, *args)
        assert (out.returncode, out.stdout, out.stderr) == (2, "", f"Lỗi: {message}\n"), args
    none = str(tmp_path / "none")
    for command in (["search", "x"], ["show", "x"]):
        out = vnsearch(*command, "--index-dir", none)
        assert (out.returncode, out.stderr) == \
            (1, f"Lỗi: chưa có chỉ mục trong {none}; hãy chạy: vnsearch index PATH --index-dir {none}\n"), command
    out = vnsearch("show", "không-có", "--index-dir", index_dir)
    assert (out.returncode, out.stderr) == (1, "Lỗi: không có bài viết nào mang mã 'không-có'\n")
    with pytest.raises(BadSearchArgument, match=r"^invalid date 'hôm qua'") as caught:  # Python: English, a ValueError
        shared_index.search("x", date_from="hôm qua")
    assert isinstance(caught.value, ValueError) and caught.value.message_vi == BAD_DATE
