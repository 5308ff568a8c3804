"""End to end in headless Chromium (Debian's /usr/bin/chromium) against waitress on 127.0.0.1."""

import re
import threading
from pathlib import Path

import pytest

from search_web import create_app

from .conftest import ARTIFACTS

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(shared_index):
    from waitress import create_server

    app = create_app(index_dir=shared_index.index_dir, test_config={"PER_PAGE": 3})
    srv = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.effective_port}"
    srv.close()


@pytest.fixture(scope="module")
def browser():
    assert CHROMIUM.exists(), "install Debian's chromium (apt-get install chromium); .ci/run does"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="vi-VN")
    pg = context.new_page()
    pg.errors = []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    yield pg
    context.close()


def test_type_query_without_diacritics_and_see_highlights(page, server):
    page.goto(server + "/")
    page.get_by_label("Từ khoá tìm kiếm").fill("mat tran to quoc")
    page.keyboard.press("Enter")
    page.wait_for_selector("ol.results li.hit")
    assert "Tìm thấy" in page.inner_text("#stats")
    marks = page.locator("ol.results mark").all_inner_texts()
    assert marks and {"MTTQ", "Mặt trận Tổ quốc"} & set(marks)
    assert page.input_value("#q") == "mat tran to quoc"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "results.png"), full_page=True)
    assert (ARTIFACTS / "results.png").stat().st_size > 10_000
    assert page.errors == []


def test_keyboard_off_query_and_did_you_mean(page, server):
    """Keystrokes typed with the Vietnamese keyboard off show results for the words they
    spell, with a notice; a typo offers a correction whose link runs it."""
    page.goto(server + "/")
    page.get_by_label("Từ khoá tìm kiếm").fill("mawtj traanj toor quoocs")
    page.keyboard.press("Enter")
    page.wait_for_selector("ol.results li.hit")
    assert "mặt trận tổ quốc" in page.inner_text("p.notice")
    assert "Mặt trận Tổ quốc" in page.locator("ol.results mark").all_inner_texts()
    assert page.input_value("#q") == "mawtj traanj toor quoocs"
    page.get_by_label("Từ khoá tìm kiếm").fill("tâp huân")
    page.keyboard.press("Enter")
    page.wait_for_selector("#did-you-mean")
    page.click("#did-you-mean")
    page.wait_for_selector("ol.results li.hit")
    assert page.input_value("#q") == "tập huấn" and page.locator("#did-you-mean").count() == 0
    assert "tập huấn" in [m.lower() for m in page.locator("ol.results mark").all_inner_texts()]
    assert page.errors == []


def test_paginate(page, server):
    page.goto(server + "/?q=mặt+trận")
    first = page.locator("ol.results li.hit h3 a").all_inner_texts()
    page.get_by_role("navigation", name="Phân trang").get_by_role("link", name="2", exact=True).click()
    page.wait_for_selector("[aria-current=page]:text('2')")
    second = page.locator("ol.results li.hit h3 a").all_inner_texts()
    assert first and second and not set(first) & set(second)
    page.get_by_role("link", name="« Trước").click()
    assert page.locator("ol.results li.hit h3 a").all_inner_texts() == first


def test_open_article_see_text_and_related(page, server):
    page.goto(server + "/?q=phuc+tho")
    page.locator("ol.results li.hit h3 a").first.click()
    page.wait_for_selector("article.article")
    assert "Phúc Thọ" in page.inner_text("article h1")
    assert "Hoàng Thị Cúc" in page.inner_text("article")
    assert "Phúc Thọ" in page.locator("article mark").all_inner_texts()
    related = page.locator("section.related li a")
    assert related.count() >= 1
    related.first.click()
    page.wait_for_selector("article.article")
    assert page.errors == []


def test_script_in_query_is_text_and_never_runs(page, server):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    payload = "<script>alert('q')</script><img src=x onerror=alert('i')>"
    page.goto(server + "/")
    page.fill("#q", payload)
    page.keyboard.press("Enter")
    page.wait_for_load_state("networkidle")
    assert page.input_value("#q") == payload
    page.goto(server + "/?q=mã+độc")
    page.locator("ol.results li.hit h3 a").first.click()
    page.wait_for_selector("article.article")
    assert "<script>alert('xss')</script>" in page.inner_text("article")  # shown as text
    assert dialogs == [] and page.errors == []


