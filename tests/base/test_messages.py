"""`nstlab.base.messages`: one-line errors and SIGTERM turned into an interrupt."""

import os
import signal

import pytest

from nstlab.base.messages import EXIT_USAGE, Terminated, fail, one_line, sigterm_as_interrupt


def test_fail_prints_one_line_and_returns_the_code(capsys):
    assert fail(ValueError("bad\n  input"), EXIT_USAGE) == EXIT_USAGE
    assert capsys.readouterr().err == "nstlab: error: bad input\n"
    assert one_line("x" * 50, limit=10) == "xxxxxxx..."


def test_sigterm_raises_an_interrupt_inside_the_block_only():
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt) as raised:
        with sigterm_as_interrupt() as interruption:
            assert not interruption.terminated and interruption.exit_code == 130
            os.kill(os.getpid(), signal.SIGTERM)
    assert isinstance(raised.value, Terminated)
    assert interruption.terminated and interruption.name == "SIGTERM"
    assert interruption.exit_code == 143
    assert signal.getsignal(signal.SIGTERM) is before
