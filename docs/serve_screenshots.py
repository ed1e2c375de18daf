"""The two pictures of `w2v serve` in the README, taken in headless Chromium.

    w2v train --eval -o runs/flickr                  # the bundled captions, 5 epochs
    w2v train --epochs 1 -o runs/flickr-1ep          # the same, 1 epoch
    python docs/serve_screenshots.py runs/flickr runs/flickr-1ep

writes docs/images/serve.png (one model: a word's neighbours, a similarity, an analogy and a
t-SNE map of a few words with their neighbours) and docs/images/serve-compare.png (the two
models side by side).
Needs the test extra (Playwright) and Debian's chromium (or W2V_CHROMIUM).
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from w2v.serve import server
from w2v.serve.app import create_app
from w2v.serve.models import Model

IMAGES = Path(__file__).resolve().parent / "images"
CHROMIUM = os.environ.get("W2V_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def ask(page: Page, args: argparse.Namespace) -> None:
    word, similar, analogy = args.word, args.similar.split(","), args.analogy.split(",")
    page.select_option("#map-what", "words")
    page.fill("#map-words", args.map_words)
    page.fill("#map-neighbors", "12")
    page.select_option("#map-method", "tsne")
    page.click("#map-form button[type=submit]")
    page.wait_for_selector("canvas.map[data-points]:not([data-points='500'])", timeout=120_000)
    page.fill("#word", word)
    page.press("#word", "Enter")
    page.locator("#neighbors ol.scored li").first.wait_for()
    page.fill("#sim-a", similar[0])
    page.fill("#sim-b", similar[1])
    page.click("#similarity-form button[type=submit]")
    page.locator("#similarity .cosine").first.wait_for()
    for field, value in zip(("#an-a", "#an-b", "#an-c"), analogy, strict=True):
        page.fill(field, value)
    page.click("#analogy-form button[type=submit]")
    page.locator("#analogy ol.scored li").first.wait_for()
    page.mouse.move(0, 0)  # no tooltip in the picture


def shoot(paths: list[str], out: Path, args: argparse.Namespace) -> None:
    models = [Model.load(path) for path in paths]
    with server.Background(create_app(models)) as running, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": args.height})
        page.goto(running.url)
        page.wait_for_selector("body[data-ready=true]")
        ask(page, args)
        page.screenshot(path=str(out))
        browser.close()
    print(f"wrote {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="the run (or vectors) of the first picture")
    parser.add_argument("other", help="a second run, compared with the first in the second")
    parser.add_argument("--word", default="dog")
    parser.add_argument("--similar", default="man,woman", metavar="A,B")
    parser.add_argument("--analogy", default="man,woman,boy", metavar="A,B,C")
    parser.add_argument("--map-words", default="dog,man,red,beach,car,eating", metavar="W,W")
    parser.add_argument("--height", type=int, default=1000)
    args = parser.parse_args()
    shoot([args.model], IMAGES / "serve.png", args)
    shoot([args.model, args.other], IMAGES / "serve-compare.png", args)


if __name__ == "__main__":
    main()
