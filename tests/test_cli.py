"""The real ``vnsearch`` entry point, run as a subprocess."""

import json
import os
import re
import subprocess
import sys

import pytest

from .conftest import ROOT


def vnsearch(*args, cwd=None):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "indexer.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_index_then_search_json(corpus_dir, tmp_path):
    ix = str(tmp_path / "ix")
    out = vnsearch("index", str(corpus_dir), "--index-dir", ix, "-q")
    assert out.returncode == 0, out.stderr
    assert "12 added" in out.stdout and "1 warning\n" in out.stdout and "31/02/2020" in out.stdout
    again = vnsearch("index", str(corpus_dir), "--index-dir", ix, "--json", "-q")
    report = json.loads(again.stdout)
    assert report["unchanged"] == 12 and report["added"] == 0

    res = vnsearch("search", "mat tran to quoc", "--index-dir", ix, "--limit", "2", "--json")
    data = json.loads(res.stdout)
    assert set(data) == {"query", "total", "total_relation", "page", "per_page", "pages", "took_ms", "suggestion", "notice",
                         "reading", "alternatives", "hits"}
    assert data["per_page"] == 2 and len(data["hits"]) == 2 and data["total"] >= 5
    assert set(data["hits"][0]) == {"id", "title", "date", "datetime", "score", "url", "page_url", "snippet"}
    assert "<mark>" in data["hits"][0]["snippet"]

    page2 = json.loads(vnsearch("search", "mat tran to quoc", "--index-dir", ix, "--limit", "2",
                                "--page", "2", "--json").stdout)
    assert page2["page"] == 2 and {h["id"] for h in page2["hits"]}.isdisjoint({h["id"] for h in data["hits"]})

    by_date = json.loads(vnsearch("search", "Mặt trận", "--index-dir", ix, "--sort", "date", "--json").stdout)
    dates = [h["date"] for h in by_date["hits"] if h["date"]]
    assert dates == sorted(dates, reverse=True)

    text = vnsearch("search", "Phúc Thọ", "--index-dir", ix)
    assert text.returncode == 0 and "[Phúc Thọ]" in text.stdout and "001_d00b9dc15467eaee.txt" in text.stdout

    show = vnsearch("show", "001_d00b9dc15467eaee.txt", "--index-dir", ix)
    assert show.returncode == 0 and "Hoàng Thị Cúc" in show.stdout


def test_rebuild_flag_and_errors(corpus_dir, tmp_path):
    ix = str(tmp_path / "ix")
    assert vnsearch("index", str(corpus_dir), "--index-dir", ix, "-q").returncode == 0
    out = vnsearch("index", str(corpus_dir), "--index-dir", ix, "--rebuild", "-q")
    assert out.returncode == 0 and out.stdout.startswith("rebuilt the index in ")
    missing = vnsearch("search", "x", "--index-dir", str(tmp_path / "none"))
    assert missing.returncode == 1 and missing.stderr.startswith("Lỗi: chưa có chỉ mục trong ")
    bad = vnsearch("search", "x", "--index-dir", ix, "--from", "hôm qua")
    assert bad.returncode == 2 and bad.stderr == "Lỗi: ngày không hợp lệ 'hôm qua': dùng YYYY, YYYY-MM hoặc YYYY-MM-DD\n"
    assert vnsearch("show", "nope", "--index-dir", ix).returncode == 1


def test_stats_mirrors_the_python_api(corpus_dir, tmp_path):
    from indexer import open_index

    ix = str(tmp_path / "ix")
    assert json.loads(vnsearch("stats", "--index-dir", ix, "--json").stdout)["articles"] == 0
    vnsearch("index", str(corpus_dir), "--index-dir", ix, "-q")
    stats = json.loads(vnsearch("stats", "--index-dir", ix, "--json").stdout)
    assert stats == open_index(ix).stats()
    assert stats["articles"] == 12 and stats["segments"] == 1 and stats["generation"].startswith("gen-")
    assert "articles: 12" in vnsearch("stats", "--index-dir", ix).stdout


def test_an_index_with_no_articles_is_a_normal_state(tmp_path):
    """Every article removed (here: an empty feed) leaves an index that answers, not a traceback."""
    feed = tmp_path / "f.jsonl"
    feed.write_text("", encoding="utf-8")
    ix = str(tmp_path / "ix")
    assert vnsearch("index", str(feed), "--index-dir", ix, "-q").returncode == 0
    text = vnsearch("search", "mat tran", "--index-dir", ix)
    assert text.returncode == 0 and "Traceback" not in text.stderr, text.stderr
    assert text.stdout.startswith("0 kết quả") and "Chỉ mục chưa có bài viết nào" in text.stdout
    data = json.loads(vnsearch("search", "x", "--index-dir", ix, "--json", "--sort", "date", "--any",
                               "--from", "2019").stdout)
    assert data["total"] == 0 and data["hits"] == [] and "chưa có bài viết" in data["notice"]
    show = vnsearch("show", "x", "--index-dir", ix)
    assert show.returncode == 1 and "Lỗi: không có bài viết nào mang mã 'x'" in show.stderr and "Traceback" not in show.stderr
    stats = vnsearch("stats", "--index-dir", ix, "--json")
    assert stats.returncode == 0 and json.loads(stats.stdout)["articles"] == 0


