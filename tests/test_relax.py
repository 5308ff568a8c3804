"""Empty results say what emptied them: the searches without each condition, with their counts."""

import pytest

from indexer.search.parser import parse
from indexer.search.relax import render


@pytest.mark.parametrize("query", ['"UBND quận" -covid title:hội nghị date:2020', "Sơn Tây OR (Thanh Xuân -Hà)",
                                   "mặt* huấn~2", 'title:"hội nghị" date:>=2020-05', 'tập -"cán bộ" date:<=2019'])
def test_render_parses_back_to_the_same_tree(query):
    node, _ = parse(query)
    assert parse(render(node))[0] == node


def kinds(results):
    return [(a.kind, a.query, a.total, a.some_words) for a in results.alternatives]


def test_a_date_filter_that_empties_the_result(shared_index):
    res = shared_index.search("UBND date:1990")
    assert res.total == 0
    assert kinds(res) == [("dates", "UBND", shared_index.search("UBND").total, False)]
    res = shared_index.search("UBND", date_from="1990", date_to="1991")
    assert [(a.kind, a.query, a.dropped) for a in res.alternatives] == [("dates", "UBND", ("date_from", "date_to"))]


def test_quotes_exclusions_fields_and_category(shared_index):
    res = shared_index.search('"tập huấn xyzzy"')
    assert res.total == 0 and kinds(res) == [("quotes", "tập huấn xyzzy", shared_index.search("tập huấn xyzzy").total,
                                              True)]  # only with some of the words
    res = shared_index.search("tập huấn", category="không có chuyên mục này")
    assert [(a.kind, a.query, a.dropped) for a in res.alternatives] == [("category", "tập huấn", ("category",))]
    res = shared_index.search("title:UBND -tập")  # no title holds UBND: the field, then everything
    assert kinds(res) == [("fields", "UBND -tập", shared_index.search("UBND -tập").total, False),
                          ("plain", "UBND", shared_index.search("UBND").total, False)]
    res = shared_index.search("UBND date:1990 -tập")
    assert [(a.kind, a.query) for a in res.alternatives] == [("dates", "UBND -tập"), ("plain", "UBND")]


def test_nothing_to_drop_and_found_results_have_no_alternatives(shared_index):
    assert shared_index.search("xyzzyqq").alternatives == []
    assert shared_index.search("UBND").alternatives == []
    assert shared_index.search("UBND").to_dict()["alternatives"] == []
    assert shared_index.search("UBND date:1990").to_dict()["alternatives"][0] == {
        "kind": "dates", "label": "bỏ lọc ngày", "query": "UBND", "total": shared_index.search("UBND").total,
        "some_words": False, "dropped": []}


def test_the_empty_page_links_each_alternative(client):
    html = client.get("/", query_string={"q": "UBND", "year": "1990", "sort": "date"}).get_data(as_text=True)
    assert 'id="alternatives"' in html and "bỏ lọc ngày" in html
    assert 'href="/?q=UBND&amp;sort=date"' in html  # the year is dropped, the sort kept
    followed = client.get("/?q=UBND&sort=date").get_data(as_text=True)
    assert 'class="hit"' in followed and 'id="alternatives"' not in followed
    html = client.get("/", query_string={"q": '"tập huấn xyzzy"'}).get_data(as_text=True)
    assert "bỏ ngoặc kép" in html and "(có một số từ)" in html
    assert client.get("/api/search", query_string={"q": "UBND date:1990"}).get_json()["alternatives"][0]["query"] == "UBND"



@pytest.mark.parametrize("query, expected", [
    ('"KHÔNG GIAN MẠNG"', "không GIAN MẠNG"),   # a quoted word the parser reads as NOT in capitals
    ('"ông OR bà"', "ông or bà"),
    ('"giá vàng" NOT title:giá', "giá vàng NOT title:giá"),  # "-title:giá" excludes the word "title:giá"
    ('"kẻ cướp" date:>2024-12-27', "kẻ cướp date:>2024-12-27"),  # not ">=": the boundary day is out
    ('"kẻ cướp" date:<2020', "kẻ cướp date:<2020-01-01"),
    ('"kẻ cướp" date:0999', "kẻ cướp date:0999-01-01..0999-12-31"),
])
def test_without_quotes_searches_what_the_link_says(query, expected):
    from indexer.search.relax import DROPS, _map

    node, _ = parse(query)
    assert render(_map(node, DROPS["quotes"])) == expected
    assert parse(expected)[0] == parse(render(_map(node, DROPS["quotes"])))[0]


def test_an_alternative_whose_text_would_search_something_else_is_not_offered(shared_index):
    res = shared_index.search('"tập huấn || xyzzy"')  # unquoted, "||" is OR
    assert res.total == 0 and all(a.kind != "quotes" for a in res.alternatives)
