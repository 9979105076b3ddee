"""``nstlab book``: the course as a website, built from the notebooks, offline.

::

    nstlab book -o site/              # every notebook run in full mode, as students run them
    nstlab book -o site/ --quick      # quick mode: tiny images, few steps, a few minutes
    python -m http.server -d site/    # then open http://127.0.0.1:8000

Run it in a clone of the repository (it reads ``README.md``, ``notebooks/``, ``docs/`` and
``benchmarks/``). It needs the ``book`` extra: ``pip install -e ".[book]"``.

What it builds
--------------
Sphinx, MyST-NB and the Sphinx Book Theme turn the checkout into one static site:

* ``index.html``: the README, with the navigation to everything else;
* ``notebooks/NAME.html``: every ``notebooks/*.ipynb``, run top to bottom, with its figures
  and equations; each page links to the notebook itself and to its student copy;
* ``docs/teaching.html`` and ``benchmarks/README.html``: the teacher's guide and the
  benchmarks;
* ``api.html`` and ``api/nstlab.MODULE.html``: the API reference, from the docstrings.

Offline, at build time and when read
------------------------------------
The theme's fonts and scripts come from its pip package, MathJax 3 from the
``django-static-mathjax`` package (copied into ``_static/mathjax``). Widgets (the explorer's
sliders in notebook 08) are not brought to life: their JavaScript would come from a CDN, and
a static page cannot run the Python behind them; their place on the page says so.
(Jupyter Book 2 was not used: its engine, mystmd, fetches the theme from the internet when
it builds.)

The execution cache
-------------------
Notebooks run through jupyter-cache (MyST-NB's ``cache`` mode), in
``build/book/cache-quick`` or ``build/book/cache-full`` of the checkout (``--cache DIR`` to
put them elsewhere): a rebuild runs again only the notebooks whose code changed. Quick and
full mode never share outputs, and a change to the nstlab package itself empties the cache,
since the outputs depend on it. A cell that raises stops the build (exit code 1), and the
previous site, if any, stays as it was: the new one is built beside it and moved into place
at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib
import importlib.util
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

from nstlab.base.messages import EXIT_FAILED, EXIT_OK, EXIT_SIGINT, EXIT_USAGE, fail, one_line

INSTALL_HINT = 'pip install "nstlab[book]"'
# The modules the build imports, and the distributions (the book extra) that provide them.
REQUIRED = {"sphinx": "sphinx", "myst_nb": "myst-nb", "sphinx_book_theme": "sphinx-book-theme",
            "jupyter_cache": "jupyter-cache", "mathjax": "django-static-mathjax"}
# Seconds one cell may run; full mode's larger runs (notebook 08's grid) take many minutes.
CELL_TIMEOUT = {"quick": 600, "full": 3600}
# Sphinx writes this file into every HTML build: --overwrite replaces only such a folder.
SITE_MARKER = ".buildinfo"
FINGERPRINT_FILE = "nstlab-package.sha256"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
# What a layout of widgets prints as text: VBox(children=(FloatLogSlider(value=...), ...)).
WIDGET_TEXT = re.compile(r"^\s*(\w*Box|Tab|Accordion|Stack)\(children=")
WIDGET_NOTE = ("Here the notebook shows interactive widgets (sliders, buttons). They need the "
               "Python kernel behind them: open the notebook in Jupyter to use them.")


class BookError(Exception):
    """A problem found before anything is built: bad usage, missing extra, no course."""


class BuildFailed(Exception):
    """The build itself failed (a notebook cell raised, Sphinx stopped)."""


# ------------------------------------------------------------------------ the course


def find_checkout(folder=None) -> Path:
    """The repository clone to build from: ``folder``, else the current folder, else the
    folder above the imported nstlab package; it must hold README.md and notebooks/."""
    if folder is not None:
        candidates = [Path(folder)]
    else:
        candidates = [Path.cwd(), Path(__file__).resolve().parents[1]]
    for candidate in candidates:
        if (candidate / "README.md").is_file() and any((candidate / "notebooks").glob("*.ipynb")):
            return candidate.resolve()
    where = f"'{folder}'" if folder is not None else "the current folder"
    raise BookError(f"no course in {where}: run it in a clone of the nstlab repository "
                    "(it needs README.md and notebooks/*.ipynb), or pass --checkout DIR")


def course_notebooks(checkout: Path, only=()) -> list[Path]:
    """``notebooks/*.ipynb`` in order; with ``only``, those whose names start with one of
    its prefixes (``["03", "08"]``)."""
    paths = sorted((Path(checkout) / "notebooks").glob("*.ipynb"))
    if not only:
        return paths
    unknown = [prefix for prefix in only if not any(p.stem.startswith(prefix) for p in paths)]
    if unknown:
        raise BookError(f"no notebook starts with {', '.join(map(repr, unknown))}; there are "
                        f"{', '.join(p.stem for p in paths)}")
    return [path for path in paths if any(path.stem.startswith(prefix) for prefix in only)]


def check_extra() -> None:
    """Raise :class:`BookError` naming what is missing of the ``book`` extra."""
    missing = [dist for module, dist in REQUIRED.items()
               if importlib.util.find_spec(module) is None]
    if missing:
        raise BookError(f"the book needs {', '.join(missing)}: {INSTALL_HINT}")


def mathjax_folder() -> Path:
    """The MathJax 3 browser files (``tex-mml-chtml.js``, its fonts and extensions) that
    ``django-static-mathjax`` ships, found without importing the package."""
    spec = importlib.util.find_spec("mathjax")
    folder = Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax" / "es5"
    if not (folder / "tex-mml-chtml.js").is_file():
        raise BookError(f"MathJax's files are missing from '{folder}': {INSTALL_HINT}")
    return folder


def static_files(work: Path) -> Path:
    """A folder whose contents Sphinx copies into the site's ``_static``: MathJax only (its
    browser files; the package's sources stay out of the site)."""
    static = work / "static"
    if static.exists():
        shutil.rmtree(static)
    shutil.copytree(mathjax_folder(), static / "mathjax")
    return static


def write_favicon(path: Path) -> Path:
    """A 64 px icon cut from The Starry Night (without one, browsers ask for /favicon.ico and
    log the 404 as an error)."""
    from PIL import Image, ImageOps

    from nstlab.imaging.data import painting_path

    with Image.open(painting_path("starry_night")) as painting:
        ImageOps.fit(painting.convert("RGB"), (64, 64)).save(path)
    return path


def package_fingerprint() -> str:
    """A hash of the nstlab package's files: the notebooks' outputs depend on them (on all
    but this module, which only builds the book)."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*")):
        if (path.is_file() and "__pycache__" not in path.parts
                and path != Path(__file__).resolve()):
            digest.update(path.relative_to(package).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


# ------------------------------------------------------------------ the source tree


def linked_files(markdown: str) -> list[str]:
    """The relative link and image targets in Markdown text (no URLs, no anchors)."""
    targets = re.findall(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)", markdown)
    return [target.split("#", 1)[0] for target in targets
            if not re.match(r"^[a-z][a-z0-9+.-]*:", target) and not target.startswith("#")]


def copy_page(checkout: Path, relative: str, source: Path, target: str | None = None) -> None:
    """Copy a Markdown page into the source tree, with the repository files it links to
    (so a link to, say, ``LICENSE`` becomes a download instead of a broken link)."""
    text = (checkout / relative).read_text(encoding="utf-8")
    destination = source / (target or relative)
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_text(text, encoding="utf-8")
    folder = (checkout / relative).parent
    for link in linked_files(text):
        linked = (folder / link).resolve()
        if not linked.is_file() or not linked.is_relative_to(checkout):
            continue
        copy = source / linked.relative_to(checkout)
        if not copy.exists():
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(linked, copy)


def notebook_links(name: str, quick: bool) -> str:
    """The note under a notebook page's title: how it ran, and its two downloads."""
    mode = ("in quick mode (tiny images, few steps)" if quick else
            "in full mode, as on your machine")
    return (
        "```{admonition} Run it yourself\n:class: tip\n"
        f"This page is `notebooks/{name}.ipynb` as it ran {mode}. "
        f"{{download}}`Download the notebook <../downloads/notebooks/{name}.ipynb>` "
        "(with the solutions, without outputs) and open it with `jupyter lab`, or "
        f"{{download}}`its student copy <../downloads/student/{name}.ipynb>` "
        "(each solution replaced by `raise NotImplementedError`). "
        "`nstlab exercises student/` writes the student copies of every notebook; "
        "{doc}`the home page <../index>` says how to install nstlab.\n```")


def write_notebook(path: Path, source: Path, quick: bool) -> None:
    """The notebook page (links under its title), and its two downloads."""
    import nbformat

    from nstlab.classroom.exercises import student_copy

    notebook = nbformat.read(path, as_version=4)
    downloads = source / "downloads"
    for folder, copy in (("notebooks", notebook), ("student", student_copy(notebook))):
        (downloads / folder).mkdir(parents=True, exist_ok=True)
        nbformat.write(copy, downloads / folder / path.name)
    page = nbformat.from_dict(notebook)
    first = page.cells[0] if page.cells else None
    links = nbformat.v4.new_markdown_cell(notebook_links(path.stem, quick))
    if first is not None and first.cell_type == "markdown" and first.source.startswith("# "):
        title, _, rest = first.source.partition("\n")
        head = [nbformat.v4.new_markdown_cell(title), links]
        if rest.strip():
            head.append(nbformat.v4.new_markdown_cell(rest))
        page.cells[:1] = head
    else:
        page.cells.insert(0, links)
    nbformat.write(page, source / "notebooks" / path.name)


def toctree(caption: str, documents: list[str]) -> str:
    entries = "\n".join(documents)
    return f"\n\n```{{toctree}}\n:hidden:\n:caption: {caption}\n\n{entries}\n```\n"


def api_page(modules: dict[str, list[str]]) -> str:
    """The API reference's index (reStructuredText, which autosummary reads): one section per
    layer of the package, lowest first, and one page per public module, from its docstrings."""
    import nstlab

    rows = "".join(f"   * - ``nstlab.{name}``\n"
                   f"     - :py:mod:`{getattr(nstlab, name).__module__}`\n"
                   for name in nstlab.__all__)
    sections = ""
    for layer, names in modules.items():
        package = importlib.import_module(f"nstlab.{layer}")
        title, rule = package.__doc__.strip().splitlines()[:2]
        entries = "".join(f"   {module}\n" for module in names)
        sections += (f"{title}\n{'-' * len(title)}\n\n{rule}\n\n"
                     f".. autosummary::\n   :toctree: api\n   :recursive:\n\n{entries}\n")
    return (
        "API reference\n=============\n\n"
        "Every public module of the ``nstlab`` package, layer by layer from the lowest, with the "
        "docstrings you also read in a notebook with ``?`` (``nstlab.gram_matrix?``). Each layer "
        "imports only the layers listed before it.\n\n"
        "The names the notebooks use most are also available directly as ``nstlab.NAME``:\n\n"
        f".. list-table::\n   :header-rows: 1\n\n   * - name\n     - defined in\n{rows}\n"
        f"{sections}")


def public_modules() -> dict[str, list[str]]:
    """nstlab's public modules (names not starting with ``_``), by layer, lowest first."""
    import pkgutil

    import nstlab

    found = {}
    for layer in sorted(nstlab.LAYERS, key=nstlab.LAYERS.get):
        package = importlib.import_module(f"nstlab.{layer}")
        found[layer] = sorted(f"nstlab.{layer}.{info.name}"
                              for info in pkgutil.iter_modules(package.__path__)
                              if not info.name.startswith("_"))
    return found


def write_source(checkout: Path, notebooks: list[Path], source: Path, quick: bool) -> None:
    """Lay out the pages for Sphinx in ``source``, in the repository's own folders so the
    relative links between README, notebooks and guides keep working."""
    if source.exists():
        shutil.rmtree(source)
    (source / "notebooks").mkdir(parents=True)
    guides = [page for page in ("docs/teaching.md", "benchmarks/README.md")
              if (checkout / page).is_file()]
    copy_page(checkout, "README.md", source, target="index.md")
    for page in guides:
        copy_page(checkout, page, source)
    for path in notebooks:
        write_notebook(path, source, quick)
    (source / "api.rst").write_text(api_page(public_modules()), encoding="utf-8")
    index = source / "index.md"
    index.write_text(
        index.read_text(encoding="utf-8")
        + toctree("The notebooks", [f"notebooks/{path.stem}" for path in notebooks])
        + toctree("More", [page.removesuffix(".md") for page in guides] + ["api"]),
        encoding="utf-8")


# ---------------------------------------------------------------------- Sphinx


def sphinx_settings(*, quick: bool, cache: Path, work: Path) -> dict:
    """The Sphinx configuration of the book (there is no conf.py: it is all here); writes
    the files it names (MathJax, the icon) into ``work``."""
    mode = "quick" if quick else "full"
    return {
        "project": "nstlab",
        "author": "the nstlab authors",
        "root_doc": "index",
        "extensions": ["myst_nb", "sphinx.ext.autodoc", "sphinx.ext.autosummary",
                       "sphinx.ext.napoleon", "sphinx.ext.mathjax", "nstlab.classroom.book"],
        "exclude_patterns": ["downloads/**", "build/**", "**/.ipynb_checkpoints"],
        "html_theme": "sphinx_book_theme",
        "html_title": "nstlab: neural style transfer, step by step",
        "html_theme_options": {"show_navbar_depth": 1, "home_page_in_toc": True,
                               "use_download_button": False, "show_toc_level": 2},
        # An explicit colour mode: without one the theme's script logs an error on every
        # page. Light, since the notebooks' figures are drawn for a white page.
        "html_context": {"default_mode": "light"},
        "html_favicon": str(write_favicon(work / "favicon.png")),
        "html_copy_source": False,
        "html_show_sourcelink": False,
        "html_static_path": [str(static_files(work))],
        "mathjax_path": "mathjax/tex-mml-chtml.js",
        "myst_enable_extensions": ["dollarmath", "amsmath", "colon_fence"],
        "myst_heading_anchors": 3,
        "nb_execution_mode": "cache",
        "nb_execution_cache_path": str(cache),
        "nb_execution_timeout": CELL_TIMEOUT[mode],
        "nb_execution_raise_on_error": True,
        "nb_execution_show_tb": True,
        # Markdown a cell displays (notebook 03's tables) read as MyST: tables and maths.
        "nb_render_markdown_format": "myst",
        # The ipywidgets bundle would come from a CDN, and the page has no kernel: a widget
        # shows its text instead (a progress bar's last state; see replace_widgets).
        "nb_ipywidgets_js": {},
        "nb_mime_priority_overrides": [("html", WIDGET_MIME, None)],
        "autosummary_generate": True,
        # Docstrings say `image` for several classes' attributes: Sphinx links one of them.
        "suppress_warnings": ["ref.python"],
        "autodoc_default_options": {"members": True, "show-inheritance": True},
        "autodoc_member_order": "bysource",
        "napoleon_numpy_docstring": True,
    }


