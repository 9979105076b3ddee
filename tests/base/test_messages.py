"""`nstlab.base.messages`: one-line errors, SIGTERM turned into an interrupt, stops deferred."""

import os
import signal

import pytest

from nstlab.base.messages import (
    EXIT_USAGE,
    Terminated,
    fail,
    interrupts_deferred,
    one_line,
    sigterm_as_interrupt,
)


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


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_stop_inside_a_deferred_block_arrives_when_the_block_has_ended(signum):
    finished = []
    with pytest.raises(KeyboardInterrupt):
        with sigterm_as_interrupt():
            with interrupts_deferred():
                os.kill(os.getpid(), signum)
                finished.append("the rest of the block")
            finished.append("after the block")
    assert finished == ["the rest of the block"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
