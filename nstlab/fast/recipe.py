"""The options of a fast-style training run: defaults, checks and the recorded recipe.

TensorFlow-free, so ``nstlab train-fast`` checks everything before TensorFlow starts. The
loss weights and layers are :mod:`nstlab.run.options`' (the same :class:`nstlab.Objective`);
what is new here is the network's size and the training schedule.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from nstlab.base.validators import OptionError, check_choice, check_count, check_number
from nstlab.engine import backbones
from nstlab.engine.defaults import DEFAULT_CONTENT_WEIGHT, DEFAULT_STYLE_WEIGHT, DEFAULT_TV_WEIGHT

DEFAULT_STEPS = 1000
CHECKPOINT_EVERY = 100  # steps between two saves of the model file

#: How training is spread over devices (:func:`nstlab.fast.strategy.make_strategy`).
STRATEGIES = ("default", "mirrored", "multi-worker")

#: Models that ship with nstlab, by name: the file inside ``nstlab/fast/models``
#: (``three_paintings`` is one network for all three paintings: ``style=`` picks one).
SHIPPED_MODELS = {"starry_night": "starry_night.keras", "shipwreck": "shipwreck.keras",
                  "woman_with_hat": "woman_with_hat.keras",
                  "three_paintings": "three_paintings.keras"}
MODELS_DIR = Path(__file__).parent / "models"

#: The content layer of Johnson et al. (relu2_2, Keras's ``block2_conv2``): a shallow layer
#: ties the network's picture to the photo's edges and shading, so faces, buildings and skies
#: stay (``benchmarks/fast_recipes.py`` measured it against deeper layers).
FAST_CONTENT_LAYERS = ("block2_conv2",)
#: What models trained before the recipe recorded its content layers used (the still
#: default, :data:`nstlab.engine.defaults.DEFAULT_CONTENT_LAYERS`).
UNRECORDED_CONTENT_LAYERS = ("block4_conv2",)

#: The loss weights a multi-style network may set painting by painting (one number serves
#: them all; a tuple gives one per painting, in the order of the paintings).
PER_STYLE_WEIGHTS = ("content_weight", "style_weight", "luminance_weight")

#: What a model file says it is (its record's ``format``) and the record's version.
MODEL_FORMAT = "nstlab-fast-style"
MODEL_VERSION = 1


class PhotoError(OptionError):
    """The training photos cannot be used (no folder, no images in it)."""


class ModelFileError(OptionError):
    """A model file that cannot be used: missing, damaged, not nstlab's, another backbone."""