def replace_widgets(app, doctree, docname) -> None:
    """Swap the text a layout of widgets prints (``VBox(children=...)``, the explorer's
    sliders) for a note saying to open the notebook in Jupyter to use them."""
    from docutils import nodes

    for node in list(doctree.findall(nodes.literal_block)):
        if "text_plain" in node["classes"] and WIDGET_TEXT.match(node.astext()):
            node.replace_self(nodes.note("", nodes.paragraph(text=WIDGET_NOTE)))


def setup(app):
    """Sphinx extension: the book's own touches (listed in :func:`sphinx_settings`)."""
    app.connect("doctree-resolved", replace_widgets)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


@contextlib.contextmanager
def notebook_mode(quick: bool):
    """The environment of the kernels the build starts (they inherit it): ``NSTLAB_QUICK``,
    and matplotlib's inline backend, so figures become outputs even where ``MPLBACKEND``
    says ``Agg`` (as the test configuration does)."""
    wanted = {"NSTLAB_QUICK": "1" if quick else "0",
              "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    previous = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def open_cache(cache: Path, *, say=print) -> None:
    """Empty the execution cache when the nstlab package changed since it was filled."""
    fingerprint = package_fingerprint()
    stamp = cache / FINGERPRINT_FILE
    if cache.exists() and (not stamp.is_file() or stamp.read_text().strip() != fingerprint):
        say(f"the nstlab package changed since the last build: emptying {cache}")
        shutil.rmtree(cache)
    cache.mkdir(parents=True, exist_ok=True)
    stamp.write_text(fingerprint + "\n")


def run_sphinx(source: Path, out: Path, doctrees: Path, settings: dict, *, quiet: bool,
               warnings_log: Path) -> int:
    """Build the HTML site; returns the number of warnings (written to ``warnings_log``)."""
    from sphinx.application import Sphinx
    from sphinx.errors import SphinxError
    from sphinx.util.console import color_terminal, nocolor
    from sphinx.util.docutils import docutils_namespace, patch_docutils

    if quiet or not color_terminal():
        nocolor()

    with open(warnings_log, "w", encoding="utf-8") as warnings:
        try:
            with patch_docutils(source), docutils_namespace():
                app = Sphinx(str(source), None, str(out), str(doctrees), "html",
                             confoverrides=settings, status=None if quiet else sys.stdout,
                             warning=warnings, freshenv=True)
                app.build()
        except SphinxError as error:
            raise BuildFailed(one_line(error)) from None
    if app.statuscode:
        raise BuildFailed(f"Sphinx failed (exit status {app.statuscode}); see {warnings_log}")
    return sum(1 for line in warnings_log.read_text(encoding="utf-8").splitlines()
               if "WARNING:" in line or "ERROR:" in line)


# ------------------------------------------------------------------ the site folder


def check_site(site_dir, *, overwrite: bool, checkout: Path) -> Path:
    """The folder to write the site to; refuses to replace anything but an older site."""
    from nstlab.base.validators import OptionError, check_output_path

    site = Path(site_dir).expanduser().absolute()
    if not site.exists():
        try:
            check_output_path(site)  # its parent exists and is writable
        except OptionError as problem:
            raise BookError(str(problem)) from None
        return site
    if not site.is_dir():
        raise BookError(f"'{site_dir}' is a file, not a folder for the site")
    if site.resolve() in (checkout, *checkout.parents):
        raise BookError(f"'{site_dir}' holds the course itself: choose another folder")
    if any(site.iterdir()):
        if not overwrite:
            raise BookError(f"'{site_dir}' exists; pass --overwrite to replace it")
        if not (site / SITE_MARKER).is_file():
            raise BookError(f"'{site_dir}' is not a site built by nstlab book (no "
                            f"{SITE_MARKER}): refusing to replace it")
    if not os.access(site.parent, os.W_OK):
        raise BookError(f"cannot replace '{site_dir}': its folder is not writable")
    return site


def move_into_place(built: Path, site: Path) -> None:
    """Put the new site where the old one was (if any), the old one removed only after."""
    old = None
    if site.exists():
        old = site.with_name(f".{site.name}.old-{os.getpid()}")
        site.rename(old)
    built.rename(site)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# ------------------------------------------------------------------------ the build


def build_book(site_dir, *, quick: bool = False, only=(), checkout=None, cache=None,
               overwrite: bool = False, quiet: bool = False) -> list[Path]:
    """Build the course's website into ``site_dir``; returns the notebook pages written.

    Parameters
    ----------
    site_dir : path
        The folder for the site (``index.html`` and the rest). An existing site there is
        replaced only with ``overwrite``.
    quick : bool
        Run the notebooks in quick mode (``NSTLAB_QUICK=1``), not full mode.
    only : sequence of str
        Build only the notebooks whose names start with these prefixes (a preview).
    checkout : path, optional
        The repository clone (default: found from the current folder, see
        :func:`find_checkout`).
    cache : path, optional
        Where the execution cache and the working files go (default ``build/book`` in the
        checkout).
    """
    checkout = find_checkout(checkout)
    notebooks = course_notebooks(checkout, only)
    site = check_site(site_dir, overwrite=overwrite, checkout=checkout)
    check_extra()
    mode = "quick" if quick else "full"
    work = Path(cache).absolute() if cache is not None else checkout / "build" / "book"
    say = (lambda message: None) if quiet else print
    started = time.monotonic()
    open_cache(work / f"cache-{mode}", say=say)
    source = work / f"source-{mode}"
    write_source(checkout, notebooks, source, quick)
    # MyST-NB writes its files beside the HTML folder (../jupyter_execute): keep both in here.
    built = Path(tempfile.mkdtemp(prefix=f".{site.name}.building-", dir=site.parent))
    try:
        with notebook_mode(quick):
            warnings = run_sphinx(source, built / "html", work / f"doctrees-{mode}",
                                  sphinx_settings(quick=quick, cache=work / f"cache-{mode}",
                                                  work=work),
                                  quiet=quiet, warnings_log=work / f"warnings-{mode}.log")
        move_into_place(built / "html", site)
    finally:
        shutil.rmtree(built, ignore_errors=True)
    minutes = (time.monotonic() - started) / 60
    say(f"built the book ({mode} mode, {len(notebooks)} notebooks) in {site} in "
        f"{minutes:.1f} min; {warnings} Sphinx warnings (see {work / f'warnings-{mode}.log'})")
    return [site / "notebooks" / f"{path.stem}.html" for path in notebooks]


# ---------------------------------------------------------------------- the command


def add_command(subparsers) -> argparse.ArgumentParser:
    """Add ``book`` and its handler (:func:`run_command`) to the ``nstlab`` command's
    sub-commands; returns its parser."""
    parser = subparsers.add_parser(
        "book", help="build the course as a website (every notebook run, offline)",
        description="Build the course as a static website: the README as home page, every "
                    "notebook run with its figures, the teacher's guide, the benchmarks and "
                    "the API reference. Needs a clone of the repository and "
                    f"{INSTALL_HINT}.")
    parser.add_argument("-o", "--output", required=True, metavar="SITE_DIR",
                        help="folder for the site (SITE_DIR/index.html is the home page)")
    parser.add_argument("--quick", action="store_true",
                        help="run the notebooks in quick mode (tiny images, few steps)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace SITE_DIR if it holds an earlier build (default: refuse)")
    parser.add_argument("--only", nargs="+", default=(), metavar="PREFIX",
                        help="only the notebooks whose names start with these (a preview)")
    parser.add_argument("--checkout", default=None, metavar="DIR",
                        help="the repository clone (default: the current folder)")
    parser.add_argument("--cache", default=None, metavar="DIR",
                        help="execution cache and working files (default CHECKOUT/build/book)")
    parser.add_argument("--quiet", action="store_true", help="print only errors")
    parser.set_defaults(handler=run_command)
    return parser


def run_command(args: argparse.Namespace) -> int:
    """Run ``nstlab book`` with parsed ``args``; returns the exit code (0 built, 1 the build
    failed, 2 bad usage, 130 Ctrl-C). Errors are one line."""
    try:
        build_book(args.output, quick=args.quick, only=args.only, checkout=args.checkout,
                   cache=args.cache, overwrite=args.overwrite, quiet=args.quiet)
    except BookError as problem:
        return fail(problem, EXIT_USAGE)
    except BuildFailed as problem:
        return fail(f"the book was not built: {problem}", EXIT_FAILED)
    except KeyboardInterrupt:
        return fail("interrupted: the site was not written", EXIT_SIGINT)
    return EXIT_OK