def test_keyboard_and_typeahead(page, server):
    page.goto(server + "/")
    assert page.evaluate("document.activeElement.id") == "q"  # autofocus: type straight away
    page.keyboard.type("mat tr")  # typed without diacritics: the phrases as the titles write them
    page.wait_for_selector("#suggestions li", state="visible")
    options = page.eval_on_selector_all("#suggestions li", "els => els.map(e => e.textContent)")
    assert options and all(o.startswith("mặt tr") for o in options), options
    assert page.get_attribute("#q", "aria-expanded") == "true"
    completed = page.eval_on_selector_all("#suggestions li b", "els => els.map(e => e.textContent)")
    assert completed[0] == options[0][len("mặt tr"):]  # the completion in bold, what was typed plain
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert page.get_attribute("#suggestion-1", "aria-selected") == "true"
    assert page.get_attribute("#q", "aria-activedescendant") == "suggestion-1"
    page.keyboard.press("Escape")
    assert page.is_hidden("#suggestions") and page.input_value("#q") == "mat tr"
    page.keyboard.type("a")  # typing again opens it; Down, Enter searches the first phrase
    page.wait_for_selector("#suggestions li", state="visible")
    first = page.text_content("#suggestion-0")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_selector("#stats")
    assert page.input_value("#q") == first
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("/")  # "/" puts the cursor back in the box
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Tìm"
    page.keyboard.press("Enter")
    page.wait_for_selector("#stats")
    assert page.errors == []


def test_phone_layout(browser, server):
    """At 390x844 the sort, mode and date fields each took a full row and the first result
    started near y=360: they are now a closed "Bộ lọc", the facets a line each."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, locale="vi-VN")
    pg = context.new_page()
    pg.goto(server + "/?q=Việt+Nam")  # facets of both kinds (year, category), three hits
    assert pg.locator("aside.facets h2").all_inner_texts() == ["Năm", "Chuyên mục"]
    top = pg.evaluate("document.querySelector('ol.results li.hit').getBoundingClientRect().top")
    assert top < 260, top
    assert pg.is_hidden("#sort") and pg.is_hidden("#from")
    width = pg.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # nothing overflows sideways (a long facet line scrolls by itself)
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / "results-phone.png"))
    pg.get_by_text("Bộ lọc").click()  # one tap opens them
    assert pg.is_visible("#sort") and pg.is_visible("#mode") and pg.is_visible("#from") and pg.is_visible("#to")
    pg.select_option("#sort", "date")
    pg.get_by_role("button", name="Tìm").click()
    pg.wait_for_selector("ol.results li.hit")
    assert "sort=date" in pg.url and "(1)" in pg.inner_text("#filters summary")  # closed again, says one is set
    assert pg.evaluate("document.querySelector('ol.results li.hit').getBoundingClientRect().top") < 260
    context.close()


def test_filters_are_inline_on_a_wide_screen(page, server):
    page.goto(server + "/?q=mặt+trận")
    assert page.is_visible("#sort") and page.is_visible("#mode") and page.is_visible("#from")
    assert page.is_hidden("#filters summary")  # nothing to open
    top = page.evaluate("document.querySelector('#sort').getBoundingClientRect().top")
    assert top < page.evaluate("document.querySelector('#stats').getBoundingClientRect().top")
    page.select_option("#mode", "any")
    page.get_by_role("button", name="Tìm").click()
    page.wait_for_selector("ol.results li.hit")
    assert "mode=any" in page.url and page.input_value("#mode") == "any"
    assert page.errors == []


def _rgb(css: str) -> tuple[float, ...]:
    return tuple(float(x) for x in re.findall(r"[\d.]+", css)[:3])


def _luminance(css: str) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in _rgb(css))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


STYLE = "([sel, prop]) => getComputedStyle(document.querySelector(sel))[prop]"


def test_dark_mode(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    pg = context.new_page()
    pg.goto(server + "/?q=mat+tran+to+quoc")
    assert _luminance(pg.evaluate(STYLE, ["body", "backgroundColor"])) > 0.9  # light unless asked
    cdp = context.new_cdp_session(pg)
    cdp.send("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    assert pg.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
    bg, fg = pg.evaluate(STYLE, ["body", "backgroundColor"]), pg.evaluate(STYLE, ["body", "color"])
    assert _luminance(bg) < 0.03 and _luminance(fg) > 0.6, (bg, fg)  # a dark page, light text
    assert _contrast(fg, bg) >= 7  # WCAG AAA for the text
    for sel in ("ol.results h3 a", ".stats", ".meta", "#as-typed", ".facets a"):  # links and grey text: AA
        assert _contrast(pg.evaluate(STYLE, [sel, "color"]), bg) >= 4.5, sel
    mark = pg.evaluate(STYLE, [".snippet mark", "backgroundColor"])
    assert _contrast(pg.evaluate(STYLE, [".snippet mark", "color"]), mark) >= 4.5  # marked words readable
    assert _contrast(mark, bg) >= 2  # and the marks stand out from the page
    for sel in ("#q", "#sort", "#from"):  # fields: dark, light text
        field = pg.evaluate(STYLE, [sel, "backgroundColor"])
        assert _luminance(field) < 0.05 and _contrast(pg.evaluate(STYLE, [sel, "color"]), field) >= 7, sel
    pg.fill("#q", "")
    pg.keyboard.type("mat tr")
    pg.wait_for_selector("#suggestions li", state="visible")
    pg.keyboard.press("ArrowDown")
    menu = pg.evaluate(STYLE, ["#suggestions", "backgroundColor"])
    chosen = pg.evaluate(STYLE, ["#suggestion-0", "backgroundColor"])
    assert _luminance(menu) < 0.05 and _contrast(pg.evaluate(STYLE, ["#suggestions li", "color"]), menu) >= 7
    assert _contrast(chosen, menu) >= 1.3 and _contrast(pg.evaluate(STYLE, ["#suggestion-0", "color"]), chosen) >= 7
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / "results-dark.png"))
    context.close()


def test_date_fields_read_dd_mm_yyyy_under_an_english_locale(browser, server):
    """An <input type=date> followed the browser's locale: mm/dd/yyyy under en-US."""
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="en-US")
    pg = context.new_page()
    pg.goto(server + "/?q=mặt+trận&from=2019-01-01")  # an old link
    assert pg.get_attribute("#from", "type") == "text" and pg.get_attribute("#to", "placeholder") == "dd/mm/yyyy"
    assert pg.input_value("#from") == "01/01/2019"
    pg.click("#to")
    pg.keyboard.type("31/12/2020")  # typed: its "/" stays in the field ("/" elsewhere goes to the search box)
    assert pg.evaluate("document.activeElement.id") == "to"
    pg.keyboard.press("Enter")
    pg.wait_for_url("**to=31%2F12%2F2020**")
    assert pg.input_value("#to") == "31/12/2020" and pg.input_value("#from") == "01/01/2019"
    dates = pg.eval_on_selector_all("ol.results time", "els => els.map(e => e.getAttribute('datetime'))")
    assert dates and all("2019" <= d[:4] <= "2020" for d in dates)
    assert pg.locator(".error").count() == 0
    context.close()


