"""Every route of the Flask app, through the test client, over a real index."""

import re
import shutil

import pytest

from search_web import create_app

from .conftest import SEEDS, emptied_index

MARK_RE = re.compile(r"<mark>(.*?)</mark>")


def text(resp):
    return resp.get_data(as_text=True)


def test_home_page_empty_state(client):
    r = client.get("/")
    body = text(r)
    assert r.status_code == 200 and '<html lang="vi">' in body
    assert '<label class="visually-hidden" for="q">' in body and 'id="q"' in body
    assert 'for="sort"' in body and 'for="from"' in body and 'for="to"' in body
    assert "Cú pháp tìm kiếm" in body and "Tìm trong <strong>12</strong> bài viết" in body


def test_results_page(client):
    r = client.get("/", query_string={"q": "mat tran to quoc"})
    body = text(r)
    assert r.status_code == 200
    assert re.search(r"Tìm thấy <strong>\d+</strong> kết quả\s+\(\d+ ms\)", body)
    assert body.count('class="hit"') == 3 and "<mark>" in body
    assert 'value="mat tran to quoc"' in body  # the query is kept in the box
    assert "/article/000_07d8e90914c7a84b.txt?q=mat+tran+to+quoc" in body or "/article/" in body
    assert 'aria-label="Phân trang"' in body and 'rel="next"' in body


def test_pagination(client):
    first = text(client.get("/", query_string={"q": "mặt trận", "page": 1}))
    second = text(client.get("/", query_string={"q": "mặt trận", "page": 2}))
    ids1 = set(re.findall(r'href="/article/([^"?]+)', first))
    ids2 = set(re.findall(r'href="/article/([^"?]+)', second))
    assert ids1 and ids2 and ids1.isdisjoint(ids2)
    assert 'aria-current="page">2<' in second and 'rel="prev"' in second


def test_sort_and_date_filters_are_kept(client):
    body = text(client.get("/", query_string={"q": "mặt trận", "sort": "date", "from": "2019-01-01", "to": "2020-12-31"}))
    assert '<option value="date" selected>' in body
    assert 'value="01/01/2019"' in body and 'value="31/12/2020"' in body  # an old link's dates, shown dd/mm/yyyy
    dates = re.findall(r'<time datetime="([^"]+)"', body)
    assert dates == sorted(dates, reverse=True) and all("2019" <= d[:4] <= "2020" for d in dates)


def test_did_you_mean_and_notice(client):
    body = text(client.get("/", query_string={"q": "tâp huân"}))
    assert 'id="did-you-mean"' in body and "tập huấn</a>" in body
    assert "Không tìm thấy bài viết phù hợp" in body
    body = text(client.get("/", query_string={"q": "metro xyzzyqq"}))
    assert "chứa một số từ" in body


def test_facets_and_facet_filters(client):
    body = text(client.get("/", query_string={"q": "date:2025"}))
    assert "Chuyên mục" in body and "Kinh doanh" in body and "Thể thao" in body
    filtered = text(client.get("/", query_string={"q": "", "category": "Thể thao"}))
    assert "Đội tuyển bóng đá" in filtered and "Giá vàng" not in filtered
    by_year = text(client.get("/", query_string={"q": "mặt trận", "year": "2020"}))
    assert "Thị xã Sơn Tây" in by_year and "Tây Hồ tổ chức" not in by_year


def test_bad_page_parameters_degrade_not_fail(client):
    for qs in ({"q": "mặt trận", "page": "abc"}, {"q": "x", "sort": "random"}, {"q": "x", "from": "hôm qua"},
               {"q": "x", "year": "20x0"}, {"q": "x" * 5000}):
        r = client.get("/", query_string=qs)
        assert r.status_code in (200, 400) and "<html" in text(r)


def test_article_page(client):
    r = client.get("/article/000_07d8e90914c7a84b.txt")
    body = text(r)
    assert r.status_code == 200
    assert "Ủy ban MTTQ Việt Nam quận Tây Hồ tổ chức lớp tập huấn" in body
    assert "Hoàng Hương – MTTQ quận Tây Hồ" in body and body.count("<p>") > 3
    assert "Bài viết liên quan" in body and "Các tin tức khác" not in body
    assert "<mark>" not in body


