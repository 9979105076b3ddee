"""The options of a stylization run, each defined once.

Every option of :func:`nstlab.stylize` is one field of :class:`StylizeOptions`: its
default, the values it accepts and its help text. Everything else is derived from that
one table:

* the keyword arguments, signature and docstring of :func:`nstlab.stylize`;
* the flags of the ``nstlab stylize`` command (:func:`add_arguments`);
* the one check of a run's options and inputs, :meth:`StylizeOptions.validate`;
* ``Result.settings`` (:meth:`StylizeOptions.settings`): pass them back to ``stylize`` to
  repeat a run;
* the keyword arguments of the functions a run hands its options to (:data:`CALLEES`:
  :class:`~nstlab.engine.losses.Objective`, :func:`~nstlab.engine.optimize.optimize_pixels`,
  :func:`~nstlab.run.memory.check_fits`): :meth:`StylizeOptions.call` passes each of them
  the options named like its parameters.

So adding an option means adding a field here and using it where it matters: a parameter
of the same name in one of :data:`CALLEES`, or code of the run itself (then its name goes
in :data:`READ_BY_RUN`). A test checks that every option goes one of the two ways. The module
imports no TensorFlow: ``nstlab stylize --help`` and a mistyped file name are answered in
a fraction of a second.

>>> options = StylizeOptions(size=256, style_weight=1e3)
>>> options.validate("photo.jpg", ["starry_night.jpg"])   # raises OptionError, or returns
... #                                                       the options with defaults filled in
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import inspect
import itertools
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from nstlab.base.validators import (
    OptionError,
    check_all_in,
    check_choice,
    check_count,
    check_not_both,
    check_number,
    check_writable_folder,
    parse_number,
)
from nstlab.engine import backbones
from nstlab.engine.defaults import (
    ADAM_LEARNING_RATE,
    DEFAULT_CONTENT_LAYERS,
    DEFAULT_CONTENT_WEIGHT,
    DEFAULT_STEPS,
    DEFAULT_STYLE_LAYERS,
    DEFAULT_STYLE_WEIGHT,
    DEFAULT_TV_WEIGHT,
    LBFGS_HISTORY,
    LBFGS_SMOOTHING,
    OPTIMIZERS,
)
from nstlab.engine.precision import PRECISION_CHOICES
from nstlab.imaging.color import COLOR_MATCH_MODES, PRESERVE_COLOR

# ------------------------------------- choices (the defaults: nstlab.engine.defaults)
INITS = ("tinted", "content", "noise", "style")
POOLINGS = ("max", "avg")
DEVICES = ("auto", "cpu", "gpu")
# Results larger than this start at this size and are refined upwards (transfer.scale_schedule).
COARSE_SIZE = 512


# ------------------------------------------------------------------------ the one table


@dataclass(frozen=True)
class Spec:
    """What one option accepts, and how it is shown (stored in the field's metadata).

    ``kind`` is one of ``int``, ``float``, ``text``, ``choice``, ``layers`` (Keras layer
    names), ``floats``, ``scales``, ``image``, ``images``, ``path`` and ``switch`` (on/off).
    """

    help: str
    kind: str
    choices: tuple = ()
    at_least: float | None = None  # inclusive lower bound
    above: float | None = None  # exclusive lower bound
    flag: str | None = None  # the command's flag; default --name-with-dashes
    metavar: str | None = None
    recorded: bool = True  # part of Result.settings (run controls such as resume are not)
    nullable: bool = False  # None is accepted too (always, when the default is None)


def option(default, help: str, kind: str, **spec) -> Any:
    """A dataclass field that carries its :class:`Spec`."""
    return field(default=default, metadata={"spec": Spec(help, kind, **spec)})


@dataclass(frozen=True)
class StylizeOptions:
    """Every option of one stylization run, with its default.

    Build it with keyword arguments (``StylizeOptions(size=256)``), check it with
    :meth:`validate`, record it with :meth:`settings`. The help of each option is in
    :func:`describe` and ``nstlab stylize --help``.
    """

    # The result
    size: int | None = option(
        512, "longest side of the result in pixels; None keeps the photo's size", "int",
        at_least=1, metavar="PX", nullable=True)
    steps: int | None = option(
        None, "optimisation steps (default: 200 for lbfgs, 1000 for adam)", "int", at_least=1,
        metavar="N")
    seed: int = option(0, "seeds Python, NumPy and TensorFlow: the same seed gives the same "
                          "image on a CPU", "int")
    # The losses
    content_weight: float = option(
        DEFAULT_CONTENT_WEIGHT, "alpha: weight of the content loss", "float", at_least=0)
    style_weight: float = option(
        DEFAULT_STYLE_WEIGHT, "beta: weight of the style loss (raise it for more style)",
        "float", at_least=0)
    tv_weight: float = option(
        DEFAULT_TV_WEIGHT, "weight of the total-variation loss (raise it for smoother "
                           "images; it is a sum over pixels, so it grows with the size)",
        "float", at_least=0)
    tv_power: float = option(
        1.0, "power of the neighbour differences in the total variation: 1 sums their sizes "
             "(keeps edges sharp), 2 their squares as jcjohnson/neural-style does (softens "
             "edges; a smaller sum, so raise tv_weight)", "float", at_least=1)
    luminance_weight: float = option(
        0.0, "weight of a loss that keeps the photo's light and dark (its luminance averaged "
             "over 4 x 4 pixel blocks); 0 leaves it out", "float", at_least=0)
    content_layers: tuple[str, ...] | None = option(
        None, "Keras layer names for the content (default block4_conv2)", "layers",
        metavar="L1,L2")
    style_layers: tuple[str, ...] | None = option(
        None, "Keras layer names for the style (default block1_conv1,...,block5_conv1)",
        "layers", metavar="L1,L2")
    content_layer_weights: tuple[float, ...] | None = option(
        None, "relative weight of each content layer, in the order of the content layers "
              "(normalised to sum to 1; default equal)", "floats", at_least=0, metavar="W")
    style_layer_weights: tuple[float, ...] | None = option(
        None, "relative weight of each style layer, in the order of the style layers "
              "(normalised to sum to 1; default equal)", "floats", at_least=0, metavar="W")
    # The network
    backbone: str = option(
        "vgg16", "the network: vgg16 works offline; vgg19 downloads ImageNet weights once",
        "choice", choices=tuple(backbones.BACKBONES))
    pooling: str = option(
        "max", "VGG's pooling; avg (as in Gatys et al. 2016) gives smoother results",
        "choice", choices=POOLINGS)
    precision: str = option(
        "auto", "the network's arithmetic: auto picks the fastest this machine computes "
                "natively (16-bit on GPUs with tensor cores and CPUs with bfloat16, else "
                "float32); losses stay float32; float32 gives the same numbers on every "
                "machine", "choice", choices=PRECISION_CHOICES)
    device: str = option(
        "auto", "where the network runs: auto (a GPU when TensorFlow sees one), cpu or gpu",
        "choice", choices=DEVICES)
    # The images
    style_scale: float = option(
        1.0, "style image size relative to the size (smaller: finer brush strokes)", "float",
        above=0)
    style_blend_weights: tuple[float, ...] | None = option(
        None, "one weight per style image, to mix several styles", "floats", at_least=0,
        metavar="W")
    style_masks: tuple | None = option(
        None, "one mask image per style (white = that style here); regions no mask covers "
              "keep the photo", "images", metavar="MASK")
    init: Any = option(
        "tinted", "where optimisation starts: tinted (the photo with the painting's mean "
                  "colour, fastest), content (the photo), noise (as in Gatys et al.), style, "
                  "or an image", "init", metavar="INIT")
    coarse_style: Any = option(
        None, "take the coarse style layers' targets (large-scale structure) from this "
              "image, the fine ones from the style", "image", metavar="IMAGE")
    coarse_layers: tuple[str, ...] | None = option(
        None, "the style layers coarse_style sets (default: block 3 on)", "layers",
        metavar="L1,L2")
    preserve_color: str | None = option(
        None, "keep the photo's colours: luminance (optimise brightness only), histogram "
              "(recolour the style first) or post (swap colours after)", "choice",
        choices=PRESERVE_COLOR)
    color_match_mode: str = option(
        "sym", "covariance matching used by preserve_color histogram", "choice",
        choices=COLOR_MATCH_MODES)
    denoise: float | None = option(
        None, "edge-preserving smoothing of the result (about 0.1 removes grain)", "float",
        at_least=0, metavar="STRENGTH")
    # The optimisation
    optimizer: str = option(
        "lbfgs", "lbfgs (far fewer steps) or adam (the TensorFlow tutorial's loop)", "choice",
        choices=OPTIMIZERS)
    learning_rate: float = option(ADAM_LEARNING_RATE, "Adam's step size", "float", above=0)
    lbfgs_history: int = option(
        LBFGS_HISTORY, "L-BFGS memory: how many recent gradient pairs it keeps", "int",
        at_least=1)
    lbfgs_smoothing: int = option(
        LBFGS_SMOOTHING, "blur levels of L-BFGS's starting curvature guess (broad changes "
                         "first; 0 for textbook L-BFGS)", "int", at_least=0)
    scales: Any = option(
        "auto", f"coarse-to-fine sizes, rising and ending at the size; auto: start at "
                f"{COARSE_SIZE} px above {COARSE_SIZE} px; none: one scale", "scales",
        metavar="PX", nullable=True)
    coarse_steps: int | None = option(
        None, "steps at each coarser scale (default: a quarter of the steps)", "int",
        at_least=1, metavar="N")
    # Run controls: how this run is kept and resumed (not part of the settings)
    checkpoint_dir: Any = option(
        None, "save image, history and optimiser state to this folder as the run goes (a "
              "save that fails, on a full disk say, is a warning and the run goes on)",
        "path", flag="--checkpoint", metavar="DIR", recorded=False)
    checkpoint_every: int = option(
        50, "steps between checkpoints", "int", at_least=1, metavar="N", recorded=False)
    resume: Any = option(
        None, "continue the run checkpointed in this folder (same inputs and options)",
        "path", metavar="DIR", recorded=False)
    max_pixels: int | None = option(
        None, "refuse input images with more pixels (default 40 million, or "
              "$NSTLAB_MAX_PIXELS)", "int", at_least=1, metavar="N", recorded=False)
    memory_check: bool = option(
        True, "refuse a run that needs more memory than this machine has available (or set "
              "NSTLAB_SKIP_MEMORY_CHECK=1)", "switch", flag="--no-memory-check",
        recorded=False)

    def replace(self, **changes) -> StylizeOptions:
        """A copy with some options changed (not yet checked)."""
        return dataclasses.replace(self, **changes)

    def call(self, func, *args, **given):
        """Call ``func`` with these options as its keyword arguments of the same names.

        Every parameter of ``func`` that is named like an option (:func:`projected`) gets
        that option's value, unless ``args`` or ``given`` already pass it: what ``given``
        holds wins, so a caller can pass a value the run has changed (the style resized to
        the scale). Arguments that are not options (images, an extractor, callbacks) go in
        ``args`` and ``given`` too. So ``options.call(Objective, content, styles)`` is
        ``Objective(content, styles, backbone=options.backbone, ...)`` with every option
        ``Objective`` takes. A parameter must therefore mean what the option of its name
        means (``optimize_pixels`` calls its start image ``start``, not ``init``).
        """
        passed = inspect.signature(func).bind_partial(*args, **given).arguments
        keywords = {name: getattr(self, name) for name in projected(func) if name not in passed}
        return func(*args, **given, **keywords)

    # --------------------------------------------------------------------- the check

    def validate(self, content=None, styles=(), *, flags: bool = False) -> StylizeOptions:
        """Check the options (and the input images, when given) without any network.

        Checks ranges and choices, layer names against the backbone's layers, counts of
        blend weights and masks against the styles, options that conflict, the images'
        headers (readable, not too many pixels, large enough for the deepest layer), that
        the checkpoint folder can be written, and that the run fits in memory. Returns the
        options with their defaults filled in (steps, layers, scales); raises
        :class:`OptionError` (a ``ValueError``) with a one-line message otherwise.
        ``flags=True`` names options as the command's flags (``--style-weight``).
        """
        name = _namer(flags)
        values = {f.name: _checked_value(f, getattr(self, f.name), name) for f in fields(self)}
        options = dataclasses.replace(self, **values)
        return options._check_together(content, _as_list(styles), name)

    def _check_together(self, content, styles: list, name) -> StylizeOptions:
        style_layers = list(self.style_layers or DEFAULT_STYLE_LAYERS)
        content_layers = list(self.content_layers or DEFAULT_CONTENT_LAYERS)
        for option_name, layers in (("content_layers", content_layers),
                                    ("style_layers", style_layers)):
            _check_layers(layers, self.backbone, name(option_name))
        check_count(self.content_layer_weights, len(content_layers), "weights",
                    f"{len(content_layers)} content layers", name("content_layer_weights"))
        check_count(self.style_layer_weights, len(style_layers), "weights",
                    f"{len(style_layers)} style layers", name("style_layer_weights"))
        if styles:
            what = f"{len(styles)} style images"
            check_count(self.style_blend_weights, len(styles), "weights", what,
                        name("style_blend_weights"))
            check_count(self.style_masks, len(styles), "masks", what, name("style_masks"))
        if self.coarse_layers is not None:
            if self.coarse_style is None:
                raise OptionError(f"{name('coarse_layers')} needs {name('coarse_style')}")
            check_all_in(self.coarse_layers, style_layers, name("coarse_layers"), "a style layer")
        check_not_both(self.coarse_style, self.style_masks, name("coarse_style"),
                       name("style_masks"))
        if isinstance(self.scales, tuple) and not _rising_to(self.scales, self.size):
            raise OptionError(f"{name('scales')} must rise and end at {name('size')} "
                              f"({self.size}), got {list(self.scales)}")
        if self.checkpoint_dir is not None:
            check_writable_folder(self.checkpoint_dir, name("checkpoint_dir"))
        steps = DEFAULT_STEPS[self.optimizer] if self.steps is None else self.steps
        filled = dataclasses.replace(self, steps=steps, content_layers=tuple(content_layers),
                                     style_layers=tuple(style_layers))
        if content is not None:
            filled._check_images(content, styles, name)
        return filled

    def _check_images(self, content, styles: list, name) -> None:
        from nstlab.imaging import images

        def shape_of(source):
            return images.image_shape(source, max_pixels=self.max_pixels)

        start = [] if isinstance(self.init, str) and self.init in INITS else [self.init]
        for other in [*(self.style_masks or ()), *start]:
            shape_of(other)
        shape = shape_of(content)
        painted = [shape_of(s) for s in [*styles, *_as_list(self.coarse_style)]]
        if shape is None:  # a URL: its size is known only once it is downloaded
            return
        size = self.size or max(shape)
        style_size = max(1, round(size * self.style_scale))
        style_shapes = [images.fit_within(*s, style_size) for s in painted if s is not None]
        deepest = max(self.content_layers + self.style_layers,
                      key=backbones.layer_names(self.backbone).index)
        first_shape = images.fit_within(*shape, min(self.scale_sizes(size)))
        for what, (height, width) in [("content", first_shape)] + [
                ("style", s) for s in style_shapes]:
            backbones.check_input_size(height, width, deepest, size_label=name("size"),
                                       what=f"the {what} image after resizing")
        if self.memory_check:
            from nstlab.run import memory

            try:
                self.call(memory.check_fits, images.fit_within(*shape, size), style_shapes,
                          loaded_shapes=[shape, *(s for s in painted if s is not None)],
                          size_name=name("size"))
            except memory.MemoryBudgetError as error:
                raise OptionError(str(error)) from None

    def scale_sizes(self, size: int) -> list[int]:
        """The sizes (longest side) this run goes through, ending at ``size``."""
        return scale_schedule(size, self.scales)

    # -------------------------------------------------------------------- the record

    def settings(self) -> dict:
        """The recorded options as plain JSON values (images as their paths)."""
        return {f.name: _recorded(getattr(self, f.name)) for f in fields(self)
                if _spec(f).recorded}


# ----------------------------------------------------------- where each option goes

#: The functions a run passes its options to by name, with :meth:`StylizeOptions.call`
#: (``module:name``, so that this module need not import TensorFlow to name them).
CALLEES = ("nstlab.engine.losses:Objective", "nstlab.engine.optimize:optimize_pixels",
           "nstlab.run.memory:check_fits")

#: The options no function of :data:`CALLEES` takes: the run reads them itself
#: (:mod:`nstlab.run.transfer`'s stages and :meth:`StylizeOptions.validate`). Every option is
#: a parameter of a callee or listed here, never both (tests/run/test_options.py).
READ_BY_RUN = (
    "size", "seed", "device", "style_scale", "init", "preserve_color", "color_match_mode",
    "denoise", "scales", "coarse_steps", "checkpoint_dir", "checkpoint_every", "resume",
    "max_pixels", "memory_check",
)

_PASSED_BY_NAME = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def projected(func) -> list[str]:
    """The options ``func`` takes: its parameters named like a field of :class:`StylizeOptions`.

    Read from ``func``'s signature (for a class, its ``__init__``'s), in its order.
    """
    names = {f.name for f in fields(StylizeOptions)}
    return [parameter.name for parameter in inspect.signature(func).parameters.values()
            if parameter.kind in _PASSED_BY_NAME and parameter.name in names]


def scale_schedule(size: int, scales="auto") -> list[int]:
    """The image sizes (longest side) a coarse-to-fine run goes through, ending at ``size``.

    ``"auto"`` starts at :data:`COARSE_SIZE` and doubles (512, 1024, 2048, ...) until
    ``size``; ``None`` means a single scale; a list is used as given (it must rise and end
    at ``size``).
    """
    if scales is None:
        return [size]
    if isinstance(scales, str):
        if scales != "auto":
            raise OptionError(f"scales must be 'auto', None or a list of sizes, not {scales!r}")
        sizes = [size]
        while sizes[0] > COARSE_SIZE:
            sizes.insert(0, max(COARSE_SIZE, (sizes[0] + 1) // 2))
        return sizes
    sizes = [int(s) for s in scales]
    if not _rising_to(sizes, size):
        raise OptionError(f"scales must be rising sizes ending at size={size}, got {scales!r}")
    return sizes


def _rising_to(sizes: Sequence[int], size: int | None) -> bool:
    """Whether ``sizes`` rise strictly and end at ``size`` (any end when it is None)."""
    return bool(sizes) and (size is None or sizes[-1] == size) and all(
        b > a for a, b in itertools.pairwise(sizes))


# --------------------------------------------------------------------- checking values


def _spec(f: dataclasses.Field) -> Spec:
    return f.metadata["spec"]


def _namer(flags: bool, table=None):
    by_name = {f.name: flag_of(f) for f in fields(table or StylizeOptions)}
    return (lambda option_name: by_name[option_name]) if flags else (lambda option_name:
                                                                      option_name)


def _checked_value(f: dataclasses.Field, value, name):
    spec, label = _spec(f), name(f.name)
    kind = spec.kind
    if value is None and (f.default is None or spec.nullable):
        return None
    if kind == "switch":
        if not isinstance(value, bool):
            raise OptionError(f"{label} must be True or False, got {value!r}")
        return value
    if kind in ("int", "float"):
        return _number(value, kind, spec, label)
    if kind == "choice":
        return check_choice(value, spec.choices, label, or_none=f.default is None)
    if kind == "init":
        return check_init(value, label)
    if kind == "layers":
        layers = [value] if isinstance(value, str) else list(value)
        if not layers or not all(isinstance(layer, str) for layer in layers):
            raise OptionError(f"{label} needs at least one layer name")
        return tuple(layers)
    if kind == "floats":
        if isinstance(value, dict):  # by layer name: checked with the layers
            return {key: _number(v, "float", spec, f"{label}[{key!r}]")
                    for key, v in value.items()}
        return tuple(_number(v, "float", spec, label) for v in _as_list(value))
    if kind == "scales":
        if isinstance(value, str):
            if value.lower() == "none":
                return None
            if value != "auto":
                raise OptionError(f"{label} must be 'auto', None or rising sizes, not {value!r}")
            return value
        return tuple(check_number(v, label, whole=True, at_least=1) for v in _as_list(value))
    if kind == "images":
        return tuple(_as_list(value))
    return value  # image, path, text: checked where they are read


def _number(value, kind: str, spec: Spec, label: str):
    return check_number(value, label, whole=kind == "int", at_least=spec.at_least,
                        above=spec.above)


def check_init(value, label: str = "init"):
    """``value`` if it names a start (:data:`INITS`) or may be an image; else an error.

    A word without a file suffix that is not one of :data:`INITS` is a mistyped mode, not a
    file name; paths, URLs and arrays are checked where they are read.
    """
    if isinstance(value, str) and value not in INITS and not Path(value).suffix and (
            "://" not in value):
        raise OptionError(f"unknown {label} {value!r}; choose one of {', '.join(INITS)} or an "
                          "image")
    return value


def _check_layers(layers: list[str], backbone: str, label: str) -> None:
    try:
        backbones.check_layers(layers, backbone)
    except backbones.BackboneError as error:
        raise OptionError(f"{label}: {error}") from None


def _as_list(value) -> list:
    """One item or a sequence of them, as a list (a NumPy image counts as one item)."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def _recorded(value):
    if isinstance(value, tuple | list):
        return [_recorded(v) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if value is None or isinstance(value, str | int | float | bool | dict):
        return value
    return "<image>"  # an array or a PIL image: keep the inputs to repeat such a run


# ------------------------------------------------------------- building from arguments


def from_keywords(keywords: dict, *, who: str = "stylize") -> StylizeOptions:
    """:class:`StylizeOptions` from keyword arguments; an unknown name is a one-line error."""
    known = {f.name for f in fields(StylizeOptions)}
    for key in keywords:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise OptionError(f"{who}() has no option {key!r}{hint}")
    return StylizeOptions(**keywords)


def flag_of(f: dataclasses.Field) -> str:
    """The command-line flag of an option field (``--style-weight``)."""
    return _spec(f).flag or "--" + f.name.replace("_", "-")


def _layer_list(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def add_arguments(parser: argparse.ArgumentParser, *, defaults: dict | None = None,
                  exclude: Sequence[str] = (), table=None, group: str = "options") -> None:
    """Add a flag for every option of :class:`StylizeOptions` that the command offers.

    ``defaults`` overrides some defaults (the ``demo`` command runs smaller); values are
    converted here and checked by :meth:`StylizeOptions.validate`. ``table`` is another
    table of options built with :func:`option` (:class:`VideoOptions`), its flags under
    the heading ``group``.
    """
    defaults = defaults or {}
    table = table or StylizeOptions
    groups = {}
    for f in fields(table):
        spec = _spec(f)
        if f.name in exclude:
            continue
        heading = "run controls" if not spec.recorded else group
        if heading not in groups:
            groups[heading] = parser.add_argument_group(heading)
        flag, keywords = argument(f.name, defaults.get(f.name, f.default), table=table)
        groups[heading].add_argument(flag, **keywords)


def argument(name: str, default=dataclasses.MISSING, *, help: str | None = None,
             table=None) -> tuple[str, dict]:
    """``(flag, keywords)`` of ``parser.add_argument`` for the option ``name`` of ``table``
    (:class:`StylizeOptions` unless given).

    Other commands that take one of these options (``nstlab train-fast --precision``,
    ``nstlab fast --preserve-color``) add it with the same flag, choices and conversion;
    ``help`` replaces the help text where the option means a little less there.
    """
    f = {f.name: f for f in fields(table or StylizeOptions)}[name]
    spec = _spec(f)
    default = f.default if default is dataclasses.MISSING else default
    help_text = (help or spec.help) + ("" if default is None or spec.kind == "switch"
                                       else f" (default: {_shown(default)})")
    keywords = {"dest": f.name, "default": default, "help": help_text}
    metavar = spec.metavar or {"int": "N", "float": "X"}.get(spec.kind)
    if metavar:
        keywords["metavar"] = metavar
    if spec.kind == "switch":
        keywords.update(action="store_false" if f.default else "store_true")
        keywords.pop("metavar", None)
    elif spec.kind in ("int", "float"):
        keywords["type"] = parse_number(spec.kind)
    elif spec.kind == "choice":
        keywords["choices"] = spec.choices
    elif spec.kind == "layers":
        keywords["type"] = _layer_list
    elif spec.kind == "floats":
        keywords.update(type=parse_number("float"), nargs="+")
    elif spec.kind in ("images", "scales"):
        keywords["nargs"] = "+"
    return flag_of(f), keywords


def _shown(value) -> str:
    if isinstance(value, tuple | list):
        return ",".join(map(str, value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def from_namespace(namespace: argparse.Namespace) -> StylizeOptions:
    """The options a parsed command line gives (flags the parser lacks keep defaults)."""
    values = {}
    for f in fields(StylizeOptions):
        if hasattr(namespace, f.name):
            values[f.name] = getattr(namespace, f.name)
    scales = values.get("scales")
    if isinstance(scales, list):
        values["scales"] = scales[0] if len(scales) == 1 and not scales[0].isdigit() else [
            _parse_scale(text) for text in scales]
    return StylizeOptions(**values)


def _parse_scale(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise OptionError(f"--scales takes sizes in pixels, 'auto' or 'none', got {text!r}"
                          ) from None


# -------------------------------------------------------------------- documentation


def describe() -> str:
    """The options as a numpydoc "Parameters" section (for ``nstlab.stylize?``)."""
    lines = []
    for f in fields(StylizeOptions):
        spec = _spec(f)
        accepted = ", ".join(map(repr, spec.choices)) if spec.choices else spec.kind
        lines.append(f"{f.name} : {accepted}, default {f.default!r}")
        lines.append(f"    {spec.help[0].upper()}{spec.help[1:]}.")
    return "\n".join(lines)


def signature_parameters() -> list[inspect.Parameter]:
    """The options as keyword-only parameters with their defaults (for ``stylize``)."""
    return [inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default)
            for f in fields(StylizeOptions)]


# ------------------------------------------------------------------ the video options

METHODS = ("optimize", "fast")
VIDEO_ENGINES = ("in-process", "ray")


@dataclass(frozen=True)
class VideoOptions:
    """The options of ``nstlab video`` beyond a still's (:func:`nstlab.video.stylize_video`).

    A clip's frames are stylized with :class:`StylizeOptions` too; these say how the frames
    are tied together and where they run. Checked by :meth:`validate`.
    """

    method: str = option(
        "optimize", "optimize: each frame optimised from the previous one warped by the flow, "
                    "with Ruder et al.'s temporal loss; fast: a trained network (STYLE names "
                    "its model), blended along the flow", "choice", choices=METHODS)
    temporal_weight: float = option(
        1e8, "weight of Ruder et al.'s temporal loss (pixels in [0, 1]; the style loss of "
             "nstlab's convention is large, so is this; 0 leaves only the warped start)",
        "float", at_least=0)
    passes: int = option(
        1, "passes over the clip, alternately forwards and backwards (Ruder et al.'s "
           "multi-pass; later passes use a third of the steps each)", "int", at_least=1)
    blend: float = option(
        0.6, "--method fast: how much of the previous output, warped by the flow, each "
             "frame keeps where the flow is trusted (0: independent frames)", "float",
        at_least=0)
    fast_style: Any = option(
        None, "--method fast with a model of several paintings: the one to paint, or a mix "
              "such as starry_night=0.7,shipwreck=0.3 (default: the model's first)", "text",
        flag="--style", metavar="NAME[=W,...]")
    independent: bool = option(
        False, "stylize every frame on its own (no flow, no temporal loss, no blending): "
               "the flickering baseline", "switch")
    fps: float | None = option(
        None, "frame rate of a video OUT (default: IN's, or 24 for a folder)", "float",
        above=0, metavar="FPS")
    engine: str = option(
        "in-process", "in-process, or ray: overlapping chunks of the clip in parallel",
        "choice", choices=VIDEO_ENGINES, recorded=False)
    chunk_frames: int = option(
        24, "--engine ray: frames each chunk keeps", "int", at_least=1, recorded=False)
    overlap: int = option(
        12, "--engine ray: frames before each chunk that it stylizes too, to warm up; the "
            "two chunks' versions of them cross-fade, so the seam does not jump (longer "
            "spreads the change of strokes thinner: benchmarks/README.md)", "int",
        at_least=0, recorded=False)
    address: str | None = option(
        None, "--engine ray: HOST:PORT of a running cluster (default: a Ray of its own on "
              "127.0.0.1)", "text", recorded=False)

    def validate(self, *, flags: bool = False) -> VideoOptions:
        """The options checked (ranges, choices, how they combine); or an OptionError."""
        name = _namer(flags, VideoOptions)
        values = {f.name: _checked_value(f, getattr(self, f.name), name) for f in fields(self)}
        checked = dataclasses.replace(self, **values)
        if checked.blend >= 1:
            raise OptionError(f"{name('blend')} must be below 1, got {checked.blend}")
        if checked.fast_style is not None and checked.method != "fast":
            raise OptionError(f"{name('fast_style')} is for --method fast")
        if checked.method == "fast" and checked.passes > 1:
            raise OptionError(f"{name('passes')} is for --method optimize")
        if checked.engine == "ray" and checked.passes > 1:
            raise OptionError(f"{name('passes')} above 1 is for {name('engine')} in-process")
        if checked.address is not None and checked.engine != "ray":
            raise OptionError(f"{name('address')} needs {name('engine')} ray")
        return checked

    def settings(self) -> dict:
        """The recorded options (what changes the frames), as plain JSON values."""
        return {f.name: _recorded(getattr(self, f.name)) for f in fields(self)
                if _spec(f).recorded}


def video_from_namespace(namespace: argparse.Namespace) -> VideoOptions:
    """The :class:`VideoOptions` of a parsed command line."""
    return VideoOptions(**{f.name: getattr(namespace, f.name) for f in fields(VideoOptions)
                           if hasattr(namespace, f.name)})
