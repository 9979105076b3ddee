"""The machinery every check shares: friendly reporting of right, unfinished and wrong."""

from __future__ import annotations

import functools
import os


class CheckFailed(AssertionError):
    """An exercise answer that is not right yet; the message says what is wrong."""


def expect(condition: bool, message: str) -> None:
    """Fail the current check with ``message`` unless ``condition`` holds."""
    if not condition:
        raise CheckFailed(message)


def _strict() -> bool:
    return os.environ.get("NSTLAB_STRICT_CHECKS", "").strip() in ("1", "true", "yes")


def exercise_check(title: str):
    """Decorate a check function so it reports instead of crashing.

    The decorated function raises :class:`CheckFailed` (via :func:`expect`) for a wrong
    answer and returns normally for a right one; calling the student's code may raise
    ``NotImplementedError`` when the exercise is not done yet.
    """

    def decorate(check):
        @functools.wraps(check)
        def run(*args, **kwargs) -> bool:
            try:
                check(*args, **kwargs)
            except NotImplementedError:
                print(f"… {title}: not done yet. Replace `raise NotImplementedError` with your "
                      "code, run that cell, then run this check again.")
                return False
            except CheckFailed as failure:
                if _strict():
                    raise
                print(f"✗ {title}: {failure}")
                return False
            except Exception as error:  # the student's code crashed: say where, not a traceback
                message = f"your code raised {type(error).__name__}: {error}"
                if _strict():
                    raise CheckFailed(message) from error
                print(f"✗ {title}: {message}")
                return False
            print(f"✓ {title}: correct!")
            return True

        return run

    return decorate
