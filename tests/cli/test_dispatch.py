"""nstlab.cli.dispatch: every subcommand registers its parser and its handler; main calls it."""

import pytest

from nstlab.cli import build_parser, exercises, main

COMMANDS = {"stylize", "demo", "exercises", "grade", "batch", "book", "train-fast", "fast",
            "video"}


def subcommand_parsers():
    return build_parser()._subparsers._group_actions[0].choices


def test_every_subcommand_registers_a_handler():
    parsers = subcommand_parsers()
    assert set(parsers) == COMMANDS
    for name, parser in parsers.items():
        assert callable(parser.get_default("handler")), f"{name} registered no handler"


def test_main_returns_what_the_subcommand_s_handler_returns(monkeypatch, tmp_path):
    called = []

    def handler(args):
        called.append(args.out_dir)
        return 7

    monkeypatch.setattr(exercises, "run", handler)
    assert main(["exercises", str(tmp_path)]) == 7
    assert called == [str(tmp_path)]


def test_no_subcommand_prints_the_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["grade", "{tmp}/missing", "-o", "{tmp}/grades.csv"], "submissions folder"),
    (["book", "-o", "{tmp}/site", "--checkout", "{tmp}/missing"], "no course in"),
    (["exercises", "{tmp}/out", "--notebooks", "{tmp}/missing"], "no notebooks"),
    (["fast", "{tmp}/missing.keras", "{tmp}/photo.png", "-o", "{tmp}/out.png"], "not found"),
    (["batch", "{tmp}/missing.json", "-o", "{tmp}/results"], "missing.json"),
])
def test_each_subcommand_s_usage_errors_are_one_line_each_and_exit_2(argv, message, tmp_path,
                                                                     capsys):
    """(batch adds a last line counting the problems of the job file.)"""
    assert main([part.format(tmp=tmp_path) for part in argv]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert message in lines[0], lines
    assert lines and all(line.startswith("nstlab: error: ") for line in lines), lines