def test_article_page_highlights_the_query(client):
    body = text(client.get("/article/001_d00b9dc15467eaee.txt", query_string={"q": "phuc tho"}))
    assert "<mark>Phúc Thọ</mark>" in body


def test_article_html_is_escaped(client):
    body = text(client.get("/article/html_trong_bai.txt", query_string={"q": "mã độc"}))
    assert "<script>alert" not in body and "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;" in body
    assert "<mark>mã độc</mark>" in body


@pytest.mark.parametrize("bad", ["../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "a/../../b", "%2Fetc%2Fpasswd",
                                 "x%00y", "a" * 600, "nope.txt"])
def test_article_ids_cannot_escape(client, bad):
    assert client.get("/article/" + bad, follow_redirects=True).status_code == 404


def test_api_search_shape(client):
    r = client.get("/api/search", query_string={"q": "uy ban", "per_page": 2, "page": 1})
    data = r.get_json()
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert set(data) == {"query", "total", "total_relation", "page", "per_page", "pages", "took_ms", "suggestion", "notice",
                         "reading", "alternatives", "hits"}
    assert data["per_page"] == 2 and len(data["hits"]) == 2
    assert set(data["hits"][0]) == {"id", "title", "date", "datetime", "score", "url", "page_url", "snippet"}
    ranged = client.get("/api/search", query_string={"q": "mặt trận", "from": "2019-01-01", "to": "2020-12-31",
                                                     "sort": "date"}).get_json()
    assert {h["id"] for h in ranged["hits"]} == {"000_07d8e90914c7a84b.txt", "002_bc0217ec24ab4b99.txt"}


@pytest.mark.parametrize("qs,fragment", [
    ({"q": "x", "page": "abc"}, "page"), ({"q": "x", "page": "0"}, "page"),
    ({"q": "x", "per_page": "1000"}, "per_page"), ({"q": "x", "per_page": "-1"}, "per_page"),
    ({"q": "x" * 1001}, "1000"), ({"q": "x", "sort": "random"}, "sort"),
    ({"q": "x", "from": "hôm qua"}, "ngày không hợp lệ 'hôm qua'"), ({"q": "x", "mode": "some"}, "mode"), ({"q": "x", "year": "20"}, "year"),
])
def test_api_bad_parameters_are_400_json(client, qs, fragment):
    r = client.get("/api/search", query_string=qs)
    assert r.status_code == 400 and fragment in r.get_json()["error"]


def test_api_hostile_queries_never_500(client):
    for q in ['"', "((((", "date:[", "*", "a*", "\x00", "<script>", "OR OR", "title:", "~2", "(" * 300]:
        assert client.get("/api/search", query_string={"q": q}).status_code == 200


def test_api_suggest_and_health(client):
    data = client.get("/api/suggest", query_string={"q": "Sơn tậ"}).get_json()
    assert data["suggestions"] and data["suggestions"][0].lower().startswith("sơn tập")
    assert client.get("/api/suggest", query_string={"q": ""}).get_json()["suggestions"] == []
    assert client.get("/api/suggest", query_string={"q": "x" * 500}).status_code == 400
    health = client.get("/healthz").get_json()
    assert health["status"] == "ok" and health["articles"] == 12


def test_unknown_routes(client):
    assert client.get("/nope").status_code == 404
    assert client.get("/api/nope").get_json()["error"]
    assert client.post("/api/search").status_code == 405


def test_security_headers_and_no_inline_script(client):
    for url in ("/", "/?q=mặt", "/article/000_07d8e90914c7a84b.txt", "/api/search?q=x", "/nope"):
        r = client.get(url)
        csp = r.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert r.headers["X-Content-Type-Options"] == "nosniff" and r.headers["Referrer-Policy"]
        if r.mimetype == "text/html":
            assert re.findall(r"<script(?![^>]*\bsrc=)", text(r)) == []
            assert "http://" not in re.sub(r'href="http[^"]*"', "", text(r).split("<main")[0])  # no CDN


