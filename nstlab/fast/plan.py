"""What a training run will do, decided before it starts: :func:`training_plan`.

``train_fast`` and ``nstlab train-fast`` both start here, so the command refuses a bad
combination in one line before TensorFlow starts, with the same checks as the function: a
``--resume`` keeps its file's recipe and paintings; ``--add-to`` keeps its network's recipe
and adds paintings to it; ``--retune`` keeps its network's recipe and trains some of its
paintings again; the loss weights are one number, or one per painting.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

from nstlab.base.validators import OptionError, check_not_both
from nstlab.fast.modelfile import (
    check_style_count,
    learning_styles,
    read_record,
    style_name,
    style_names,
)
from nstlab.fast.recipe import PER_STYLE_WEIGHTS, ModelFileError, Recipe, label, model_path

#: The options that start from a model file, at most one of them.
STARTS = ("resume", "add_to", "retune")


@dataclass(frozen=True)
class TrainingPlan:
    """What a training run will do, decided from the options and model files alone.

    ``recipe``: the checked recipe (with a loss weight per painting where they differ);
    ``styles``: how many styles the network paints; ``learning``: the indices of the styles
    the paintings given train, in their order; ``norms_only``: only those styles' scales and
    offsets learn (styles added to a network, or retuned in it), not the convolutions;
    ``record``: the record of the model file the run starts from (or None); ``start``: which
    of :data:`STARTS` it starts with (or None).
    """

    recipe: Recipe
    styles: int
    learning: tuple[int, ...]
    norms_only: bool = False
    record: dict | None = None
    start: str | None = None


def training_plan(given: dict, paintings: list, *, resume=None, add_to=None, retune=None,
                  flags: bool = False) -> TrainingPlan:
    """Check a training run's recipe options and model files, before any TensorFlow.

    ``given``: the recipe fields asked for; ``paintings``: the style images given (files or
    arrays). A ``resume`` keeps its file's recipe (a field given must match it) and its
    paintings. With ``add_to``, a network's file, the new network paints that network's
    styles and the ``paintings`` too, learning only their scales and offsets (Dumoulin et al.
    2017). With ``retune``, a network's file, the ``paintings`` are some of the styles it
    paints (matched by name, :func:`~nstlab.fast.modelfile.style_name`), and only their
    scales and offsets learn again, from where they are. With either, every other recipe
    field is the network's, and the loss weights given (:data:`PER_STYLE_WEIGHTS`) are the
    ``paintings``' (default: those the network has for them, or its first painting's for new
    ones). ``flags`` names options as the command's flags. Raises a one-line
    :class:`OptionError` or :class:`ModelFileError`.
    """
    starts = {name: value for name, value in zip(STARTS, (resume, add_to, retune), strict=True)
              if value is not None}
    for first, second in combinations(starts, 2):
        check_not_both(starts[first], starts[second], label(first, flags), label(second, flags))
    count = len(paintings)
    if not starts:
        recipe = Recipe(**given).checked()
        recipe.loss_weights(count, flags=flags)
        return TrainingPlan(recipe, count, tuple(range(count)))
    start, source = next(iter(starts.items()))
    record = read_record(model_path(source), backbone=given.get("backbone"))
    saved = Recipe.from_dict(record["recipe"])
    fixed = given if start == "resume" else {
        key: value for key, value in given.items() if key not in PER_STYLE_WEIGHTS}
    if changed := saved.differing(fixed):
        option = changed[0]
        raise ModelFileError(f"{label(option, flags)} {shown(given[option])} differs from the "
                             f"recipe of '{source}' ({shown(getattr(saved, option))}); "
                             f"{label(start, flags)} keeps its recipe")
    styles = len(style_names(record))
    if start == "resume":
        check_style_count(record, count, source)
        learning = learning_styles(record)
        recipe = saved.checked()
        recipe.loss_weights(styles, flags=flags)
        norms_only = bool(record.get("added_to") or record.get("retuned"))
        return TrainingPlan(recipe, styles, learning, norms_only, record, start)
    weights = {key: value for key, value in given.items() if key in PER_STYLE_WEIGHTS}
    if start == "add_to":
        recipe = saved.adding(styles, count, weights, flags=flags)
        return TrainingPlan(recipe, styles + count, tuple(range(styles, styles + count)), True,
                            record, start)
    learning = retuned_styles(paintings, style_names(record), source)
    recipe = saved.retuning(styles, learning, weights, flags=flags)
    return TrainingPlan(recipe, styles, learning, True, record, start)


def retuned_styles(paintings: list, names: list[str], source) -> tuple[int, ...]:
    """The indices among a network's style ``names`` of the ``paintings`` to retune (files,
    matched by :func:`~nstlab.fast.modelfile.style_name`); a one-line :class:`OptionError`
    for a painting the network does not paint, an array, or a painting given twice."""
    found = []
    for painting in paintings:
        if not isinstance(painting, str | bytes) and not hasattr(painting, "__fspath__"):
            raise OptionError("retune: give the paintings as files, so that their names say "
                              "which of the network's styles they are")
        name = style_name(painting)
        if name not in names:
            raise OptionError(f"retune: '{source}' does not paint '{name}' (it paints "
                              f"{', '.join(names)})")
        if names.index(name) in found:
            raise OptionError(f"retune: '{name}' is given twice")
        found.append(names.index(name))
    return tuple(found)


def shown(value) -> str:
    """A recipe value as a flag takes it: ``20000 25000`` (a weight per painting),
    ``block2_conv2,block3_conv2`` (layers)."""
    if isinstance(value, list | tuple):
        return ("," if all(isinstance(each, str) for each in value) else " ").join(
            map(shown, value))
    return f"{value:g}" if isinstance(value, float) else str(value)
