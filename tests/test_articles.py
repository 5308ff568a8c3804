import gzip
import json
from datetime import datetime

import pytest

from indexer.ingest import Article, Problem, iter_articles
from indexer.ingest.articlefile import parse_article_text
from indexer.ingest.decode import DecodeError, decode_bytes

from .conftest import SEEDS


def _seed(prefix):
    item = next(iter_articles([next(SEEDS.glob(prefix + "*.txt"))]))
    assert isinstance(item, Article)
    return item


SEED_EXPECTATIONS = [
    ("000", "Ủy ban MTTQ Việt Nam quận Tây Hồ tổ chức lớp tập huấn công tác Mặt trận năm 2019",
     datetime(2019, 9, 27, 18, 20), "Hoàng Hương – MTTQ quận Tây Hồ",
     "Sáng ngày 24/9/2019", "đáp ứng yêu cầu nhiệm vụ trong giai đoạn mới."),
    ("001", "Phúc Thọ tổ chức Lớp bồi dưỡng kiến thức nghiệp vụ công tác mặt trận năm 2024",
     datetime(2024, 7, 3, 13, 53), "Hoàng Thị Cúc", "Ngày 01-02/7", "trong giai đoạn hiện nay."),
    ("002", "Thị xã Sơn Tây tập huấn công tác Mặt trận năm 2020",
     datetime(2020, 10, 7, 15, 35), "Ủy ban MTTQ thị xã Sơn Tây", "Ngày 7/10", "trong tình hình mới."),
    ("003", "Mặt trận Cửa Đại tổ chức Tọa đàm bàn giải pháp nâng cao chất lượng, hiệu quả hoạt động Ban công tác Mặt trận khu dân cư",
     datetime(2022, 6, 17), "Trần Ngọc Thanh - CT. UBMTTQVN phường", "Sáng ngày 17/6/2022",
     "phong cách Hồ Chí Minh”"),
    ("004", "Ủy ban MTTQ Việt Nam quận Thanh Xuân Hội nghị phát động thi, đua ký kết chương trình phối hợp công tác giữa Ủy ban MTTQ quận với các tổ chức thành viên năm 2023",
     datetime(2023, 1, 13, 18, 0), "Uỷ ban MTTQ Việt Nam quận", "Sáng 13/01/2023", "công tác Mặt trận năm 2022."),
]
CHROME = ["Các tin tức khác", "danh mục tin tức", "Kết quả bình chọn", "Tin đã đưa", "Lượt xem", "Go To",
          "Xem theo ngày", "banner web", "Website các phòng ban"]


@pytest.mark.parametrize("prefix,title,date,author,body_start,body_end", SEED_EXPECTATIONS)
def test_seed_is_parsed(prefix, title, date, author, body_start, body_end):
    a = _seed(prefix)
    assert a.title == title
    assert a.date == date
    assert a.has_time == (prefix != "003")
    assert a.author == author
    assert a.body.startswith(body_start)
    assert a.body.rstrip().endswith(body_end)
    for chrome in CHROME:
        assert chrome not in a.body
    assert a.body.split("\n")[-1].strip() != author
    assert a.id.startswith(prefix) and a.id.endswith(".txt")


def test_seed_file_is_not_modified(tmp_path):
    src = next(SEEDS.glob("000*.txt"))
    before = src.read_bytes()
    list(iter_articles([src]))
    assert src.read_bytes() == before


@pytest.mark.parametrize("encode", [
    lambda t: t.encode("utf-8"),
    lambda t: b"\xef\xbb\xbf" + t.encode("utf-8"),
    lambda t: t.replace("\n", "\r\n").encode("utf-8"),
    lambda t: t.encode("utf-16"),            # with BOM
    lambda t: t.encode("utf-16-le"),         # without BOM
    lambda t: t.encode("utf-16-be"),
], ids=["utf8", "utf8-bom", "crlf", "utf16-bom", "utf16le", "utf16be"])
def test_encodings_are_read(encode):
    text = "Tiêu đề bài\n01/02/2020\nNội dung bài viết về Mặt trận.\nTác giả"
    assert decode_bytes(encode(text)) == (text, None)


CP1258 = "H\u00e0 N\u00f4\u0323i \u0111e\u0323p v\u00e0 \u01b0u ti\u00ea\u0301n".encode("cp1258")


@pytest.mark.parametrize("data,text,note", [
    ("Tiếng Việ".encode()[:-1], "Tiếng Vi", "truncated"),  # cut inside the "ệ"
    (CP1258, "Hà Nội đẹp và ưu tiến", "Windows-1258"),
    ("Café au lait, crème brûlée".encode("cp1252"), "Café au lait, crème brûlée", "Windows-1252"),
    ("Mặt trận Tổ quốc Việt Nam".encode()[:5] + b"\xff" + "Mặt trận Tổ quốc Việt Nam".encode()[5:],
     "Mặt\ufffd trận Tổ quốc Việt Nam", "1 invalid UTF-8"),
], ids=["truncated", "cp1258", "cp1252", "damaged-utf8"])
def test_legacy_and_damaged_text_is_read_with_a_note(data, text, note):
    decoded, why = decode_bytes(data)
    assert note in why and decoded == text


