"""The explorer's page in a real browser: headless Chromium (Debian's `chromium`, which
.ci/run installs) driven by Playwright, against a live server on 127.0.0.1.

Each test types and clicks as a person would and checks what the page shows against the
vectors' own answers. Every page also records dialogs and script errors: a test fails if the
page raised one (the hostile vocabulary word would open an alert if it ran). Screenshots go
to each test's tmp_path.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from serve_helpers import HOSTILE, topic_vectors, write_run
from w2v.serve import server
from w2v.serve.app import create_app
from w2v.serve.models import Model

CHROMIUM = os.environ.get("W2V_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
VIEWPORT = {"width": 1400, "height": 1000}
TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"no Chromium at {CHROMIUM}: apt-get install chromium (Debian), "
            "or point W2V_CHROMIUM at one (.ci/run installs it)"
        )
    with sync_playwright() as playwright:
        # Playwright's own browser download needs the internet; Debian's build does not.
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def one() -> Iterator[tuple[str, Model]]:
    """A server of one model whose vocabulary holds the hostile word."""
    model = Model.of("topics", topic_vectors(1, hostile=True), str.lower)
    with server.Background(create_app([model])) as running:
        yield running.url, model


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[Model]]]:
    """A: a run directory trained with --eval; B: other vectors of the same words."""
    run_dir = write_run(tmp_path_factory.mktemp("browser") / "run", topic_vectors(1))
    models = [Model.load(str(run_dir)), Model.of("b", topic_vectors(2, hostile=True), str.lower)]
    with server.Background(create_app(models)) as running:
        yield running.url, models


@pytest.fixture
def visit(browser: Browser, tmp_path: Path, request) -> Iterator[Callable[[str], Page]]:
    """Opens the page at a URL once it is ready; afterwards screenshots it and checks that it
    opened no dialog and raised no script error."""
    opened: list[tuple[Page, list[str]]] = []

    def open_page(url: str) -> Page:
        page = browser.new_page(viewport=VIEWPORT)
        page.set_default_timeout(TIMEOUT_MS)
        events: list[str] = []
        page.on(
            "dialog", lambda dialog: (events.append(f"dialog: {dialog.message}"), dialog.dismiss())
        )
        page.on("pageerror", lambda exc: events.append(f"script error: {exc}"))
        page.goto(url)
        page.wait_for_selector("body[data-ready=true]")
        opened.append((page, events))
        return page

    yield open_page
    for n, (page, events) in enumerate(opened):
        page.screenshot(path=str(tmp_path / f"{request.node.name}-{n}.png"), full_page=True)
        page.close()
        assert events == []


def neighbour_rows(page: Page, column: int = 0) -> list[tuple[str, str]]:
    rows = page.locator(f"#neighbors .column >> nth={column}").locator("ol.scored li")
    return [
        (row.locator("button.word").text_content(), row.locator(".score").text_content())
        for row in rows.all()
    ]


def point_on_screen(page: Page, word: str, canvas: int = 0) -> tuple[float, float]:
    """Where the map draws ``word``, in page coordinates."""
    return (
        page.locator("canvas.map")
        .nth(canvas)
        .evaluate(
            """(canvas, word) => {
            const map = canvas.wordMap;
            const [x, y] = map.screen(map.points.find((p) => p.word === word));
            const box = canvas.getBoundingClientRect();
            return [box.left + x, box.top + y];
        }""",
            word,
        )
    )


def test_typing_a_word_completes_it_and_shows_its_neighbours(visit, one):
    url, model = one
    page = visit(url)
    page.locator("#word").press_sequentially("T0W")
    suggestions = page.locator(".suggestions:not([hidden]) li")
    t0 = [w for w in model.kv.index_to_key if w.startswith("t0w")]
    expect(suggestions).to_have_text(t0)  # most frequent first
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.locator("#neighbors ol.scored li").first.wait_for()
    expected = model.kv.most_similar(t0[0], topn=10)
    assert neighbour_rows(page) == [(w, f"{s:.4f}") for w, s in expected]
    assert page.locator("#word").input_value() == t0[0]


def test_similarity_and_analogy(visit, one):
    url, model = one
    page = visit(url)
    page.fill("#sim-a", "t0w1")
    page.fill("#sim-b", "T3W2")
    page.click("#similarity-form button[type=submit]")
    page.locator("#similarity .cosine").wait_for()
    kv = model.kv
    assert page.text_content("#similarity .cosine") == f"{kv.similarity('t0w1', 't3w2'):.4f}"
    distance = kv.euclidean_distance("t0w1", "t3w2")
    assert page.text_content("#similarity .euclidean") == f"{distance:.4f}"

    page.fill("#an-a", "t0w1")
    page.fill("#an-b", "t1w1")
    page.fill("#an-c", "t0w2")
    page.select_option("#an-method", "mul")
    page.fill("#an-k", "3")
    page.click("#analogy-form button[type=submit]")
    page.locator("#analogy ol.scored li").first.wait_for()
    words = page.locator("#analogy ol.scored button.word").all_text_contents()
    assert words == [w for w, _ in kv.analogy("t0w1", "t1w1", "t0w2", topn=3, method="mul")]


def test_the_map_draws_the_words_asked_and_a_click_searches_one(visit, one):
    url, model = one
    page = visit(url)
    assert page.get_attribute("canvas.map", "data-points") == str(len(model.kv))  # N=500 > 61
    page.fill("#map-n", "40")
    page.click("#map-form button[type=submit]")
    page.wait_for_selector("canvas.map[data-points='40']")
    assert page.text_content(".caption") == "40 words · PCA"

    page.select_option("#map-what", "words")
    page.fill("#map-words", "t0w1, T3W2")
    page.fill("#map-neighbors", "4")
    page.select_option("#map-method", "tsne")
    page.click("#map-form button[type=submit]")
    page.wait_for_selector("canvas.map[data-points='10']")
    assert page.text_content(".caption") == "10 words · t-SNE"

    x, y = point_on_screen(page, "t3w2")
    page.mouse.move(x, y)
    assert page.text_content("#tooltip") == "t3w2"
    page.mouse.click(x, y)
    page.locator("#neighbors ol.scored li").first.wait_for()
    assert page.locator("#word").input_value() == "t3w2"


def test_a_hostile_word_is_shown_as_text_and_runs_nothing(visit, one):
    url, model = one
    assert HOSTILE in [w for w, _ in model.kv.most_similar("t0w1", topn=10)]
    page = visit(url)
    page.locator("#word").press_sequentially("<img")
    suggestion = page.locator(".suggestions:not([hidden]) li")
    expect(suggestion).to_have_text([HOSTILE])
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_selector("#neighbors .muted")
    assert page.text_content("#neighbors .muted") == f"nearest to {HOSTILE} by cosine similarity"

    page.fill("#word", "t0w1")
    page.press("#word", "Enter")
    expect(page.locator("#neighbors .muted")).to_have_text("nearest to t0w1 by cosine similarity")
    assert HOSTILE in [word for word, _ in neighbour_rows(page)]

    x, y = point_on_screen(page, HOSTILE)
    page.mouse.move(x, y)
    assert page.text_content("#tooltip") == HOSTILE
    assert page.locator("img").count() == 0
    assert page.evaluate("document.querySelectorAll('[onerror]').length") == 0


def test_bounds_and_unknown_words_are_explained_in_the_page(visit, one):
    url, _ = one
    page = visit(url)
    page.fill("#word", "t0w1")
    page.fill("#k", "101")
    page.press("#word", "Enter")
    error = page.locator("#error")
    error.wait_for(state="visible")
    assert error.text_content() == "k must be a whole number from 1 to 100, got '101'"

    page.fill("#map-n", "5001")
    page.click("#map-form button[type=submit]")
    expect(error).to_have_text("n must be a whole number from 1 to 5000, got '5001'")

    page.fill("#k", "5")
    page.fill("#word", "t0w1x")
    page.press("#word", "Enter")
    column = page.locator("#neighbors .error-inline")
    column.wait_for()
    assert "word 't0w1x' is not in the vocabulary" in column.text_content()
    assert error.is_hidden()
    column.locator("button.word", has_text="t0w1").first.click()
    page.locator("#neighbors ol.scored li").first.wait_for()
    assert len(neighbour_rows(page)) == 5


def test_two_models_side_by_side_with_what_differs_marked(visit, two):
    url, (a, b) = two
    page = visit(url)
    assert page.locator("#models li").all_text_contents()[1].startswith("B b")
    page.fill("#word", "t0w3")
    page.press("#word", "Enter")
    page.locator("#neighbors .column >> nth=1").locator("li").first.wait_for()
    words_a = [w for w, _ in a.kv.most_similar("t0w3", topn=10)]
    words_b = [w for w, _ in b.kv.most_similar("t0w3", topn=10)]
    assert [w for w, _ in neighbour_rows(page, 0)] == words_a
    assert [w for w, _ in neighbour_rows(page, 1)] == words_b
    for column, mine, other in ((0, words_a, words_b), (1, words_b, words_a)):
        marked = page.locator(f"#neighbors .column >> nth={column}").locator("li.differs")
        assert marked.locator("button.word").all_text_contents() == [
            w for w in mine if w not in other
        ]
    maps = page.locator("canvas.map")
    assert [maps.nth(i).get_attribute("data-points") for i in range(2)] == ["60", "61"]


def test_a_runs_training_is_shown_and_evaluated_on_request(visit, two):
    url, _ = two
    page = visit(url)
    run = page.locator(".card.run")
    assert run.count() == 1  # model B is no run directory
    assert run.locator("svg.loss polyline").count() == 1
    assert run.locator("svg.loss circle.epoch").count() == 3
    rows = run.locator("table.scores tbody tr")
    assert rows.all_text_contents() == ["ws3530.1000.2000.300", "google0.0%5.0%10.0%"]
    run.locator("button", has_text="Evaluate").click()
    table = run.locator("pre.table")
    table.wait_for(state="visible", timeout=120_000)
    assert table.text_content().startswith("benchmark")
    assert "google (top 60 words)" in table.text_content()
    run.locator("details.settings summary").click()
    assert "--epochs3" in run.locator("details.settings").text_content()
