"""Seconds to a good image: nstlab's default against the TensorFlow tutorial's loop.

Both minimise the same objective (nstlab's losses and default weights). The reference is
written the way the TensorFlow tutorial (tensorflow/docs, style_transfer.ipynb) writes its
loop: Adam(learning_rate=0.02, beta_1=0.99, epsilon=0.1), a ``tf.function`` train step,
clip to [0, 1], start from the content image. Its loss after ``--reference-steps`` steps is
the target; then nstlab's default (``nstlab.stylize`` settings) runs until it reaches that
loss. Each side runs in its own fresh Python process, and its time starts from the two
images in memory and includes everything after that: building the network, computing the
targets, compiling the step (TensorFlow's first trace included), optimising.

    python benchmarks/convergence.py --size 256 --reference-steps 300
    python benchmarks/convergence.py --json --content photo.jpg --style painting.jpg
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from nstlab.engine.precision import PRECISION_CHOICES


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
                 coarse_steps=None, precision="auto"):
    """nstlab's defaults, stopped when the image's float32 loss reaches ``target``.

    Returns (step at which it reached the target or None, seconds, result, the result's
    loss scored with the reference's float32 objective). ``max_steps`` None keeps
    stylize's default step count (which also sets the coarse scales' share).

    In 16-bit precision the run's own loss is slightly off, so once it reaches the target
    the image is scored with that float32 objective, and the run stops only if that score
    is at or below the target too. The objective is built once, when first needed; building
    and scoring are left out of the time: a user would not run them.
    """
    import nstlab

    reached = []
    final_size = nstlab.load_image(content, max_size=size).shape[:2]
    precision = nstlab.engine.precision.resolve_precision(precision)
    scoring = {"seconds": 0.0, "objective": None}

    def float32_loss(image) -> float:
        begin = time.perf_counter()
        if scoring["objective"] is None:
            scoring["objective"] = nstlab.Objective(content, style, precision="float32")
        loss = float(scoring["objective"](image[None])[0])
        scoring["seconds"] += time.perf_counter() - begin
        return loss

    def stop_at_target(info):
        # Losses of coarser scales are not comparable: only the final size counts.
        if info.size != final_size or info.total > target:
            return False
        if precision != "float32" and float32_loss(info.image) > target:
            return False
        reached.append(info.step)
        return True

    start = time.perf_counter()
    result = nstlab.stylize(content, style, size=size, steps=max_steps, scales=scales,
                            coarse_steps=coarse_steps, precision=precision, progress=False,
                            callbacks=[stop_at_target])
    seconds = time.perf_counter() - start - scoring["seconds"]
    return (reached[0] if reached else None), seconds, result, float32_loss(result.image)


def default_style(size: int):
    """Starry Night, shipped with nstlab: returns (image, name)."""
    from nstlab.imaging.data import load_sample

    return load_sample("starry_night", max_size=size), "starry_night"


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
    parser.add_argument("--precision", default="auto", choices=PRECISION_CHOICES,
                        help="nstlab's network precision (default: stylize's, auto); the "
                             "target and nstlab_loss are float32 losses either way")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", choices=("reference", "nstlab"), help=argparse.SUPPRESS)
    parser.add_argument("--target", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.child:
        print(json.dumps(run_side(args)))
        return 0

    argv = sys.argv[1:] if argv is None else list(argv)
    if args.reference_from:
        with open(args.reference_from) as file:
            reference = json.load(file)
    else:
        reference = run_child(argv, "reference")
    nstlab_side = run_child(argv, "nstlab", reference["target_loss"])
    reached = nstlab_side["nstlab_steps"] is not None
    summary = {
        "size": nstlab_side["size"], "style": nstlab_side["style"],
        "reference_steps": reference["reference_steps"],
        "nstlab_scales": nstlab_side["nstlab_scales"],
        "nstlab_coarse_steps": nstlab_side["nstlab_coarse_steps"],
        "target_loss": reference["target_loss"],
        "reference_seconds": reference["reference_seconds"],
        "nstlab_precision": nstlab_side["nstlab_precision"],
        "nstlab_loss": nstlab_side["nstlab_loss"],
        "nstlab_steps": nstlab_side["nstlab_steps"],
        "nstlab_seconds": nstlab_side["nstlab_seconds"],
        "nstlab_reached_target": reached,
        "speedup": (reference["reference_seconds"] / nstlab_side["nstlab_seconds"]
                    if reached else None),
    }
    if args.json:
        print(json.dumps(summary))
    else:
        for key, value in summary.items():
            print(f"{key:22s} {value}")
    return 0


def run_child(argv: list[str], side: str, target: float | None = None) -> dict:
    """One side of the comparison in a fresh Python process, so each pays its own cold start
    (TensorFlow's first trace, oneDNN's kernels for these shapes) and neither inherits the
    other's."""
    command = [sys.executable, __file__, *argv, "--child", side]
    if target is not None:
        command += ["--target", repr(target)]
    finished = subprocess.run(command, capture_output=True, text=True)
    if finished.returncode != 0:
        sys.stderr.write(finished.stderr)
        raise SystemExit(f"convergence.py: the {side} run failed (its output is above)")
    return json.loads(finished.stdout.strip().splitlines()[-1])


def run_side(args) -> dict:
    """The reference (its target and time) or nstlab (its time to ``args.target``)."""
    import nstlab
    from nstlab.imaging import data

    content = nstlab.load_image(args.content or data.photo_path(), max_size=args.size)
    if args.style:
        style, style_name = nstlab.load_image(args.style, max_size=args.size), args.style
    else:
        style, style_name = default_style(args.size)
    nstlab.seed_everything(0)
    if args.child == "reference":
        _, target, seconds, image = reference_loop(content, style, args.reference_steps,
                                                   return_image=True)
        if args.save:
            nstlab.save_image(image, f"{args.save}_reference.png")
        return {"reference_steps": args.reference_steps, "target_loss": target,
                "reference_seconds": seconds}
    scales = None if args.single_scale else "auto"
    steps, seconds, result, loss = nstlab_until(content, style, args.target, args.size,
                                                args.max_steps, scales, args.coarse_steps,
                                                args.precision)
    if args.save:
        result.save(f"{args.save}_nstlab.png")
    return {"size": list(content.shape[:2]), "style": style_name,
            "nstlab_scales": nstlab.run.transfer.scale_schedule(args.size, scales),
            "nstlab_coarse_steps": result.settings.get("coarse_steps"),
            "nstlab_precision": result.settings["precision"], "nstlab_loss": loss,
            "nstlab_steps": steps, "nstlab_seconds": seconds}


if __name__ == "__main__":
    sys.exit(main())