@pytest.mark.parametrize("data,reason", [
    (bytes(range(256)) * 4, "binary"),
    (b"\x81\x8d\x8f\x90\x9d" * 10, "not valid UTF-8"),  # undefined in every candidate
])
def test_undecodable_input_is_refused_with_a_reason(data, reason):
    with pytest.raises(DecodeError, match=reason):
        decode_bytes(data)


def test_impossible_date_is_dropped_not_the_article():
    article, problems = parse_article_text("Tiêu đề\n31/02/2020 - 08:00 AM\nThân bài đầy đủ.\nTác giả", "x")
    assert article is not None and article.date is None and article.body == "Thân bài đầy đủ."
    assert len(problems) == 1 and not problems[0].skipped and "31/02/2020" in problems[0].reason


def test_chrome_only_and_empty_files_are_skipped():
    assert parse_article_text("", "e")[0] is None
    article, problems = parse_article_text("Các tin tức khác\ndanh mục tin tức\n", "c")
    assert article is None and problems and problems[0].skipped
    article, problems = parse_article_text("Chỉ có tiêu đề\n\nCác tin tức khác\nx", "t")
    assert article is None and "no article text" in problems[0].reason


def test_jsonl_records_and_their_problems(tmp_path):
    lines = [
        json.dumps({"id": "a", "title": "Tin A", "date": "2020-05-17", "body": "Nội dung A", "category": "Xã hội"}),
        "{not json",
        json.dumps({"title": "không có id", "body": "x"}),
        json.dumps({"id": 7, "title": "Tin số", "date": "2020-02-31", "body": "Ngày sai"}),
        json.dumps({"id": "b", "title": ["sai kiểu"], "body": "x"}),
        json.dumps([1, 2]),
        "",
        json.dumps({"id": "c", "title": "Có dòng\u2028lạ", "date": None, "body": "Thân\u2029bài", "url": 5}),
    ]
    path = tmp_path / "x.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    items = list(iter_articles([path]))
    articles = {i.id: i for i in items if isinstance(i, Article)}
    problems = [i for i in items if isinstance(i, Problem)]
    assert set(articles) == {"a", "7", "c"}
    assert articles["a"].date == datetime(2020, 5, 17) and articles["a"].category == "Xã hội"
    assert articles["7"].date is None
    assert articles["c"].title == "Có dòng\u2028lạ"  # split on \n only
    reasons = " | ".join(p.reason for p in problems)
    for expected in ("invalid JSON", "missing or invalid 'id'", "impossible date", "'title' must be a string",
                     "expected a JSON object", "'url' must be a string"):
        assert expected in reasons


def test_truncated_gzip_keeps_what_was_read(tmp_path):
    path = tmp_path / "cut.jsonl.gz"
    body = "".join(json.dumps({"id": str(i), "title": f"Tin {i}", "body": "nội dung " * 50}) + "\n" for i in range(200))
    data = gzip.compress(body.encode("utf-8"))
    path.write_bytes(data[: len(data) // 2])
    items = list(iter_articles([path]))
    assert any(isinstance(i, Article) for i in items)
    assert isinstance(items[-1], Problem) and "could not read further" in items[-1].reason


def test_missing_path_is_reported(tmp_path):
    items = list(iter_articles([tmp_path / "nope"]))
    assert len(items) == 1 and isinstance(items[0], Problem)


def test_the_change_hash_sees_every_field_and_where_one_ends():
    from dataclasses import replace

    base = Article(id="a", title="Mặt trận", body="Tổ quốc", date=datetime(2021, 5, 17), has_time=False,
                   author="PV", source="s", category="c", url="u", path="p")
    changed = [replace(base, title="Mặt trận "), replace(base, body="Tổ quốc."), replace(base, date=None),
               replace(base, date=datetime(2021, 5, 18)), replace(base, has_time=True), replace(base, author=""),
               replace(base, source="t"), replace(base, category="d"), replace(base, url="v"), replace(base, path="q"),
               # a value's end moved into the next value
               replace(base, title="Mặt trậnT", body="ổ quốc"), replace(base, source="sc", category="")]
    hashes = {a.content_hash("4") for a in changed}
    assert len(hashes) == len(changed) and base.content_hash("4") not in hashes
    assert replace(base, id="b").content_hash("4") == base.content_hash("4")  # the id is the key, not the content
    assert replace(base, body="lone \ud800").content_hash("4")  # hashing never fails on a surrogate
    assert base.content_hash("5") != base.content_hash("4")  # a new schema re-indexes everything
