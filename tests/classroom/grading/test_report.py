"""The grades are safe to print and to open in a spreadsheet."""

import csv
import io

import pytest

from nstlab.classroom.grading.report import Row, csv_cell, csv_text, printable


@pytest.mark.parametrize("text, shown", [
    ("alice", "alice"),
    ("a\nb", "a\\nb"),
    ("\x1b[31mred", "\\x1b[31mred"),
    ("tab\there", "tab\\there"),
    ("right\u202eleft", "right\\u202eleft"),
    ("café ünïcode", "café ünïcode"),
])
def test_printable_escapes_control_characters(text, shown):
    assert printable(text) == shown


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"http://x\",\"y\")", "+1", "-2+3", "@SUM(1)",
                                  "\tx", "\rx"])
def test_formulas_are_neutralised(cell):
    assert csv_cell(cell) == "'" + cell


def test_each_row_is_one_line_of_csv():
    rows = [Row("=evil\nname", "nb.ipynb", "ex", "wrong", "line one\nline two, \"quoted\""),
            Row("bob", "nb.ipynb", "ex", "correct", "correct!")]
    text = csv_text(rows)
    assert len(text.splitlines()) == 3
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[1][0] == "'=evil\\nname"
    assert parsed[1][4] == "line one line two, \"quoted\""


def test_a_row_has_a_known_status():
    with pytest.raises(ValueError, match="unknown status"):
        Row("a", "b", "c", "excellent", "")