def test_the_readme_screenshots_are_made_by_a_script(tmp_path):
    """docs/screenshots.py (the README's pictures) runs: every picture, its size, small palette PNGs."""
    import struct
    import subprocess
    import sys

    from .conftest import ROOT

    script = ROOT / "docs" / "screenshots.py"
    done = subprocess.run([sys.executable, str(script), "--out", str(tmp_path)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    sizes = {"results-phone.png": (390, 844)}
    names = {p.name for p in tmp_path.iterdir()}
    assert names == {"home.png", "results.png", "results-phone.png", "results-dark.png", "no-results.png", "article.png"}
    for name in names:
        data = (tmp_path / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
        width, height, depth, kind = struct.unpack(">IIBB", data[16:26])
        assert (width, height) == sizes.get(name, (1280, 900)) and (depth, kind) == (8, 3), name  # 8-bit palette
        assert 10_000 < len(data) < 150_000, (name, len(data))
    committed = ROOT / "docs" / "screenshots"
    assert {p.name for p in committed.glob("*.png")} == names  # the README shows what the script makes


def test_an_empty_result_offers_the_search_without_what_emptied_it(page, server):
    page.goto(server + "/?q=" + "UBND+date%3A1990")
    page.wait_for_selector("#alternatives li")
    offered = page.inner_text("#alternatives")
    assert "bỏ lọc ngày" in offered and "kết quả" in offered
    page.click("#alternatives a")
    page.wait_for_selector("ol.results li.hit")
    assert page.input_value("#q") == "UBND" and not page.is_visible("#alternatives")
    assert page.errors == []


def test_the_date_fields_pattern_accepts_what_the_server_reads(page, server):
    """An invalid pattern is silently ignored by the browser (the 'v' flag refuses an unescaped
    "/" in a class): check it takes effect, accepting every form the server reads."""
    page.goto(server + "/?q=mặt+trận")
    valid = "([id, v]) => { const f = document.getElementById(id); f.value = v; return f.checkValidity(); }"
    for value in ("27/09/2019", "27-09-2019", "27.09.2019", "9/2019", "2019", "2019-09-27"):
        assert page.evaluate(valid, ["from", value]), value
    for value in ("27/09-2019", "hôm qua", "2019/09/27"):
        assert not page.evaluate(valid, ["to", value]), value
    assert page.errors == []
