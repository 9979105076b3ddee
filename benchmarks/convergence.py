"""Seconds to a good image: nstlab's default against the TensorFlow tutorial's loop.

Both minimise the same objective (nstlab's losses and default weights). The reference is
written the way the TensorFlow tutorial (tensorflow/docs, style_transfer.ipynb) writes its
loop: Adam(learning_rate=0.02, beta_1=0.99, epsilon=0.1), a ``tf.function`` train step,
clip to [0, 1], start from the content image. Its loss after ``--reference-steps`` steps is
the target; then nstlab's default (``nstlab.stylize`` settings) runs until it reaches that
loss. Both times start from the two images in memory and include everything after that:
building the network, computing the targets, compiling the step, optimising.

    python benchmarks/convergence.py --size 256 --reference-steps 300
    python benchmarks/convergence.py --json --content photo.jpg --style painting.jpg
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from nstlab.backbones import PRECISION_CHOICES


def reference_loop(content, style, steps: int, return_image: bool = False):
    """The TensorFlow tutorial's optimisation of nstlab's default objective.

    Returns (objective, loss, seconds), plus the final image with ``return_image=True``.
    """
    import tensorflow as tf

    import nstlab

    start = time.perf_counter()
    objective = nstlab.Objective(content, style)
    image = tf.Variable(content[None])
    optimizer = tf.keras.optimizers.Adam(learning_rate=0.02, beta_1=0.99, epsilon=1e-1)

    @tf.function()
    def train_step(image):
        with tf.GradientTape() as tape:
            loss, _ = objective(image)
        grad = tape.gradient(loss, image)
        optimizer.apply_gradients([(grad, image)])
        image.assign(tf.clip_by_value(image, 0.0, 1.0))

    for _ in range(steps):
        train_step(image)
    final_loss = float(objective(image)[0])
    seconds = time.perf_counter() - start
    if return_image:
        return objective, final_loss, seconds, image.numpy()[0]
    return objective, final_loss, seconds


def nstlab_until(content, style, target: float, size: int, max_steps=None, scales="auto",
                 coarse_steps=None, precision="float32"):
    """nstlab's defaults, stopped when the loss reaches ``target``.

    Returns (step at which it reached the target or None, seconds, result). ``max_steps``
    None keeps stylize's default step count (which also sets the coarse scales' share).
    """
    import nstlab

    reached = []
    final_size = nstlab.load_image(content, max_size=size).shape[:2]

    def stop_at_target(info):
        # Losses of coarser scales are not comparable: only the final size counts.
        if info.size == final_size and info.total <= target:
            reached.append(info.step)
            return True
        return False

    start = time.perf_counter()
    result = nstlab.stylize(content, style, size=size, steps=max_steps, scales=scales,
                            coarse_steps=coarse_steps, precision=precision, progress=False,
                            callbacks=[stop_at_target])
    seconds = time.perf_counter() - start
    return (reached[0] if reached else None), seconds, result


def default_style(size: int):
    """Starry Night from the cache, seeded from ../shared/images if needed; else a generated one."""
    from pathlib import Path

    import nstlab
    from nstlab import data

    shared = Path(__file__).resolve().parents[2] / "shared" / "images"
    try:
        return nstlab.load_image(data.fetch_painting("starry_night"), max_size=size), "starry_night"
    except data.DataUnavailableError:
        if shared.is_dir() and data.seed_cache_from(shared):
            return default_style(size)
        return data.generated_style("swirl", size), "swirl (generated; Starry Night unavailable)"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--content", default=None, help="content image (default: grace_hopper)")
    parser.add_argument("--style", default=None, help="style image (default: starry_night)")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--reference-steps", type=int, default=300)
    parser.add_argument("--max-steps", type=int, default=None,
                        help="nstlab's step budget (default: stylize's default)")
    parser.add_argument("--single-scale", action="store_true",
                        help="no coarse-to-fine for nstlab (default: stylize's 'auto')")
    parser.add_argument("--coarse-steps", type=int, default=None,
                        help="nstlab's steps at each coarser scale (default: stylize's)")
    parser.add_argument("--reference-from", default=None, metavar="FILE.json",
                        help="reuse the target and reference time of an earlier --json run "
                             "(same images and size) to compare nstlab settings quickly")
    parser.add_argument("--save", default=None, metavar="PREFIX",
                        help="save both images as PREFIX_reference.png / PREFIX_nstlab.png")
    parser.add_argument("--precision", default="float32", choices=PRECISION_CHOICES,
                        help="nstlab's network precision; the target and nstlab_loss are "
                             "float32 losses either way")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    import nstlab
    from nstlab import data

    content = nstlab.load_image(args.content or data.photo_path(), max_size=args.size)
    if args.style:
        style, style_name = nstlab.load_image(args.style, max_size=args.size), args.style
    else:
        style, style_name = default_style(args.size)
    nstlab.seed_everything(0)
    scales = None if args.single_scale else "auto"
    reference_image, objective = None, None
    if args.reference_from:
        with open(args.reference_from) as file:
            earlier = json.load(file)
        target, reference_seconds = earlier["target_loss"], earlier["reference_seconds"]
        args.reference_steps = earlier["reference_steps"]
    else:
        objective, target, reference_seconds, reference_image = reference_loop(
            content, style, args.reference_steps, return_image=True)
    steps, nstlab_seconds, result = nstlab_until(content, style, target, args.size,
                                                 args.max_steps, scales, args.coarse_steps,
                                                 args.precision)
    # Score nstlab's image with the reference's float32 objective, whatever its precision.
    objective = objective or nstlab.Objective(content, style)
    nstlab_loss = float(objective(result.image[None])[0])
    summary = {
        "size": list(content.shape[:2]), "style": style_name,
        "reference_steps": args.reference_steps,
        "nstlab_scales": nstlab.transfer.scale_schedule(args.size, scales),
        "nstlab_coarse_steps": result.settings.get("coarse_steps"),
        "target_loss": target, "reference_seconds": reference_seconds,
        "nstlab_precision": result.settings["precision"], "nstlab_loss": nstlab_loss,
        "nstlab_steps": steps, "nstlab_seconds": nstlab_seconds,
        "nstlab_reached_target": steps is not None,
        "speedup": reference_seconds / nstlab_seconds if steps is not None else None,
    }
    if args.save:
        result.save(f"{args.save}_nstlab.png")
        if reference_image is not None:
            nstlab.save_image(reference_image, f"{args.save}_reference.png")
    if args.json:
        print(json.dumps(summary))
    else:
        for key, value in summary.items():
            print(f"{key:22s} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
