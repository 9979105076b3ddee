"""Automatic checks for the exercises in the nstlab notebooks.

Each exercise cell is followed by a check cell such as
``nstlab.classroom.checks.check_gram_matrix(gram_matrix)``. A check

* prints a green tick when your answer is right;
* prints "not done yet" when the function still raises ``NotImplementedError``
  (so *Run All* on a fresh exercise notebook goes to the end); the capstone's check, whose
  answer is built from several functions, names the ones still to write (:class:`NotDoneYet`);
* says what is wrong (shape, values, a hint) when the answer is not right yet;
* says "write this one yourself" when the answer calls the function the exercise asks you
  to build (``nstlab.gram_matrix`` in the Gram matrix exercise, ``tf.image.total_variation``
  in the total variation one, ...), under whatever name, directly or through another
  function. Outside the exercise, use those functions as much as you like.

Checks return ``True`` or ``False``. With ``NSTLAB_STRICT_CHECKS=1`` (set by the tests) a
wrong answer raises :class:`CheckFailed` instead of printing, so a broken reference
solution fails the notebook tests; "not done yet" never raises, except under nbgrader's
autograder, where a check cell must fail to score 0. ``nstlab grade`` runs the checks
itself, outside the student's process (``check.judge``, :mod:`nstlab.classroom.grading.verdict`).
"""

from nstlab.classroom.checks import capstone as _capstone
from nstlab.classroom.checks import fast as _fast
from nstlab.classroom.checks import layers as _layers
from nstlab.classroom.checks import losses as _losses
from nstlab.classroom.checks import optimization as _optimization
from nstlab.classroom.checks import post_processing as _post_processing
from nstlab.classroom.checks import representations as _representations
from nstlab.classroom.checks import stylize_calls as _stylize_calls
from nstlab.classroom.checks import video as _video
from nstlab.classroom.checks._base import (
    CheckFailed,
    NotDoneYet,
    Solver,
    WriteItYourself,
    exercise_check,
    expect,
    forbidding,
    input_rng,
    set_input_salt,
)
from nstlab.classroom.checks.capstone import *  # noqa: F403
from nstlab.classroom.checks.fast import *  # noqa: F403
from nstlab.classroom.checks.layers import *  # noqa: F403
from nstlab.classroom.checks.losses import *  # noqa: F403
from nstlab.classroom.checks.optimization import *  # noqa: F403
from nstlab.classroom.checks.post_processing import *  # noqa: F403
from nstlab.classroom.checks.representations import *  # noqa: F403
from nstlab.classroom.checks.stylize_calls import *  # noqa: F403
from nstlab.classroom.checks.video import *  # noqa: F403

__all__ = ["CheckFailed", "NotDoneYet", "Solver", "WriteItYourself", "exercise_check", "expect",
           "forbidding", "input_rng", "set_input_salt", *_capstone.__all__, *_fast.__all__,
           *_layers.__all__,
           *_losses.__all__, *_optimization.__all__, *_post_processing.__all__,
           *_representations.__all__, *_stylize_calls.__all__, *_video.__all__]
