"""General checks of a value, each raising :class:`OptionError` with a one-line message.

They know nothing of style transfer: a number within bounds, one of some choices, a count
that matches, two options that exclude each other, a folder or a file that can be written,
and an argparse type for numbers. The run options (:mod:`nstlab.run.options`), the engine's
functions and the classroom's commands all check with these.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Sequence
from pathlib import Path


class OptionError(ValueError):
    """An option or input that cannot work, found before any work starts."""


def check_number(value, label: str, *, whole: bool = False, at_least: float | None = None,
                 above: float | None = None):
    """``value`` as an ``int`` (``whole``) or ``float`` within bounds, else :class:`OptionError`.

    Rejects booleans, text, NaN and infinity; ``at_least`` is inclusive, ``above`` strict.
    """
    wanted = ("a whole number" if whole else "a number") + (
        f" >= {at_least:g}" if at_least is not None else "") + (
        f" > {above:g}" if above is not None else "")
    problem = OptionError(f"{label} must be {wanted}, got {value!r}")
    if isinstance(value, bool | str) or not hasattr(value, "__float__"):
        raise problem
    number = float(value)
    if not math.isfinite(number) or (whole and number != int(number)):
        raise problem
    if (at_least is not None and number < at_least) or (above is not None and number <= above):
        raise problem
    return int(number) if whole else number


def check_choice(value, choices: Sequence, label: str, *, or_none: bool = False):
    """``value`` if it is one of ``choices``, else :class:`OptionError` listing them."""
    if value not in choices:
        allowed = ", ".join(map(str, choices))
        raise OptionError(f"unknown {label} {value!r}; choose {'None or ' if or_none else ''}"
                          f"one of {allowed}")
    return value


def check_count(values, expected: int, noun: str, what: str, label: str) -> None:
    """An error unless ``values`` (a list, or None) has ``expected`` items, one per thing."""
    if values is not None and not isinstance(values, dict) and len(values) != expected:
        raise OptionError(f"{label} got {len(values)} {noun} for {what}")


def check_all_in(values, allowed: Sequence, label: str, what: str) -> None:
    """An error unless every item of ``values`` is one of ``allowed`` (``what`` names one)."""
    for value in values:
        if value not in allowed:
            raise OptionError(f"{label}: {value!r} is not {what}; choose from "
                              f"{','.join(map(str, allowed))}")


def check_not_both(first, second, first_label: str, second_label: str) -> None:
    """An error when both options are set (they cannot be combined)."""
    if first is not None and second is not None:
        raise OptionError(f"{first_label} cannot be combined with {second_label}")


def check_writable_folder(path, label: str) -> None:
    """Raise :class:`OptionError` unless ``path`` is a folder that exists or can be made."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OptionError(f"{label} '{path}' is a file, not a folder")
    folder = path
    while not folder.exists():
        folder = folder.parent
    if not os.access(folder, os.W_OK):
        raise OptionError(f"{label} '{path}': cannot create or write that folder")


def check_output_path(path, *, overwrite: bool = False, suffixes: Sequence[str] = ()) -> Path:
    """Raise :class:`OptionError` unless ``path`` can be written as a new file.

    It must not exist (unless ``overwrite``), nor be a folder; its folder must exist and be
    writable; with ``suffixes``, its suffix must be one of them.
    """
    path = Path(path)
    if path.is_dir():
        raise OptionError(f"output '{path}' is a directory")
    if path.exists() and not overwrite:
        raise OptionError(f"output '{path}' exists; pass --overwrite to replace it")
    if suffixes and path.suffix.lower() not in suffixes:
        raise OptionError(f"output '{path}' needs an image suffix: {', '.join(suffixes)}")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise OptionError(f"cannot write '{path}': directory '{folder}' does not exist")
    if not os.access(folder, os.W_OK):
        raise OptionError(f"cannot write '{path}': directory '{folder}' is not writable")
    return path


def parse_number(kind: str):
    """An argparse ``type`` reading a whole number (``"int"``) or a number (``"float"``)."""

    def parse(text: str):
        try:
            return int(text) if kind == "int" else float(text)
        except ValueError:
            what = "a whole number" if kind == "int" else "a number"
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None

    parse.__name__ = kind
    return parse
