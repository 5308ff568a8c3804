"""End to end in headless Chromium (Debian's /usr/bin/chromium) against waitress on 127.0.0.1."""

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
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    pg = context.new_page()
    pg.goto(server + "/?q=tap+huan")
    width = pg.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # nothing overflows sideways
    pg.screenshot(path=str(ARTIFACTS / "results-phone.png"))
    context.close()


def test_an_empty_result_offers_the_search_without_what_emptied_it(page, server):
    page.goto(server + "/?q=" + "UBND+date%3A1990")
    page.wait_for_selector("#alternatives li")
    offered = page.inner_text("#alternatives")
    assert "bỏ lọc ngày" in offered and "kết quả" in offered
    page.click("#alternatives a")
    page.wait_for_selector("ol.results li.hit")
    assert page.input_value("#q") == "UBND" and not page.is_visible("#alternatives")
    assert page.errors == []
