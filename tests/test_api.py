"""Issue 22: the JSON the CLI (``--json``) and the web API (``/api/search``, ``/api/suggest``,
``/healthz``) give, over real HTTP from ``vnsearch serve``'s server and the real CLI."""

from __future__ import annotations

import contextlib
import html
import json
import re
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


ODD_ID = "Tin tức/bài 1?#%+&.x"  # an id the indexer accepts: a slash, spaces, accents, '?', '#', '%'
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """A real index over a seed-style file (dated to the minute) and a feed: a web link and a
    minute, a non-web url and a day, no url and no date, an id that needs percent-encoding."""
    base = tmp_path_factory.mktemp("mixed")
    folder = base / "articles"
    folder.mkdir()
    (folder / "tin-thu.txt").write_text("Hợp tác xã Phúc Thọ mùa thu\n\n27/09/2019 - 06:20 PM\n"
                                        "Hợp tác xã nông nghiệp Phúc Thọ thu hoạch lúa.\nPV\n", encoding="utf-8")
    feed = base / "feed.jsonl"
    records = [
        {"id": ODD_ID, "title": "Hợp tác xã Phúc Thọ bán gạo", "date": "2023-01-13T18:00",
         "url": "https://example.vn/hop-tac-xa", "body": "Hợp tác xã Phúc Thọ bán gạo sạch."},
        {"id": "b", "title": "Hợp tác xã Phúc Thọ họp", "date": "2022-06-17", "url": "javascript:alert(1)",
         "body": "Hợp tác xã Phúc Thọ họp cuối năm."},
        {"id": "c", "title": "Hợp tác xã Phúc Thọ trồng rau", "body": "Hợp tác xã Phúc Thọ trồng rau."},
    ]
    feed.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    out = vnsearch("index", str(folder), str(feed), "--index-dir", str(base / "ix"), "-q")
    assert out.returncode == 0 and "4 added" in out.stdout, (out.stdout, out.stderr)
    return base / "ix"


def test_hits_have_one_date_format_a_web_link_or_null_and_their_page(mixed):
    data = cli_json(mixed, "search", "hợp tác xã Phúc Thọ")
    hits = {h["id"]: h for h in data["hits"]}
    assert set(hits) == {"tin-thu.txt", ODD_ID, "b", "c"}
    for hit in hits.values():
        assert hit["date"] is None or DATE.fullmatch(hit["date"]), hit
        assert hit["datetime"] is None or (DATETIME.fullmatch(hit["datetime"]) and hit["datetime"][:10] == hit["date"])
        assert "path" not in hit  # the file an article was read from is no link, and the server's business
    assert {i: (h["date"], h["datetime"], h["url"]) for i, h in hits.items()} == {
        "tin-thu.txt": ("2019-09-27", "2019-09-27T18:20", None),  # it had the seed file's path as its url
        ODD_ID: ("2023-01-13", "2023-01-13T18:00", "https://example.vn/hop-tac-xa"),
        "b": ("2022-06-17", None, None),  # javascript: is not a web link
        "c": (None, None, None),          # it had "" as its url
    }
    assert hits[ODD_ID]["page_url"] == "/article/Tin%20t%E1%BB%A9c/b%C3%A0i%201%3F%23%25+&.x"
    assert hits["tin-thu.txt"]["page_url"] == "/article/tin-thu.txt"
    shown = cli_json(mixed, "show", ODD_ID)
    assert {k: shown[k] for k in ("date", "datetime", "url", "page_url", "path")} == {
        "date": "2023-01-13", "datetime": "2023-01-13T18:00", "url": "https://example.vn/hop-tac-xa",
        "page_url": hits[ODD_ID]["page_url"], "path": None}


def test_the_api_gives_the_cli_s_hits_and_each_page_url_serves_its_article(mixed):
    cli = cli_json(mixed, "search", "hợp tác xã Phúc Thọ")
    with serving(mixed) as url:
        status, api = get(url, "/api/search", q="hợp tác xã Phúc Thọ")
        assert status == 200 and api["hits"] == cli["hits"] and api["pages"] == cli["pages"] == 1
        for hit in api["hits"]:
            with urllib.request.urlopen(url + hit["page_url"], timeout=30) as r:
                assert r.status == 200 and html.escape(hit["title"], quote=False) in r.read().decode(), hit
        with urllib.request.urlopen(url + "/?" + urlencode({"q": "hợp tác xã Phúc Thọ"}), timeout=30) as r:
            page = r.read().decode()
        # The page still shows each date as readers write it, with its time when known.
        assert ">13/01/2023 18:00</time>" in page and ">17/06/2022</time>" in page and ">27/09/2019 18:20</time>" in page


def test_a_page_past_the_end_says_so(mixed):
    out = vnsearch("search", "hợp tác xã Phúc Thọ", "--index-dir", str(mixed), "--page", "2")
    assert out.returncode == 0, out.stderr
    assert re.fullmatch(r"4 kết quả \(\d+ ms\): trang 2 vượt quá số trang \(1\)", out.stdout.splitlines()[0]), out.stdout
    assert re.fullmatch(r"4 kết quả \(\d+ ms\), trang 1/1", vnsearch(
        "search", "hợp tác xã Phúc Thọ", "--index-dir", str(mixed)).stdout.splitlines()[0])
    data = cli_json(mixed, "search", "hợp tác xã Phúc Thọ", "--page", "2")
    assert (data["total"], data["page"], data["pages"], data["hits"]) == (4, 2, 1, [])
    with serving(mixed) as url:
        status, api = get(url, "/api/search", q="hợp tác xã Phúc Thọ", page=2)
    assert status == 200 and (api["total"], api["page"], api["pages"], api["hits"]) == (4, 2, 1, [])
