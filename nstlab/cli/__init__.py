"""Layer 8, cli: the ``nstlab`` command (also ``python -m nstlab``), one dispatch.
Import rule: may import every layer; nothing in nstlab imports it.

Every option and input is checked before TensorFlow starts (:mod:`nstlab.run.options`), so
``--help`` and a mistake cost a fraction of a second, not a minute. Errors are one line on
stderr (``--debug`` shows the traceback and TensorFlow's own log lines). Exit codes: 0
done, 1 the run failed (the last good image is kept), 2 bad usage or input, 130 stopped
by Ctrl-C, 143 stopped by SIGTERM; on 130/143 the image so far is saved and its path
printed. When the result cannot be written where asked (a full disk), it is written to the
system's temporary folder instead and the command says where, with exit code 1.

The parts: :mod:`~nstlab.cli.dispatch` (the parser and :func:`main`, which calls the handler
each subcommand registers), :mod:`~nstlab.cli.parsing` (what the parsers share),
:mod:`~nstlab.cli.saving` (writing the results), and one module a subcommand:
:mod:`~nstlab.cli.stylize`, :mod:`~nstlab.cli.demo`, :mod:`~nstlab.cli.exercises`. The
others live with their layer: ``grade`` in :mod:`nstlab.classroom.grading.command`, ``book`` in
:mod:`nstlab.classroom.book`, ``batch`` in :mod:`nstlab.batch.command`, ``train-fast`` and
``fast`` in :mod:`nstlab.fast.command`.
"""

from nstlab.cli.dispatch import build_parser, main

__all__ = ["build_parser", "main"]
