"""The book in a real browser: build it in quick mode, serve it on 127.0.0.1, open every page
in headless Chromium (Debian's ``chromium`` through playwright), and check what a reader sees.

Run with ``pytest -m browser tests/classroom/test_book_browser.py`` (the default run leaves
these out: the build runs every notebook). It needs ``pip install -e ".[book]"`` and
``apt-get install chromium``; without them the tests are skipped, saying which is missing.
``NSTLAB_BOOK_TEST_ONLY="03 08"`` builds only those notebooks (while developing).
A screenshot of every page but the API reference's (``NSTLAB_BOOK_SCREENSHOT_API=1`` for
those too) goes to the test's temporary folder (``pytest --basetemp DIR`` to keep them
somewhere known).
"""

import functools
import http.server
import importlib.util
import os
import re
import shutil
import threading
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

pytestmark = [
    pytest.mark.browser,
    # Sphinx 9 and its extensions announce their own API changes for Sphinx 11 by the thousand.
    pytest.mark.filterwarnings("ignore::PendingDeprecationWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ONLY = os.environ.get("NSTLAB_BOOK_TEST_ONLY", "").split()
SCREENSHOT_API = bool(os.environ.get("NSTLAB_BOOK_SCREENSHOT_API"))
# TeX left in the text where MathJax should have typeset it (code and signatures aside).
RAW_MATH = re.compile(r"\$[^$\s][^$]*\$|\\begin\{|\\\(|\\\[")
VISIBLE_TEXT = """() => {
  const skip = 'PRE, CODE, SCRIPT, STYLE, MJX-CONTAINER, NOSCRIPT, TEXTAREA, .pre, .sig';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const parts = [];
  while (walker.nextNode()) {
    const parent = walker.currentNode.parentElement;
    if (parent && !parent.closest(skip)) parts.push(walker.currentNode.textContent);
  }
  return parts.join(' ');
}"""
IMAGES_LOADED = """async () => {
  const images = Array.from(document.images);
  images.forEach(image => { image.loading = 'eager'; });
  await Promise.allSettled(images.map(image => image.decode()));
  return images.filter(image => !(image.complete && image.naturalWidth > 0))
               .map(image => image.getAttribute('src'));
}"""
MATHJAX_DONE = """async () => {
  if (!window.MathJax) return 'no MathJax';
  if (MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  return 'typeset';
}"""


def missing_tools() -> str:
    missing = [name for name in ("sphinx", "myst_nb", "playwright")
               if importlib.util.find_spec(name) is None]
    if missing:
        return f"needs {', '.join(missing)}: pip install -e \".[book]\""
    if not Path(CHROMIUM).is_file():
        return "needs Debian's chromium: apt-get install chromium"
    return ""


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """The book, built once in quick mode into a temporary folder."""
    if missing_tools():
        if os.environ.get("CI"):  # CI must run these, not skip them
            pytest.fail(missing_tools())
        pytest.skip(missing_tools())
    from nstlab.classroom.book import build_book

    root = tmp_path_factory.mktemp("book")
    build_book(root / "site", quick=True, only=ONLY, checkout=REPO, cache=root / "work")
    return root / "site"


@pytest.fixture(scope="session")
def server(site):
    """The site over HTTP on 127.0.0.1 (a free port), for the session."""
    handler = functools.partial(Quiet, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        # One context for the site, as one reader's browser (a context per page cost
        # half a second each); each page still opens in a tab of its own.
        context = chromium.new_context(viewport={"width": 1280, "height": 900})
        yield context
        context.close()
        chromium.close()


def page_urls(site: Path, base: str) -> list[str]:
    """Every HTML page of the site (not the theme's or MathJax's own files)."""
    pages = [path.relative_to(site).as_posix() for path in site.rglob("*.html")]
    return sorted(urljoin(base, page) for page in pages
                  if not page.startswith(("_static/", "_downloads/", "_images/")))


class Requests:
    """The page's requests still in flight, and when the last one started or ended."""

    def __init__(self, page):
        self.pending, self.last = set(), time.monotonic()
        page.on("request", self._started)
        page.on("requestfinished", self._ended)
        page.on("requestfailed", self._ended)

    def _started(self, request):
        self.pending.add(request)
        self.last = time.monotonic()

    def _ended(self, request):
        self.pending.discard(request)
        self.last = time.monotonic()

    def wait_until_quiet(self, page, quiet: float = 0.1, limit: float = 10.0) -> None:
        """Until no request has been in flight for ``quiet`` seconds (Playwright's
        "networkidle" waits a fixed half second on every page: a minute over the site)."""
        deadline = time.monotonic() + limit
        while (self.pending or time.monotonic() - self.last < quiet) and (
                time.monotonic() < deadline):
            page.wait_for_timeout(25)


def visit(browser, url: str, screenshot: Path | None) -> dict:
    """Open ``url`` in a new tab; what went wrong on it, and the links it has."""
    page = browser.new_page()
    errors, failed, foreign = [], [], []
    requests = Requests(page)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("requestfailed", lambda r: failed.append(f"{r.url} ({r.failure})"))
    page.on("response", lambda r: failed.append(f"{r.url} (HTTP {r.status})")
            if r.status >= 400 else None)
    page.on("request", lambda r: foreign.append(r.url)
            if urlsplit(r.url).hostname not in (None, "127.0.0.1") and
            not r.url.startswith("data:") else None)
    page.goto(url, wait_until="load")
    mathjax = page.evaluate(MATHJAX_DONE)
    broken_images = page.evaluate(IMAGES_LOADED)
    requests.wait_until_quiet(page)
    text = page.evaluate(VISIBLE_TEXT)
    links = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    if screenshot is not None:
        page.screenshot(path=screenshot, full_page=True)
    page.close()
    return {"errors": errors, "failed": failed, "foreign": foreign, "mathjax": mathjax,
            "broken_images": broken_images, "raw_math": RAW_MATH.findall(text),
            "links": links}


@pytest.fixture(scope="session")
def visited(site, server, browser, tmp_path_factory):
    """Every page opened once: url -> what :func:`visit` found."""
    shots = tmp_path_factory.mktemp("screenshots")
    found = {}
    for url in page_urls(site, server):
        name = urlsplit(url).path.strip("/").replace("/", "__") or "index"
        # The pages a reader looks at; the API pages are all one template.
        shot = (shots / f"{name.removesuffix('.html')}.png"
                if "/api/" not in url or SCREENSHOT_API else None)
        found[url] = visit(browser, url, shot)
    print(f"{len(found)} pages opened; screenshots in {shots}")
    return found


def test_the_site_has_a_home_page_and_one_page_per_notebook(site):
    from nstlab.classroom.book import course_notebooks

    assert (site / "index.html").is_file()
    for notebook in course_notebooks(REPO, ONLY):
        assert (site / "notebooks" / f"{notebook.stem}.html").is_file(), notebook.name


def test_notebook_pages_show_their_figures(site):
    from nstlab.classroom.book import course_notebooks

    for notebook in course_notebooks(REPO, ONLY):
        if "plt." in notebook.read_text() or "nstlab.lab.viz." in notebook.read_text():
            html = (site / "notebooks" / f"{notebook.stem}.html").read_text()
            assert "<img" in html, f"{notebook.name} draws figures but its page has none"


def test_notebook_pages_show_no_tensorflow_log_lines(site):
    """The kernels' native CUDA-probing lines ("E0000 ... cuInit") stay out of the pages."""
    import html

    from nstlab.base.native_logs import NATIVE_LOG_LINE

    for page in sorted((site / "notebooks").glob("*.html")):
        text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))
        noise = [line for line in text.splitlines() if NATIVE_LOG_LINE.match(line.strip())]
        assert noise == [], f"{page.name}: {noise[:2]}"


def test_every_page_loads_without_console_errors_or_failed_requests(visited):
    problems = {url: {key: found[key] for key in ("errors", "failed", "foreign")
                      if found[key]}
                for url, found in visited.items()}
    assert {url: problem for url, problem in problems.items() if problem} == {}


def test_every_image_loads(visited):
    broken = {url: found["broken_images"] for url, found in visited.items()
              if found["broken_images"]}
    assert broken == {}


def test_the_maths_is_typeset_everywhere(visited):
    raw = {url: found["raw_math"][:3] for url, found in visited.items() if found["raw_math"]}
    assert raw == {}
    notebook_pages = [found for url, found in visited.items() if "/notebooks/" in url]
    assert all(found["mathjax"] == "typeset" for found in notebook_pages)


def test_the_navigation_reaches_every_notebook(site, server, visited):
    """Following links from the home page reaches every notebook's page."""
    from nstlab.classroom.book import course_notebooks

    reached, queue = set(), [urljoin(server, "index.html")]
    while queue:
        url = queue.pop()
        if url in reached or url not in visited:
            continue
        reached.add(url)
        queue += [link.split("#", 1)[0] for link in visited[url]["links"]
                  if link.startswith(server)]
    for notebook in course_notebooks(REPO, ONLY):
        assert urljoin(server, f"notebooks/{notebook.stem}.html") in reached, notebook.name


def test_each_notebook_page_links_its_notebook_and_student_copy(site):
    from nstlab.classroom.book import course_notebooks

    for notebook in course_notebooks(REPO, ONLY):
        html = (site / "notebooks" / f"{notebook.stem}.html").read_text()
        downloads = re.findall(r'href="\.\./(_downloads/[^"]+\.ipynb)"', html)
        assert len(downloads) == 2, notebook.name
        for download in downloads:
            assert (site / download).is_file()
