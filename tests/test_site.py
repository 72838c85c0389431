"""The static site (``make site``): built offline from the smoke profile's executed notebooks, opened in Chromium.

The fixture runs what a user runs: every notebook in the smoke profile (``nashlib.runner``, as ``make figures
PROFILE=smoke``), then ``book/build.py`` (Jupyter Book 1; it fails on any broken cross-reference). The test
serves the HTML on localhost, opens every page in headless Chromium (Debian's ``chromium``, driven by
Playwright), saves screenshots of the landing page and one notebook under ``build/site-screenshots/``, and
checks that every image loads, every internal link resolves to a file of the site, and no request leaves the
machine.
"""

import functools
import http.server
import shutil
import subprocess
import sys
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

REPO = Path(__file__).resolve().parents[1]
SHOTS = REPO / "build" / "site-screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def site():
    subprocess.run([sys.executable, "-m", "nashlib.runner", "run", "--profile", "smoke"], cwd=REPO, check=True)
    out = REPO / "build" / "site" / "smoke-test"
    subprocess.run([sys.executable, str(REPO / "book" / "build.py"), "--profile", "smoke", "--out", str(out)],
                   cwd=REPO, check=True)
    return out / "_build" / "html"


@pytest.fixture(scope="module")
def served(site):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class _Refs(HTMLParser):
    """Every href and src of a page."""

    def __init__(self):
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.refs += [v for k, v in attrs if k in ("href", "src") and v]


def _pages(html_dir: Path) -> list[Path]:
    return sorted(p for p in html_dir.rglob("*.html") if "_static" not in p.parts and p.name not in ("search.html",
                                                                                                   "genindex.html"))


def test_every_internal_link_resolves(site):
    broken = []
    for page in _pages(site):
        refs = _Refs()
        refs.feed(page.read_text(errors="replace"))
        for ref in refs.refs:
            url = urlparse(ref)
            if url.scheme or url.netloc or ref.startswith("#"):
                continue  # external links are links, not requests; anchors are within the page
            target = (page.parent / unquote(url.path)).resolve()
            if url.path and not (target.is_file() or (target / "index.html").is_file()):
                broken.append(f"{page.relative_to(site)} -> {ref}")
    assert not broken, broken[:20]
    names = {p.stem for p in (site / "notebooks").glob("*.html")}
    assert {"table3_layer_selection", "fig8_cofi_instability", "teachers"} <= names, names


def _check_page(page, url: str, base: str, requests: list[str]) -> None:
    requests.clear()
    page.goto(url, wait_until="networkidle")
    bad = page.evaluate("() => Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0))"
                        ".map(i => i.src)")
    assert not bad, f"{url}: images that did not load: {bad}"
    outside = [r for r in requests if not (r.startswith(base) or r.startswith(("data:", "blob:", "about:")))]
    assert not outside, f"{url}: requests that leave the machine: {outside}"


def test_pages_render_in_headless_chromium(site, served):
    assert CHROMIUM, "Debian's chromium is needed for this test (apt-get install chromium; .ci/run installs it)"
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        for path in _pages(site):
            _check_page(page, f"{served}/{path.relative_to(site).as_posix()}", served, requests)
        page.goto(f"{served}/index.html", wait_until="networkidle")
        assert page.locator("table").count() >= 1 and "verdict" in page.inner_text("main").lower()
        page.screenshot(path=str(SHOTS / "landing.png"), full_page=True)
        page.goto(f"{served}/notebooks/table3_layer_selection.html", wait_until="networkidle")
        assert page.locator("main img").count() >= 1, "the notebook page shows no figure"
        page.screenshot(path=str(SHOTS / "table3_layer_selection.png"), full_page=True)
        browser.close()