def test_query_with_html_is_escaped(client):
    body = text(client.get("/", query_string={"q": '<script>alert(1)</script>"><img src=x>'}))
    assert "<script>alert(1)" not in body and "<img src=x>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_picks_up_index_updates_without_restart(tmp_path):
    articles = tmp_path / "a"
    shutil.copytree(SEEDS, articles)
    from indexer import open_index

    writer = open_index(tmp_path / "ix")
    writer.update([articles], jobs=1)
    client = create_app(index_dir=tmp_path / "ix").test_client()
    assert client.get("/api/search?q=metro").get_json()["total"] == 0
    (articles / "moi.txt").write_text("Khởi công tuyến metro\n01/01/2025\nTuyến metro mới được khởi công.\nAn\n",
                                      encoding="utf-8")
    writer.update([articles], jobs=1)  # incremental commit
    assert client.get("/api/search?q=metro").get_json()["total"] == 1
    (articles / "moi.txt").unlink()
    writer.update([articles], rebuild=True, jobs=1)  # new generation swapped in
    assert client.get("/api/search?q=metro").get_json()["total"] == 0
    assert client.get("/healthz").get_json()["articles"] == 5


def test_no_index_yet(tmp_path):
    client = create_app(index_dir=tmp_path / "empty").test_client()
    assert client.get("/").status_code == 200
    assert "Bài viết mới nhất" not in text(client.get("/")) and "Thử tìm" not in text(client.get("/"))
    assert "Chưa có chỉ mục" in text(client.get("/?q=x"))
    assert client.get("/api/search?q=x").status_code == 503
    assert client.get("/article/x").status_code == 404
    assert client.get("/healthz").get_json()["index"] is False


@pytest.mark.parametrize("how", ["empty feed", "all removed"])
def test_an_index_with_no_articles_answers_every_route(tmp_path, how):
    client = create_app(index_dir=emptied_index(tmp_path, how)).test_client()
    home = client.get("/")
    assert home.status_code == 200 and "Chỉ mục chưa có bài viết nào" in text(home)
    assert "Bài viết mới nhất" not in text(home) and "Thử tìm" not in text(home)
    for qs in ({"q": "mặt trận"}, {"q": "x", "sort": "date", "from": "2019", "to": "2020"}, {"q": "tâp huân"},
               {"q": "mawtj traanj"}, {"category": "Thể thao"}, {"year": "2020"}, {"q": "a b c", "mode": "any"}):
        r = client.get("/", query_string=qs)
        assert r.status_code == 200 and "Chỉ mục chưa có bài viết nào" in text(r), qs
        assert "Không tìm thấy bài viết phù hợp" not in text(r)  # no spelling tips: nothing is there to find
        api = client.get("/api/search", query_string=qs)
        assert api.status_code == 200 and api.get_json()["total"] == 0 and api.get_json()["hits"] == []
    assert client.get("/api/suggest", query_string={"q": "mặ"}).get_json()["suggestions"] == []
    assert client.get("/article/000_07d8e90914c7a84b.txt").status_code == 404
    health = client.get("/healthz").get_json()
    assert health["status"] == "ok" and health["articles"] == 0 and health["index"] is True


def test_a_long_query_is_echoed_cut_with_a_notice(client):
    """A 240 KB query made a 3.85 MB page: every echo is now at most MAX_QUERY_CHARS."""
    from indexer.search.engine import MAX_QUERY_CHARS

    q = "mặt trận " * 27_000  # 243,000 characters
    r = client.get("/", query_string={"q": q, "category": "c" * 5000, "from": "1" * 5000})
    body = text(r)
    assert r.status_code in (200, 400) and len(r.data) < 100_000, len(r.data)
    assert f"chỉ dùng {MAX_QUERY_CHARS} ký tự đầu" in body
    echoes = re.findall(r"(?:mặt trận ?)+|(?:m%E1%BA%B7t\+tr%E1%BA%ADn\+?)+", body)
    assert echoes and max(len(e.replace("%E1%BA%B7", "ặ").replace("%E1%BA%AD", "ậ").replace("+", " "))
                          for e in echoes) <= MAX_QUERY_CHARS
    assert "c" * 201 not in body and "1" * 201 not in body
    plain = text(client.get("/", query_string={"q": q}))
    assert plain.count('class="hit"') and f"chỉ dùng {MAX_QUERY_CHARS} ký tự đầu" in plain
    assert client.get("/api/search", query_string={"q": q}).status_code == 400  # the API refuses it