def test_search_explain_shows_how_each_score_was_made(corpus_dir, tmp_path):
    ix = str(tmp_path / "ix")
    vnsearch("index", str(corpus_dir), "--index-dir", ix, "-q")
    text = vnsearch("search", "mat tran to quoc", "--index-dir", ix, "--explain", "-n", "2")
    assert text.returncode == 0 and "Kết quả cho: mặt trận tổ quốc" in text.stdout
    assert "   =  " in text.stdout and "shingles body" in text.stdout
    data = json.loads(vnsearch("search", "mat tran to quoc", "--index-dir", ix, "--explain", "--json").stdout)
    assert data["reading"] == "mặt trận tổ quốc"
    for hit in data["hits"]:
        assert hit["explanation"]["score"] == pytest.approx(hit["score"], abs=1e-4)
    typed = json.loads(vnsearch("search", "mat tran to quoc", "--index-dir", ix, "--as-typed", "--json").stdout)
    assert typed["reading"] is None and typed["total"] == data["total"]


def test_indexing_a_path_that_does_not_exist_fails_with_exit_3_and_says_why(tmp_path):
    missing = tmp_path / "no" / "such" / "path"
    out = vnsearch("index", str(missing), "--index-dir", str(tmp_path / "ix"), "-q")
    assert out.returncode == 3, (out.stdout, out.stderr)
    assert f"  skipped {missing}: no such file or folder\n" in out.stdout
    assert f"  source not read whole: {missing}: nothing it held was removed" in out.stdout
    assert out.stderr == "Error: 1 source could not be read whole; nothing it held was removed\n"


def test_the_summary_says_what_was_built_and_counts_in_agreement(tmp_path):
    """Issue 22: a first build said "rebuilt index" and "1 warnings"."""
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps({"id": "a", "title": "Tin", "body": "Nội dung", "date": "31/02/2020"}) + "\n",
                    encoding="utf-8")
    ix = str(tmp_path / "ix")
    first = vnsearch("index", str(feed), "--index-dir", ix, "-q")
    assert first.returncode == 0, first.stderr
    assert re.fullmatch(r"built a new index in \d+\.\ds, \d+ articles/s: 1 added, 0 updated, 0 removed, "
                        r"0 unchanged, 0 skipped, 1 warning", first.stdout.splitlines()[0]), first.stdout
    with feed.open("a", encoding="utf-8") as f:
        f.write(json.dumps({"id": "b", "title": "Tin", "body": "Khác", "date": "hôm qua"}) + "\n")
    again = vnsearch("index", str(feed), "--index-dir", ix, "-q")
    assert re.fullmatch(r"updated the index in \d+\.\ds, \d+ articles/s: 1 added, 0 updated, 0 removed, "
                        r"1 unchanged, 0 skipped, 2 warnings", again.stdout.splitlines()[0]), again.stdout
    rebuilt = vnsearch("index", str(feed), "--index-dir", ix, "-q", "--rebuild", "--json")
    report = json.loads(rebuilt.stdout)
    assert (report["rebuilt"], report["new_index"], report["added"], report["warnings_total"]) == (True, False, 2, 2)
    assert json.loads(vnsearch("index", str(feed), "--index-dir", str(tmp_path / "ix2"), "-q", "--json").stdout
                      )["new_index"] is True


def test_the_progress_bar_counts_the_bytes_of_the_sources_then_says_it_commits(tmp_path):
    """Issue 22: the bar had no total nor percentage for a JSON-lines feed, then stood still
    during the commit."""
    from tqdm import tqdm

    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps({"id": str(i), "title": f"Tin {i}", "body": "Hợp tác xã Phúc Thọ. " * 20},
                                       ensure_ascii=False) + "\n" for i in range(150)), encoding="utf-8")
    out = vnsearch("index", str(feed), "--index-dir", str(tmp_path / "ix"), "--jobs", "1")
    assert out.returncode == 0, out.stderr
    lines = [line for line in out.stderr.replace("\r", "\n").splitlines() if line.strip()]
    total = tqdm.format_sizeof(feed.stat().st_size, divisor=1024) + "B"
    assert re.fullmatch(rf"indexing: 100%\|█+\| {total}/{total} \[.*150 articles, [\d,]+ articles/s\]", lines[-2]), lines
    assert lines[-1] == "committing 150 new or changed articles…"
    assert all(re.match(rf"indexing: +\d+%\|.*/{total} ", line) for line in lines[:-1]), lines
    assert out.stdout.startswith("built a new index")
    quiet = vnsearch("index", str(feed), "--index-dir", str(tmp_path / "ix"), "-q")
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_search_that_finds_nothing_prints_the_searches_without_what_emptied_it(corpus_dir, tmp_path):
    ix = str(tmp_path / "ix")
    assert vnsearch("index", str(corpus_dir), "--index-dir", ix, "-q").returncode == 0
    out = vnsearch("search", "UBND", "--from", "2030", "--index-dir", ix).stdout
    total = json.loads(vnsearch("search", "UBND", "--index-dir", ix, "--json").stdout)["total"]
    assert out.startswith("0 kết quả") and f"Thử: UBND (bỏ --from) — bỏ lọc ngày: {total} kết quả" in out