@dataclass(frozen=True)
class Recipe:
    """How a fast-style network is trained; recorded in its model file.

    Parameters
    ----------
    size : int
        Crop side in pixels (the photos are cut into random square crops of this size).
    batch_size : int
        Crops per step (over all devices).
    width : int
        Channels of the network's first convolution (Johnson et al. use 32); the next
        layers have 2x and 4x as many. Compute grows with its square.
    residual_blocks : int
        Residual blocks at the lowest resolution (Johnson et al.: 5).
    learning_rate : float
        Adam's step size (Johnson et al.: 1e-3).
    style_size : int
        The style image's longest side when its Gram matrices are computed; the brush
        strokes the network learns have the size they have in the painting at this size.
    content_weight, style_weight, tv_weight : float
        As in :class:`nstlab.Objective` (defaults: :mod:`nstlab.run.options`); for a batch each
        part is the mean over its images. For a network of several paintings,
        ``content_weight`` and ``style_weight`` may be a tuple with one weight per painting
        (one balance of content and style need not suit every painting; see
        :meth:`loss_weights`).
    luminance_weight : float
        The weight of :func:`nstlab.engine.losses.luminance_loss`, which keeps the photo's
        light and dark at a coarse scale (default 0: none); one per painting, or one for all,
        as the content weight. ``three_paintings`` retuned its Shipwreck with it
        (``nstlab/fast/models/README.md``).
    content_layers : tuple of str
        The layers of the content loss (default :data:`FAST_CONTENT_LAYERS`, Johnson et al.'s
        ``block2_conv2``, not the still default ``block4_conv2``: with the deeper layer a
        network learns to repaint the layout too, and skies and faces dissolve).
    backbone : str
        The loss network (``"vgg16"`` offline, ``"vgg19"`` downloaded once).
    seed : int
        Seeds the network's initial weights and the crops.
    """

    size: int = 128
    batch_size: int = 4
    width: int = 16
    residual_blocks: int = 5
    learning_rate: float = 1e-3
    style_size: int = 256
    content_weight: float | tuple[float, ...] = DEFAULT_CONTENT_WEIGHT
    style_weight: float | tuple[float, ...] = DEFAULT_STYLE_WEIGHT
    tv_weight: float = DEFAULT_TV_WEIGHT
    luminance_weight: float | tuple[float, ...] = 0.0
    content_layers: tuple[str, ...] = FAST_CONTENT_LAYERS
    backbone: str = "vgg16"
    seed: int = 0

    def checked(self) -> Recipe:
        """This recipe with every value checked (and whole numbers as ``int``)."""
        whole = {name: check_number(getattr(self, name), name, whole=True, at_least=1)
                 for name in ("size", "batch_size", "width", "style_size")}
        whole["residual_blocks"] = check_number(self.residual_blocks, "residual_blocks",
                                                whole=True, at_least=0)
        whole["seed"] = check_number(self.seed, "seed", whole=True)
        numbers = {name: _loss_weight(getattr(self, name), name) for name in PER_STYLE_WEIGHTS}
        numbers["tv_weight"] = check_number(self.tv_weight, "tv_weight", at_least=0)
        numbers["learning_rate"] = check_number(self.learning_rate, "learning_rate", above=0)
        check_choice(self.backbone, backbones.BACKBONES, "backbone")
        layers = tuple(backbones.check_layers(self.content_layers, self.backbone))
        if not layers:
            raise OptionError("content_layers: give at least one layer")
        smallest = backbones.min_input_size("block5_conv1")
        if whole["size"] < smallest:
            raise OptionError(f"size must be at least {smallest} px (the loss network's "
                              f"deepest style layer needs it), got {whole['size']}")
        return Recipe(**{**asdict(self), **whole, **numbers, "content_layers": layers})

    def to_dict(self) -> dict:
        return asdict(self)

    def loss_weights(self, paintings: int, *, flags: bool = False) -> list[dict]:
        """The loss weights of each of ``paintings`` paintings, in their order.

        Each item holds :data:`PER_STYLE_WEIGHTS` as :class:`nstlab.Objective` takes them: a
        number serves every painting, a tuple gives each its own and must have one weight
        per painting (:class:`OptionError` otherwise, naming the option, or its command-line
        flag with ``flags``).

        >>> Recipe(content_weight=(2e4, 2.5e4)).loss_weights(2)[1]["content_weight"]
        25000.0
        """
        checked = self.checked()
        weights = [{} for _ in range(paintings)]
        for name in PER_STYLE_WEIGHTS:
            value = getattr(checked, name)
            if isinstance(value, tuple):
                check_count(value, paintings, "weights", f"{paintings} painting(s)",
                            label(name, flags))
            for index, each in enumerate(weights):
                each[name] = value[index] if isinstance(value, tuple) else value
        return weights

    def adding(self, kept: int, added: int, weights: dict, *, flags: bool = False) -> Recipe:
        """This recipe (of a network of ``kept`` paintings) for that network with ``added``
        more: every field as it is, the loss weights one per painting, the new paintings'
        from ``weights`` (a number, or one per new painting), else the first painting's."""
        old = self.loss_weights(kept)
        widened = self._one_weight_each(old + [old[0]] * added)
        return widened.retuning(kept + added, tuple(range(kept, kept + added)), weights,
                                flags=flags)

    def retuning(self, styles: int, learning: tuple[int, ...], weights: dict, *,
                 flags: bool = False) -> Recipe:
        """This recipe (of a network of ``styles`` paintings) with the styles at the indices
        ``learning`` retuned: the loss weights one per painting, those styles' from
        ``weights`` (a number, or one per retuned style, in the order of ``learning``), every
        other as it was."""
        each = self.loss_weights(styles)
        given = Recipe(**{**asdict(self), **{name: weights.get(name, tuple(
            each[index][name] for index in learning)) for name in PER_STYLE_WEIGHTS}})
        for index, new in zip(learning, given.loss_weights(len(learning), flags=flags),
                              strict=True):
            each[index] = new
        return self._one_weight_each(each)

    def _one_weight_each(self, weights: list[dict]) -> Recipe:
        """This recipe with the loss weights ``weights`` (one dict per painting, as
        :meth:`loss_weights` gives them), checked."""
        each = {name: tuple(weight[name] for weight in weights) for name in PER_STYLE_WEIGHTS}
        return Recipe(**{**asdict(self), **each}).checked()

    def differing(self, given: dict) -> list[str]:
        """The names in ``given`` whose value, checked as this recipe's are, is not this
        recipe's (``--resume`` keeps a recipe: ``"block2_conv2"`` and ``("block2_conv2",)``
        are the same layers, ``width=8`` against 16 is not)."""
        wanted, mine = Recipe(**{**asdict(self), **given}).checked(), self.checked()
        return [name for name in given if getattr(wanted, name) != getattr(mine, name)]

    @classmethod
    def from_dict(cls, data: dict) -> Recipe:
        """The recipe recorded in a model file (unknown keys from newer versions ignored).

        A record without ``content_layers`` was trained before they were recorded, with
        :data:`UNRECORDED_CONTENT_LAYERS`.
        """
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        known["content_layers"] = tuple(data.get("content_layers", UNRECORDED_CONTENT_LAYERS))
        return cls(**known)