def test_redirects_never_name_the_host_header(app):
    """Werkzeug's own redirects (merged slashes, a missing trailing slash) were absolute, on
    the Host header's host: 'GET /article//x' with 'Host: evil.example' went to evil.example."""
    app.add_url_rule("/thu-muc/", "folder", lambda: "ok")  # a trailing-slash rule, as a later route might be
    client = app.test_client()
    for path in ("/article//000_07d8e90914c7a84b.txt", "/api//search?q=x", "/static//style.css", "/thu-muc",
                 "/thu-muc?q=1", "/article//x"):
        r = client.get(path, headers={"Host": "evil.example"})
        location = r.headers.get("Location", "")
        assert "evil.example" not in location and not location.startswith("//"), (path, location)
        if r.status_code in (301, 302, 307, 308):
            assert location.startswith("/") and client.get(location).status_code == 200
    assert client.get("/thu-muc?q=1", headers={"Host": "evil.example"}).headers["Location"] == "/thu-muc/?q=1"
    assert client.get("/article//000_07d8e90914c7a84b.txt").status_code == 404  # id "/000…": refused, not redirected


@pytest.mark.parametrize("bad", [" ", "a" * 513, "a\nb", "..", "x/../y", "a\\b"])
def test_ids_the_indexer_refuses_are_not_served(client, bad):
    from indexer import id_problem

    assert id_problem(bad)
    assert client.get("/article/" + bad).status_code == 404


