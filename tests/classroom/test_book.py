"""``nstlab book`` without building: its checks, and the source tree it hands to Sphinx.

The build itself, and the site in a browser, are tested in test_book_browser.py.
"""

from pathlib import Path

import nbformat
import pytest

from nstlab.classroom import book
from nstlab.classroom.exercises import BEGIN
from nstlab.cli import main

REPO = Path(__file__).resolve().parents[2]


def run(capsys, *args):
    code = main(["book", *map(str, args)])
    return code, capsys.readouterr().err


def test_outside_a_checkout_it_says_where_to_run_it(tmp_path, capsys):
    code, err = run(capsys, "-o", tmp_path / "site", "--checkout", tmp_path)
    assert code == 2
    assert err.startswith("nstlab: error: no course in") and err.count("\n") == 1


def test_it_does_not_replace_a_folder_without_overwrite(tmp_path, capsys):
    site = tmp_path / "site"
    site.mkdir()
    (site / "notes.txt").write_text("mine")
    code, err = run(capsys, "-o", site, "--checkout", REPO)
    assert code == 2 and "pass --overwrite" in err
    code, err = run(capsys, "-o", site, "--checkout", REPO, "--overwrite")
    assert code == 2 and "not a site built by nstlab book" in err
    assert (site / "notes.txt").read_text() == "mine"


def test_it_never_replaces_the_course_itself(capsys):
    code, err = run(capsys, "-o", REPO, "--checkout", REPO, "--overwrite")
    assert code == 2 and "holds the course itself" in err


def test_a_missing_output_folder_parent_is_one_line(tmp_path, capsys):
    code, err = run(capsys, "-o", tmp_path / "no" / "site", "--checkout", REPO)
    assert code == 2 and "does not exist" in err and err.count("\n") == 1


def test_an_unknown_notebook_prefix_names_the_notebooks(tmp_path, capsys):
    code, err = run(capsys, "-o", tmp_path / "site", "--checkout", REPO, "--only", "99")
    assert code == 2 and "no notebook starts with '99'" in err and "03_" in err


def test_a_missing_extra_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(book.REQUIRED, "nstlab_no_such_module", "some-package")
    code, err = run(capsys, "-o", tmp_path / "site", "--checkout", REPO)
    assert code == 2
    assert "some-package" in err and 'pip install "nstlab[book]"' in err


def test_linked_files_are_relative_paths_only():
    text = ("![a](docs/images/a.png) [b](benchmarks/README.md#speed) [c](https://x.org/y) "
            "[d](#top) [e](mailto:me@example.org) [f](<LICENSE>)")
    assert book.linked_files(text) == ["docs/images/a.png", "benchmarks/README.md", "LICENSE"]


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    tree = tmp_path_factory.mktemp("source")
    notebooks = book.course_notebooks(REPO, ["03"])
    book.write_source(REPO, notebooks, tree, quick=True)
    return tree


def test_the_readme_is_the_home_page_with_the_navigation(source):
    index = (source / "index.md").read_text()
    assert index.startswith((REPO / "README.md").read_text())
    assert "notebooks/03_gram_matrices_and_style" in index and "\napi\n" in index
    assert (source / "docs" / "teaching.md").is_file()
    assert (source / "benchmarks" / "README.md").is_file()
    for image in book.linked_files(index):
        if image.endswith(".png"):
            assert (source / image).is_file(), image


def test_a_notebook_page_links_its_notebook_and_student_copy(source):
    name = "03_gram_matrices_and_style.ipynb"
    page = nbformat.read(source / "notebooks" / name, as_version=4)
    original = nbformat.read(REPO / "notebooks" / name, as_version=4)
    assert page.cells[0].source == original.cells[0].source.partition("\n")[0]
    assert "../downloads/notebooks/" + name in page.cells[1].source
    assert "../downloads/student/" + name in page.cells[1].source
    code = [cell.source for cell in page.cells if cell.cell_type == "code"]
    assert code == [cell.source for cell in original.cells if cell.cell_type == "code"]
    assert nbformat.read(source / "downloads" / "notebooks" / name, as_version=4) == original
    student = (source / "downloads" / "student" / name).read_text()
    assert BEGIN not in student and "NotImplementedError" in student


def test_the_api_reference_lists_every_public_module(source):
    api = (source / "api.rst").read_text()
    for module in ("nstlab.run.transfer", "nstlab.engine.losses", "nstlab.classroom.checks",
                   "nstlab.classroom.book"):
        assert f"\n   {module}\n" in api
    assert "nstlab.base.native_logs" in api and "nstlab.__main__" not in api
    assert "* - ``nstlab.stylize``\n     - :py:mod:`nstlab.run.transfer`" in api


def test_the_cache_is_emptied_when_the_package_changes(tmp_path, monkeypatch):
    cache = tmp_path / "cache-quick"
    book.open_cache(cache, say=lambda message: None)
    (cache / "executed.db").write_text("outputs")
    book.open_cache(cache, say=lambda message: None)
    assert (cache / "executed.db").exists()
    monkeypatch.setattr(book, "package_fingerprint", lambda: "another package")
    said = []
    book.open_cache(cache, say=said.append)
    assert not (cache / "executed.db").exists() and "changed" in said[0]


def test_a_layout_of_widgets_becomes_a_note_and_a_progress_bar_stays():
    nodes = pytest.importorskip("docutils.nodes")
    doctree = nodes.section()
    for text in ("VBox(children=(FloatLogSlider(value=1000.0),))", "100%|##########| 3/3"):
        doctree += nodes.literal_block(text, text, classes=["output", "text_plain"])
    book.replace_widgets(None, doctree, "notebooks/08")
    notes = list(doctree.findall(nodes.note))
    assert len(notes) == 1 and "open the notebook in Jupyter" in notes[0].astext()
    assert [block.astext() for block in doctree.findall(nodes.literal_block)] == [
        "100%|##########| 3/3"]
