"""A fast-style model on disk: a Keras ``.keras`` file with nstlab's record inside.

A ``.keras`` file is a zip archive (Keras writes ``config.json``, ``metadata.json`` and
``model.weights.h5``). nstlab adds one more member, ``nstlab.json``, which says that the
file is a nstlab fast-style model and records how it was made::

    {"format": "nstlab-fast-style", "version": 1, "backbone": "vgg16",
     "recipe": {...}, "steps": 1200, "seconds": 1500.0, "style": "starry_night.jpg",
     "styles": ["starry_night.jpg"], "photos": [...], "history": {...}}

``styles`` lists the paintings of a multi-style network in the order of its style input
(files written before it existed paint their one ``style``). A network made from another
says so: ``added_to`` (styles added to it) or ``retuned`` (some of its styles trained
again), each naming the network and its own steps, seconds and precisions.

Keras ignores the extra member, so the file also opens with ``keras.saving.load_model``.
:func:`read_record` reads the record without TensorFlow, so the command line refuses a
damaged file, a file that is not nstlab's, or a model for another loss network at once.
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from pathlib import Path

from nstlab.base.files import write_atomically
from nstlab.fast.recipe import MODEL_FORMAT, MODEL_VERSION, ModelFileError, Recipe
from nstlab.imaging.data import PAINTINGS

RECORD_NAME = "nstlab.json"
SUFFIX = ".keras"


def read_record(path, *, backbone: str | None = None) -> dict:
    """The nstlab record of the model file at ``path`` (no TensorFlow needed).

    With ``backbone``, the model must have been trained with that loss network.
    Raises :class:`ModelFileError` (one line) for a missing, damaged or foreign file.
    """
    path = Path(path)
    if path.suffix.lower() != SUFFIX:
        raise ModelFileError(f"model '{path}' is not a {SUFFIX} file")
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if RECORD_NAME not in names:
                what = "a Keras model" if "config.json" in names else "a zip archive"
                raise ModelFileError(f"model '{path}' is {what} but not a nstlab fast-style "
                                     "model (it has no nstlab record)")
            record = json.loads(archive.read(RECORD_NAME))
            if "model.weights.h5" not in names:
                raise ModelFileError(f"model '{path}' is damaged: it has no weights")
    except (zipfile.BadZipFile, EOFError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelFileError(f"model '{path}' is damaged or not a model file ({error})") from None
    except OSError as error:
        raise ModelFileError(f"cannot read model '{path}': {error.strerror or error}") from None
    if not isinstance(record, dict) or record.get("format") != MODEL_FORMAT:
        raise ModelFileError(f"model '{path}' is not a nstlab fast-style model")
    if record.get("version") != MODEL_VERSION:
        raise ModelFileError(f"model '{path}' has format version {record.get('version')!r}; "
                             f"this nstlab reads version {MODEL_VERSION}: update nstlab")
    try:
        Recipe.from_dict(record.get("recipe", {})).checked()
    except (TypeError, ValueError) as error:
        raise ModelFileError(f"model '{path}' has a damaged recipe ({error})") from None
    trained_with = record["recipe"].get("backbone")
    if backbone is not None and trained_with != backbone:
        raise ModelFileError(f"model '{path}' was trained with the {trained_with} loss network, "
                             f"not {backbone}")
    return record


def recorded_styles(record: dict) -> list[str]:
    """The paintings a model paints as its record names them (their file names), in the
    order of its style input; a record older than ``styles`` names its one ``style``."""
    return record.get("styles") or [record.get("style") or "style"]


def style_name(painting) -> str:
    """How a model names the style of a painting file: a painting shipped with nstlab by its
    name (``"woman_with_hat"``), another by its file name without the suffix."""
    shipped = {painting.filename: name for name, painting in PAINTINGS.items()}
    return shipped.get(Path(str(painting)).name, Path(str(painting)).stem)


def style_names(record: dict) -> list[str]:
    """The styles a model paints, in the order of its style input (:func:`style_name`)."""
    return [style_name(name) for name in recorded_styles(record)]


def kept_styles(record: dict) -> int:
    """How many of a model's styles came from the network it was added to, and stay as they
    are when it trains on (0 for a network trained from scratch; see
    :func:`nstlab.fast.plan.training_plan`)."""
    return int((record.get("added_to") or {}).get("styles", 0))


def learning_styles(record: dict) -> tuple[int, ...]:
    """The indices of the styles a model file trains when it is resumed: those added to a
    network, those retuned in one, else all it paints."""
    count = len(recorded_styles(record))
    if retuned := record.get("retuned"):
        names = style_names(record)
        return tuple(names.index(name) for name in retuned["styles"])
    return tuple(range(kept_styles(record), count))


def check_style_count(record: dict, given: int, path) -> None:
    """Refuse to resume the model file at ``path`` with another number of paintings than it
    trains (a one-line :class:`ModelFileError`): all it paints, those added to a network, or
    those retuned in one."""
    kept, trained = kept_styles(record), len(learning_styles(record))
    if trained != given:
        does = (f"retunes {trained} style(s)" if record.get("retuned") else
                f"adds {trained} style(s) to {kept}" if kept else f"paints {trained} style(s)")
        raise ModelFileError(f"resume: '{path}' {does}, and {given} were given; give the same "
                             "paintings")


def save_model(model, path, record: dict) -> Path:
    """Write ``model`` and nstlab's ``record`` to ``path`` in one atomic step."""
    record = {"format": MODEL_FORMAT, "version": MODEL_VERSION, **record}
    with tempfile.TemporaryDirectory(prefix="nstlab-model-") as folder:
        keras_file = Path(folder) / f"model{SUFFIX}"
        model.save(keras_file)
        buffer = io.BytesIO()
        with zipfile.ZipFile(keras_file) as source, zipfile.ZipFile(
                buffer, "w", zipfile.ZIP_DEFLATED) as target:
            for item in source.infolist():
                target.writestr(item, source.read(item.filename))
            target.writestr(RECORD_NAME, json.dumps(record))
    return write_atomically(path, buffer.getvalue())


def load_model(path, *, backbone: str | None = None):
    """``(keras model, record)`` from a model file; :class:`ModelFileError` if unusable."""
    import keras

    from nstlab.fast import network  # noqa: F401  (registers the network's layers with Keras)

    record = read_record(path, backbone=backbone)
    try:
        model = keras.saving.load_model(path, compile=False)
    except Exception as error:  # Keras raises many kinds for a damaged archive
        message = " ".join(str(error).split())[:200]
        raise ModelFileError(f"model '{path}' is damaged ({message})") from None
    return model, record
