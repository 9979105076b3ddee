"""Fast style transfer against optimisation: time per image, loss, and training speed.

For each size this stylizes the same photo twice, with a trained fast-style network
(one forward pass, milliseconds per image: the median of ``--repeats`` calls after one
warm-up call) and with ``nstlab.stylize`` (its defaults: L-BFGS, 200 steps, seconds for
one run), and scores both results with the same ``Objective`` (content = the photo at that
size, style = the painting, nstlab's default layers and weights, float32). It also times
training steps (the compiled ``train_fast`` step) at ``--train-size`` px, batch
``--train-batch``.

    python benchmarks/fast.py --photo /work/shared/images/golden_gate.jpg
    python benchmarks/fast.py --json         # {"results": [...], "train_steps_per_second": ...}
    python benchmarks/fast.py --sizes 32 --stylize-steps 2 --repeats 1 --train-size 32 \\
        --train-batch 2 --train-steps 1      # a check that it runs, in seconds
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np


def fast_milliseconds(stylizer, photo: np.ndarray, repeats: int) -> tuple[float, np.ndarray]:
    """Median milliseconds of ``repeats`` calls (after a warm-up call), and the picture."""
    picture = stylizer(photo)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        picture = stylizer(photo)
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times)), picture


def compare(stylizer, photo_path, style, size: int, repeats: int, stylize_steps) -> dict:
    import nstlab

    photo = nstlab.load_image(photo_path, max_size=size)
    fast_ms, fast_picture = fast_milliseconds(stylizer, photo, repeats)
    start = time.perf_counter()
    result = nstlab.stylize(photo, style, size=size, steps=stylize_steps, progress=False)
    stylize_seconds = time.perf_counter() - start
    objective = nstlab.Objective(photo, nstlab.load_image(style, max_size=size))
    return {"size": size, "height": photo.shape[0], "width": photo.shape[1],
            "fast_ms": fast_ms, "stylize_seconds": stylize_seconds,
            "ratio": stylize_seconds / (fast_ms / 1000),
            "fast_loss": objective.evaluate(fast_picture)["total"],
            "stylize_loss": objective.evaluate(result.image)["total"]}


def train_steps_per_second(style, size: int, batch_size: int, steps: int, width: int,
                           residual_blocks: int) -> float:
    """Compiled training steps per second (after one warm-up step), one device."""
    import keras
    import tensorflow as tf

    from nstlab.engine.losses import Objective
    from nstlab.fast.network import build_transformer
    from nstlab.fast.photos import photo_batches
    from nstlab.fast.training import make_train_step

    strategy = tf.distribute.get_strategy()
    model = build_transformer(width, residual_blocks)
    objective = Objective(None, style, batch_content=True)
    optimizer = keras.optimizers.Adam(1e-3)
    step = make_train_step(model, objective, optimizer, strategy)
    batches = iter(photo_batches("samples", size, batch_size, seed=0))
    float(step(next(batches))[0])
    start = time.perf_counter()
    for _ in range(steps):
        float(step(next(batches))[0])
    return steps / (time.perf_counter() - start)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="starry_night", help="a .keras file or shipped name")
    parser.add_argument("--photo", default=None,
                        help="the photo (default: matplotlib's Grace Hopper sample)")
    parser.add_argument("--style", default=None,
                        help="the painting the model was trained for (default: Starry Night)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--stylize-steps", type=int, default=None,
                        help="stylize's steps (default: its own, 200 L-BFGS steps)")
    parser.add_argument("--train-size", type=int, default=256)
    parser.add_argument("--train-batch", type=int, default=4)
    parser.add_argument("--train-steps", type=int, default=10)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)

    from nstlab.base import native_logs

    native_logs.import_tensorflow()
    from nstlab.fast import FastStylizer
    from nstlab.imaging.data import painting_path, photo_path

    stylizer = FastStylizer.load(args.model)
    photo = args.photo or photo_path("grace_hopper")
    style = args.style or painting_path("starry_night")
    results = [compare(stylizer, photo, style, size, args.repeats, args.stylize_steps)
               for size in args.sizes]
    recipe = stylizer.recipe
    train_rate = train_steps_per_second(style, args.train_size, args.train_batch,
                                        args.train_steps, recipe.width, recipe.residual_blocks)
    report = {"results": results, "train_steps_per_second": train_rate,
              "train_size": args.train_size, "train_batch": args.train_batch,
              "model": args.model, "width": recipe.width, "photo": str(photo),
              "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
              "date": time.strftime("%Y-%m-%d")}
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"{'size':>6} {'fast ms':>9} {'stylize s':>10} {'ratio':>8} {'fast loss':>11} "
          f"{'stylize loss':>13}")
    for row in results:
        print(f"{row['size']:>6} {row['fast_ms']:>9.1f} {row['stylize_seconds']:>10.1f} "
              f"{row['ratio']:>8.0f} {row['fast_loss']:>11.4g} {row['stylize_loss']:>13.4g}")
    print(f"training: {train_rate:.2f} steps/s at {args.train_size} px, batch "
          f"{args.train_batch}, width {recipe.width}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
