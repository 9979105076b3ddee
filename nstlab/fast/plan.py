"""What a training run will do, decided before it starts: :func:`training_plan`.

``train_fast`` and ``nstlab train-fast`` both start here, so the command refuses a bad
combination in one line before TensorFlow starts, with the same checks as the function: a
``--resume`` keeps its file's recipe and paintings; ``--add-to`` keeps its network's recipe
and adds paintings to it; the loss weights are one number, or one per painting.
"""

from __future__ import annotations

from dataclasses import dataclass

from nstlab.base.validators import check_not_both
from nstlab.fast.modelfile import check_style_count, kept_styles, read_record, style_names
from nstlab.fast.recipe import PER_STYLE_WEIGHTS, ModelFileError, Recipe, label, model_path


@dataclass(frozen=True)
class TrainingPlan:
    """What a training run will do, decided from the options and model files alone.

    ``recipe``: the checked recipe (with a loss weight per painting when styles are added);
    ``kept``: how many styles at the start of the network stay as they are (those of the
    network given as ``add_to``; 0 otherwise); ``record``: the record of the resumed model
    file, or of the network added to (or None).
    """

    recipe: Recipe
    kept: int = 0
    record: dict | None = None


def training_plan(given: dict, paintings: int, *, resume=None, add_to=None,
                  flags: bool = False) -> TrainingPlan:
    """Check a training run's recipe options and model files, before any TensorFlow.

    ``given``: the recipe fields asked for; ``paintings``: how many style images are given.
    A ``resume`` keeps its file's recipe (a field given must match it) and its paintings.
    With ``add_to``, a network's file, the new network paints that network's styles and the
    ``paintings`` too, learning only their scales and offsets (Dumoulin et al. 2017): every
    other recipe field is the network's, and ``content_weight``/``style_weight`` apply to the
    new paintings (default: those of its first painting). ``flags`` names options as the
    command's flags. Raises a one-line :class:`OptionError` or :class:`ModelFileError`.
    """
    check_not_both(resume, add_to, label("resume", flags), label("add_to", flags))
    backbone = given.get("backbone")
    if resume is not None:
        record = read_record(model_path(resume), backbone=backbone)
        check_style_count(record, paintings, resume)
        saved, fixed, source = Recipe.from_dict(record["recipe"]), given, resume
    elif add_to is not None:
        record = read_record(model_path(add_to), backbone=backbone)
        saved, source = Recipe.from_dict(record["recipe"]), add_to
        fixed = {key: value for key, value in given.items() if key not in PER_STYLE_WEIGHTS}
    else:
        recipe = Recipe(**given).checked()
        recipe.loss_weights(paintings, flags=flags)
        return TrainingPlan(recipe)
    if changed := saved.differing(fixed):
        option = changed[0]
        keeps = label("resume", flags) if resume is not None else label("add_to", flags)
        raise ModelFileError(f"{label(option, flags)} {shown(given[option])} differs from the "
                             f"recipe of '{source}' ({shown(getattr(saved, option))}); {keeps} "
                             "keeps its recipe")
    if resume is not None:
        recipe, kept = saved.checked(), kept_styles(record)
        recipe.loss_weights(kept + paintings, flags=flags)
        return TrainingPlan(recipe, kept, record)
    kept = len(style_names(record))
    recipe = saved.adding(kept, paintings, {key: value for key, value in given.items()
                                            if key in PER_STYLE_WEIGHTS}, flags=flags)
    return TrainingPlan(recipe, kept, record)


def shown(value) -> str:
    """A recipe value as a flag takes it: ``20000 25000`` (a weight per painting),
    ``block2_conv2,block3_conv2`` (layers)."""
    if isinstance(value, list | tuple):
        return ("," if all(isinstance(each, str) for each in value) else " ").join(
            map(shown, value))
    return f"{value:g}" if isinstance(value, float) else str(value)