def label(name: str, flags: bool = False) -> str:
    """How a message names the option ``name``: itself, or (``flags``) the command's flag
    (``content_weight``, ``--content-weight``)."""
    return f"--{name.replace('_', '-')}" if flags else name


def _loss_weight(value, name: str) -> float | tuple[float, ...]:
    """A loss weight checked: a number >= 0, or a tuple of them (a list or tuple of one is
    that number, so a one-painting recipe records a number)."""
    if not isinstance(value, list | tuple):
        return check_number(value, name, at_least=0)
    if not value:
        raise OptionError(f"{name}: give a weight, or one per painting")
    numbers = tuple(check_number(each, name, at_least=0) for each in value)
    return numbers[0] if len(numbers) == 1 else numbers


def check_steps(steps) -> int:
    """``steps`` as a whole number >= 1, else :class:`OptionError`."""
    return check_number(steps, "steps", whole=True, at_least=1)


def check_strategy(name) -> str:
    """``name`` if it is one of :data:`STRATEGIES`, else :class:`OptionError`."""
    return check_choice(name, STRATEGIES, "strategy")


def model_path(model) -> Path:
    """The file of a model given as a path or a shipped name (:data:`SHIPPED_MODELS`).

    Raises :class:`ModelFileError` when it is neither an existing file nor a shipped name.
    """
    if isinstance(model, str) and model in SHIPPED_MODELS:
        return MODELS_DIR / SHIPPED_MODELS[model]
    path = Path(model)
    if path.is_file():
        return path
    shipped = ", ".join(SHIPPED_MODELS)
    if path.is_dir():
        raise ModelFileError(f"model '{path}' is a folder, not a model file")
    raise ModelFileError(f"model '{model}' not found: give a .keras file or a shipped model "
                         f"({shipped})")