def test_the_page_says_how_unaccented_words_were_read_with_a_link_to_search_as_typed(tmp_path):
    from search_web import create_app

    from .test_ranking import TOPIC, build

    ix = build(tmp_path, TOPIC)
    client = create_app(index_dir=ix.index_dir, test_config={"TESTING": True}).test_client()
    page = client.get("/?q=mat+tran+to+quoc").get_data(as_text=True)
    assert 'id="reading"' in page and "Kết quả cho: <strong>mặt trận tổ quốc</strong>" in page
    link = re.search(r'id="as-typed" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert "as_typed=1" in link
    as_typed = client.get(link).get_data(as_text=True)
    assert 'id="reading"' not in as_typed and "Kết quả cho" not in as_typed
    api = client.get("/api/search?q=mat+tran+to+quoc").get_json()
    assert api["reading"] == "mặt trận tổ quốc"
    assert client.get("/api/search?q=mat+tran+to+quoc&as_typed=1").get_json()["reading"] is None


def test_the_api_explains_each_hit_on_request(client):
    plain = client.get("/api/search?q=mat+tran").get_json()
    assert plain["hits"] and all("explanation" not in h for h in plain["hits"])
    data = client.get("/api/search?q=mat+tran&explain=1").get_json()
    for hit in data["hits"]:
        why = hit["explanation"]
        assert why["id"] == hit["id"] and why["score"] == pytest.approx(hit["score"], abs=1e-4)
        assert why["details"] and all({"description", "value"} <= set(d) for d in why["details"])


def test_the_api_explains_hits_found_as_spelled_and_bounds_the_work(client):
    data = client.get("/api/search?q=mawtj+traanj&explain=yes").get_json()  # keystrokes: searched as spelled
    assert data["hits"]
    for hit in data["hits"]:
        assert hit["explanation"]["score"] == pytest.approx(hit["score"], abs=1e-4)
    assert all("explanation" not in h for h in client.get("/api/search?q=mawtj+traanj&explain=0").get_json()["hits"])


def test_the_as_typed_link_keeps_the_filters(tmp_path):
    from search_web import create_app

    from .test_ranking import TOPIC, build

    ix = build(tmp_path, TOPIC)
    client = create_app(index_dir=ix.index_dir, test_config={"TESTING": True}).test_client()
    page = client.get("/?q=mat+tran+to+quoc&from=2020&to=2022-06").get_data(as_text=True)
    link = re.search(r'id="as-typed" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert "as_typed=1" in link and "from=2020" in link and "to=2022-06" in link


@pytest.fixture(scope="module")
def thousands(tmp_path_factory):
    """A real index of 1,234 short articles (a JSON-lines feed), for numbers that need grouping."""
    import json

    from indexer import open_index

    base = tmp_path_factory.mktemp("thousands")
    feed = base / "feed.jsonl"
    with feed.open("w", encoding="utf-8") as out:
        for i in range(1234):
            out.write(json.dumps({"id": f"g-{i:04d}", "title": f"Giá vàng phiên {i}", "date": f"2024-0{1 + i % 9}-1{i % 9}",
                                  "body": "Giá vàng miếng tăng nhẹ trong phiên sáng.", "category": "Kinh doanh"},
                                 ensure_ascii=False) + "\n")
    ix = open_index(base / "ix")
    assert ix.update([feed], jobs=1).added == 1234
    return create_app(index_dir=base / "ix", test_config={"TESTING": True}).test_client()


def test_every_number_on_the_page_is_grouped_the_vietnamese_way(thousands):
    """'Tìm trong 5000 bài viết' but 'Tìm thấy 4.553': one format, 1.234, everywhere."""
    home = text(thousands.get("/"))
    assert "Tìm trong <strong>1.234</strong> bài viết" in home
    page = text(thousands.get("/", query_string={"q": "giá vàng"}))
    assert "Tìm thấy <strong>1.234</strong> kết quả" in page and "trang 1/124" in page
    assert re.search(r'>Kinh doanh</a> <span class="count">1\.234</span>', page)  # a facet count
    last = text(thousands.get("/", query_string={"q": "giá vàng", "per_page": 1, "page": 1000}))
    assert "trang 1.000/1.234" in last and '<span class="current" aria-current="page">1.000</span>' in last
    pagers = "".join(re.findall(r'<nav class="pager".*?</nav>', page + last, re.S))
    numbers = re.findall(r'class="count">([^<]+)<|<strong>([\d.]+)</strong>', page + home + last)
    numbers = [n.strip("()") for group in numbers for n in group if n] + re.findall(r">([\d.]+)</(?:a|span)>", pagers)
    assert numbers.count("1.234") >= 5 and "1.000" in numbers and "124" in numbers  # page links: "… 124 Sau »"
    assert [n for n in numbers if not re.fullmatch(r"\d{1,3}(\.\d{3})*", n)] == []


def _hit_ids(body: str) -> list[str]:
    return re.findall(r'<h3><a href="/article/([^"?]+)', body)


def test_date_fields_are_vietnamese_dd_mm_yyyy(client):
    body = text(client.get("/"))
    for name in ("from", "to"):
        field = re.search(rf'<input id="{name}" name="{name}"[^>]*>', body).group(0)
        assert 'type="text"' in field and 'placeholder="dd/mm/yyyy"' in field and "pattern=" in field
    assert 'type="date"' not in body  # the browser's locale (mm/dd/yyyy under en-US) has no say
    # 05/03/2021 is the 5th of March (hoa_binh_cu.txt), not the 3rd of May
    march = text(client.get("/", query_string={"q": "ủy ban", "from": "05/03/2021", "to": "5/3/2021"}))
    assert _hit_ids(march) == ["hoa_binh_cu.txt"]
    assert 'value="05/03/2021"' in march and "from=2021-03-05" in march and "to=2021-03-05" in march
    assert _hit_ids(text(client.get("/", query_string={"q": "ủy ban", "from": "03/05/2021", "to": "03/05/2021"}))) == []
    # typed dd/mm/yyyy or an old link's yyyy-mm-dd: the same search
    vn = text(client.get("/", query_string={"q": "mặt trận", "sort": "date", "from": "01/01/2019", "to": "31/12/2020"}))
    iso = text(client.get("/", query_string={"q": "mặt trận", "sort": "date", "from": "2019-01-01", "to": "2020-12-31"}))
    assert _hit_ids(vn) == _hit_ids(iso) and len(_hit_ids(vn)) == 2 and "Đã bỏ qua" not in vn
    # a month or a year alone, as the engine takes them
    month = text(client.get("/", query_string={"q": "mặt trận", "from": "6/2022", "to": "2022-06"}))
    assert 'value="06/2022"' in month and "from=2022-06" in month and _hit_ids(month) == ["003_25910b8eda50ab56.txt"]
    assert 'value="2020"' in text(client.get("/", query_string={"q": "mặt trận", "from": "2020"}))


@pytest.mark.parametrize("bad", ["31/02/2020", "12/31/2020", "hôm qua", "2020-13-01", "00/01/2020", "1/1/20", "0000"])
def test_a_bad_date_is_ignored_with_a_word_never_a_500(client, bad):
    r = client.get("/", query_string={"q": "mặt trận", "sort": "date", "from": bad, "to": "31/12/2020"})
    body = text(r)
    assert r.status_code == 200 and "Đã bỏ qua tham số không hợp lệ" in body and "Từ ngày" in body
    assert 'id="from" name="from" type="text" value=""' in body  # the box shows what was searched
    assert 'value="31/12/2020"' in body and '<option value="date" selected>' in body  # the rest is kept
    assert _hit_ids(body) and all(d <= "2020-12-31" for d in re.findall(r'<time datetime="([^"]+)"', body))
    assert client.get("/api/search", query_string={"q": "x", "from": bad}).status_code == 400  # the API: as before


def test_a_bad_parameter_drops_only_itself(client):
    body = text(client.get("/", query_string={"q": "mặt trận", "page": "abc", "sort": "date", "mode": "some"}))
    assert "Đã bỏ qua tham số không hợp lệ" in body and "&#39;page&#39;" in body and "&#39;mode&#39;" in body
    assert '<option value="date" selected>' in body and _hit_ids(body)


def _links(body: str) -> list[str]:
    return [h.replace("&amp;", "&") for h in re.findall(r'href="(/(?:\?|article/)[^"]*)"', body)]


def test_the_page_offers_all_or_any_words_and_keeps_it_in_every_link(client):
    from urllib.parse import parse_qs, urlsplit

    home = text(client.get("/"))
    assert '<select id="mode" name="mode">' in home and '<option value="any" ' in home
    every = text(client.get("/", query_string={"q": "giá vàng metro"}))
    assert "chứa một số từ" in every  # no article has all three words: relaxed, with the notice
    body = text(client.get("/", query_string={"q": "mặt trận metro", "mode": "any"}))
    assert '<option value="any" selected>' in body and "chứa một số từ" not in body
    found = {i for n in (1, 2, 3)
             for i in _hit_ids(text(client.get("/", query_string={"q": "mặt trận metro", "mode": "any", "page": n})))}
    assert "j-001" in found  # the metro article: one word of three
    links = _links(body)
    assert any("page=2" in h for h in links) and any("year=" in h for h in links) and any("/article/" in h for h in links)
    assert all(parse_qs(urlsplit(h).query).get("mode") == ["any"] for h in links), links
    filtered = text(client.get("/", query_string={"q": "mặt trận metro", "mode": "any", "year": "2024"}))
    unfilter = re.search(r'id="unfilter" href="([^"]+)"', filtered).group(1)
    assert "mode=any" in unfilter and "year" not in unfilter


def test_back_to_results_keeps_the_search(client):
    from urllib.parse import parse_qs, urlsplit

    search = {"q": "mặt trận", "page": "2", "sort": "date", "mode": "any", "from": "01/01/2019", "to": "31/12/2025",
              "as_typed": "1"}
    page = text(client.get("/", query_string=search))
    first = next(h for h in _links(page) if h.startswith("/article/"))
    article = text(client.get(first))
    back = re.search(r'<a id="back" href="([^"]+)">« Quay lại kết quả</a>', article).group(1).replace("&amp;", "&")
    assert {k: v[0] for k, v in parse_qs(urlsplit(back).query).items()} == dict(
        search, **{"from": "2019-01-01", "to": "2025-12-31"})
    assert _hit_ids(text(client.get(back))) == _hit_ids(page)  # the same page of the same search
    related = [h for h in _links(article) if h.startswith("/article/")]
    assert related and all("page=2" in h and "mode=any" in h for h in related)  # and back again from there
    facet = {"category": "Thể thao", "year": "2025"}
    hit = next(h for h in _links(text(client.get("/", query_string=facet))) if h.startswith("/article/"))
    back = re.search(r'<a id="back" href="([^"]+)"', text(client.get(hit))).group(1).replace("&amp;", "&")
    assert parse_qs(urlsplit(back).query) == {"category": ["Thể thao"], "year": ["2025"]}
    plain = text(client.get("/article/000_07d8e90914c7a84b.txt"))
    assert '<a id="back" href="/">« Trang tìm kiếm</a>' in plain


def test_the_date_source_category_line_separates_only_what_an_article_has(tmp_path):
    """'· vietnews' had a leading separator when an article had no date."""
    import json

    from indexer import open_index

    feed = tmp_path / "feed.jsonl"
    rows = [{"id": "khong-ngay", "title": "Lũ quét ở miền núi", "body": "Lũ quét gây thiệt hại ở miền núi.",
             "source": "vietnews", "category": "Thời sự"},
            {"id": "co-ngay", "title": "Lũ về sớm", "date": "2023-09-01", "body": "Lũ về sớm ở miền Trung.",
             "category": "Thời sự"},
            {"id": "tron-ven", "title": "Lũ rút dần", "date": "2023-09-02", "body": "Lũ rút dần ở miền Trung.",
             "source": "vietnews", "category": "Thời sự"},
            {"id": "tran-trui", "title": "Lũ lớn", "body": "Lũ lớn."}]
    feed.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    open_index(tmp_path / "ix").update([feed], jobs=1)
    client = create_app(index_dir=tmp_path / "ix", test_config={"TESTING": True}).test_client()

    def meta(body: str) -> list[str]:
        return [re.sub(r"<[^>]+>", "", m) for m in re.findall(r'<p class="meta">(.*?)</p>', body, re.S)]

    page = text(client.get("/", query_string={"q": "lũ", "sort": "date"}))
    assert meta(page) == ["02/09/2023 · vietnews · Thời sự", "01/09/2023 · Thời sự", "vietnews · Thời sự"]
    assert page.count('<li class="hit">') == 4  # the fourth has nothing to show: no line at all
    assert meta(text(client.get("/article/khong-ngay"))) == ["vietnews · Thời sự"]
    assert meta(text(client.get("/article/tron-ven"))) == ["02/09/2023 · vietnews · Thời sự"]
    assert meta(text(client.get("/article/tran-trui"))) == []


def _latest(body: str) -> list[tuple[str, str]]:
    section = re.search(r'<section class="latest".*?</section>', body, re.S)
    return re.findall(r'<a href="/article/([^"]+)">.*?<time datetime="([^"]+)"', section.group(0), re.S) if section else []


def test_the_home_page_shows_what_the_index_holds(client):
    home = text(client.get("/"))
    assert re.search(r"Tìm trong <strong>12</strong> bài viết, <span id=\"date-range\">11\s+bài có ngày đăng, "
                     r"từ 27/09/2019 đến 15/01/2025</span>", home)
    latest = _latest(home)
    assert [i for i, _ in latest] == ["j-002", "j-003", "j-001", "001_d00b9dc15467eaee.txt", "004_b988110fdcdce38a.txt"]
    assert [d for _, d in latest] == sorted((d for _, d in latest), reverse=True)
    assert "Giá vàng hôm nay tăng mạnh</a>" in home and client.get("/article/j-002").status_code == 200
    examples = re.findall(r'<a href="(/\?q=[^"]+)">([^<]+)</a>\s*<span class="count">\(([\d.]+)\)</span>',
                          re.search(r'<p class="examples".*?</p>', home, re.S).group(0))
    assert len(examples) >= 4
    for href, query, count in examples:  # every example finds what it says, with every word
        page = text(client.get(href.replace("&amp;", "&")))
        assert f'value="{query}"' in page and f"Tìm thấy <strong>{count}</strong> kết quả" in page, query
        assert 'class="hit"' in page and "chứa một số từ" not in page


def test_the_home_page_follows_the_index(tmp_path):
    from indexer import open_index

    articles = tmp_path / "a"
    shutil.copytree(SEEDS, articles)
    writer = open_index(tmp_path / "ix")
    writer.update([articles], jobs=1)
    client = create_app(index_dir=tmp_path / "ix", test_config={"TESTING": True}).test_client()
    before = text(client.get("/"))
    assert _latest(before)[0] == ("001_d00b9dc15467eaee.txt", "2024-07-03T13:53") and "Tìm trong <strong>5</strong>" in before
    assert "từ 27/09/2019 đến 03/07/2024" in before
    (articles / "moi.txt").write_text("Khởi công tuyến metro\n01/01/2026\nTuyến metro mới được khởi công.\nAn\n",
                                      encoding="utf-8")
    writer.update([articles], jobs=1)  # a commit: the overview is made again
    after = text(client.get("/"))
    assert _latest(after)[0] == ("moi.txt", "2026-01-01") and "Tìm trong <strong>6</strong>" in after
    assert "đến 01/01/2026" in after and "Khởi công tuyến metro</a>" in after
    (articles / "moi.txt").write_text("Thông xe tuyến metro\n01/01/2026\nTuyến metro mới thông xe.\nAn\n",
                                      encoding="utf-8")
    writer.update([articles], jobs=1)  # replaced: the same number of articles, a new title
    assert "Thông xe tuyến metro</a>" in text(client.get("/"))


def test_a_blank_date_field_is_no_date(client):
    r = client.get("/", query_string={"q": "mặt trận", "from": "   ", "to": ""})
    assert r.status_code == 200 and "Đã bỏ qua" not in text(r) and "Tham số không hợp lệ" not in text(r)
    assert len(_hit_ids(text(r))) == 3


def test_dates_before_the_year_1000_and_other_separators(client):
    """strftime wrote the year 999 as "999", which the page then failed to read back: a 500."""
    for qs in ({"q": "a", "from": "01/01/0999"}, {"q": "a", "from": "0001-01-01"}, {"q": "giá", "to": "1/0500"}):
        r = client.get("/", query_string=qs)
        assert r.status_code == 200, qs
    assert 'value="01/01/0999"' in text(client.get("/", query_string={"q": "a", "from": "01/01/0999"}))
    for typed in ("27-09-2019", "27.09.2019"):  # as the engine, the API and date: read them
        html = text(client.get("/", query_string={"q": "tập", "from": typed}))
        assert 'value="27/09/2019"' in html and "Đã bỏ qua" not in html, typed


def test_typed_dates_win_over_a_year_and_reversed_dates_are_swapped(client):
    html = text(client.get("/", query_string={"q": "mặt trận", "year": "2019", "from": "01/01/2020",
                                              "to": "31/12/2020"}))
    assert "Đang lọc" not in html and re.findall(r'datetime="(\d{4})', html) and \
        set(re.findall(r'datetime="(\d{4})', html)) <= {"2020"}
    html = text(client.get("/", query_string={"q": "mặt trận", "from": "31/12/2020", "to": "01/01/2019"}))
    assert "đã đổi chỗ hai ngày" in html and 'id="from"' in html and 'value="01/01/2019"' in html
    assert 'class="hit"' in html


def test_a_page_past_the_end_says_so_and_links_the_last(client):
    html = text(client.get("/", query_string={"q": "mặt trận", "page": "50"}))
    assert 'id="past-end"' in html and "Trang 50 vượt quá số trang" in html
    assert re.search(r'id="past-end".*?href="/\?q=m%E1%BA%B7t\+tr%E1%BA%ADn(&amp;page=\d+)?"', html, re.S)
    assert 'id="past-end"' not in text(client.get("/", query_string={"q": "mặt trận"}))


def test_a_page_too_deep_falls_back_to_the_first_keeping_the_filters(client):
    r = client.get("/", query_string={"q": "mặt trận", "sort": "date", "page": "1000", "per_page": "100"})
    html = text(r)
    assert r.status_code == 400 and "Tham số không hợp lệ" in html and 'class="hit"' in html
    assert "per_page=100" not in html and "page=1000" not in html  # the links start again from page 1
    assert 'value="date" selected' in html or "sort=date" in html
