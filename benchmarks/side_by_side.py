"""The look of nstlab's default settings next to the TensorFlow tutorial's loop after N steps.

Writes one PNG: content | reference (Adam, TF tutorial settings, N steps) | nstlab defaults,
and prints the losses and times of both on the same objective.

    python benchmarks/side_by_side.py --size 512 --reference-steps 1000 -o side_by_side.png
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--content", default=None)
    parser.add_argument("--style", default=None)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--reference-steps", type=int, default=1000)
    parser.add_argument("-o", "--output", default="side_by_side.png")
    args = parser.parse_args(argv)

    import numpy as np
    from convergence import default_style, reference_loop

    import nstlab
    from nstlab.imaging import data

    content = nstlab.load_image(args.content or data.photo_path(), max_size=args.size)
    if args.style:
        style = nstlab.load_image(args.style, max_size=args.size)
    else:
        style, _ = default_style(args.size)
    nstlab.seed_everything(0)
    objective, reference_loss, reference_seconds, reference = reference_loop(
        content, style, args.reference_steps, return_image=True)
    start = time.perf_counter()
    result = nstlab.stylize(content, style, size=args.size, progress=False)
    nstlab_seconds = time.perf_counter() - start
    nstlab_loss = float(objective(result.image[None])[0])
    nstlab.save_image(np.concatenate([content, reference, result.image], axis=1), args.output)
    print(f"reference ({args.reference_steps} Adam steps): loss {reference_loss:.4g} in "
          f"{reference_seconds:.0f} s")
    print(f"nstlab defaults ({len(result.history)} steps, scales {result.settings['scales']}): "
          f"loss {nstlab_loss:.4g} in {nstlab_seconds:.0f} s")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
