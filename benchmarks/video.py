"""Video: flicker (warping error) and frames per minute, for both methods and both engines.

On the shipped test clip (:func:`nstlab.video.sample_clip`: a camera pan over Grace Hopper
with a ball crossing it) this stylizes ``--frames`` frames at ``--size`` px with Starry
Night, four ways in this process:

* optimisation, every frame on its own (``independent=True``) and with Ruder et al.'s
  warped start and temporal loss (the default);
* the shipped fast network, every frame on its own and blended along the flow;

and, with ``--ray``, the temporal optimisation as overlapping chunks on a local Ray
(``--chunk-frames``, ``--overlap``), against the same chunks in this process: frames per
minute; the mean and largest pixel difference between the two, and against one chain in
this process (what ``nstlab video`` without ``--engine ray`` makes); and the warping error at
the seams and over each seam's cross-fade, against the other pairs. ``--overlaps 3 6 12``
sweeps the overlap instead (the chunks in this process, each overlap against the one chain's
same pairs; ``--pan`` slows the camera so a longer clip fits the photo). Frames per minute
count the frames made by that call, after one warm-up run that builds the network, so they
are the steady rate of a long clip.

    python benchmarks/video.py --json
    python benchmarks/video.py --size 128 --frames 12 --steps 50 --ray
    python benchmarks/video.py --size 96 --frames 36 --pan 0.5 --steps 30 --chunk-frames 12 \
        --overlaps 3 6 12
    python benchmarks/video.py --size 32 --frames 3 --steps 2      # a check that it runs
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np


def stylized(clip, style, **keywords):
    """``nstlab.video.stylize_video`` of the clip, without a progress bar."""
    from nstlab.video.transfer import stylize_video

    return stylize_video(clip, style, progress=False, **keywords)


def summary(result) -> dict:
    return {"warping_error": result.warping_error, "frames_per_minute": result.frames_per_minute,
            "seconds": result.seconds}


def run(clip, style, **keywords) -> dict:
    return summary(stylized(clip, style, **keywords))


def chunk_options(clip, style, size: int, steps: int, chunk_frames: int, overlap: int):
    """The checked still and video options of the clip's run in chunks."""
    from nstlab.video.transfer import split_options

    still, video = split_options({"size": size, "steps": steps, "engine": "ray",
                                  "chunk_frames": chunk_frames, "overlap": overlap})
    return still.validate(clip[0], [style]), video.validate()


def chunked(clip, style, size: int, steps: int, chunk_frames: int, overlap: int,
            one_chain) -> dict:
    """The chunks here and on Ray, against each other and against ``one_chain`` (the clip's
    temporal stylization in one chain, with the same size and steps)."""
    from nstlab.batch.engines import InProcessEngine
    from nstlab.video.chunks import run_chunk, stylize_in_chunks

    still, video = chunk_options(clip, style, size, steps, chunk_frames, overlap)
    here = stylize_in_chunks(still, video, clip, [style], progress=False,
                             engine=InProcessEngine(run_chunk))
    started = time.perf_counter()
    on_ray = stylize_in_chunks(still, video, clip, [style], progress=False)
    seconds = time.perf_counter() - started  # with Ray's start and its workers' imports
    errors = np.array(on_ray.warping_errors)
    seam, spread = seam_pairs(len(clip), chunk_frames, overlap)
    others = np.delete(errors, spread)

    def differences(a, b) -> dict:
        gaps = np.abs(np.stack(a) - np.stack(b))
        return {"mean": float(gaps.mean()), "max": float(gaps.max())}

    return {"chunks_in_process_frames_per_minute": here.frames_per_minute,
            "ray_frames_per_minute": 60 * len(clip) / seconds,
            "ray_against_chunks_in_process": differences(here.frames, on_ray.frames),
            "ray_against_one_chain": differences(one_chain.frames, on_ray.frames),
            "warping_error": on_ray.warping_error,
            "seam_warping_error_max": float(errors[seam].max()) if seam else None,
            "cross_fade_warping_error_mean": float(errors[spread].mean()) if seam else None,
            "other_warping_error_mean": float(others.mean()) if others.size else None,
            "other_warping_error_max": float(others.max()) if others.size else None}


def seam_pairs(frames: int, chunk_frames: int, overlap: int) -> tuple[list, list]:
    """The pairs into each new chunk, and the pairs each seam's cross-fade spreads over
    (from the frame before the overlap on)."""
    from nstlab.video.chunks import seams

    seam = seams(frames, chunk_frames)
    spread = sorted({pair for last in seam for pair in range(max(0, last - overlap), last + 1)})
    return seam, spread


def overlap_sweep(clip, style, size: int, steps: int, chunk_frames: int, overlaps,
                  one_chain) -> list[dict]:
    """For each overlap, the chunks in this process: the warping error at the seams and over
    their cross-fades, against the other pairs and against the same pairs of ``one_chain``,
    and the frames stylized per frame kept (the overlap's cost)."""
    from nstlab.batch.engines import InProcessEngine
    from nstlab.video.chunks import chunk_plan, run_chunk, stylize_in_chunks

    chain = np.array(one_chain.warping_errors)
    rows = []
    for overlap in overlaps:
        still, video = chunk_options(clip, style, size, steps, chunk_frames, overlap)
        result = stylize_in_chunks(still, video, clip, [style], progress=False,
                                   engine=InProcessEngine(run_chunk))
        errors = np.array(result.warping_errors)
        seam, spread = seam_pairs(len(clip), chunk_frames, overlap)
        others = np.delete(errors, spread)
        made = sum(end - warm for warm, _, end in chunk_plan(len(clip), chunk_frames, overlap))
        rows.append({"overlap": overlap, "frames_made_per_frame": made / len(clip),
                     "seam_max": float(errors[seam].max()),
                     "cross_fade_mean": float(errors[spread].mean()),
                     "cross_fade_max": float(errors[spread].max()),
                     "one_chain_same_pairs_mean": float(chain[spread].mean()),
                     "one_chain_same_pairs_max": float(chain[spread].max()),
                     "other_mean": float(others.mean()) if others.size else None,
                     "other_max": float(others.max()) if others.size else None,
                     "warping_error": result.warping_error})
    return rows


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--blend", type=float, default=0.6)
    parser.add_argument("--ray", action="store_true", help="also the chunks on a local Ray")
    parser.add_argument("--chunk-frames", type=int, default=4)
    parser.add_argument("--overlap", type=int, default=3)
    parser.add_argument("--overlaps", type=int, nargs="+", default=None,
                        help="sweep these overlaps (chunks in this process) instead of --ray")
    parser.add_argument("--pan", type=float, default=1.5,
                        help="camera pan per frame, px (smaller: a longer clip fits)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    from nstlab.base import native_logs

    native_logs.import_tensorflow(quiet=True)
    from nstlab.base.hardware import describe_machine
    from nstlab.imaging.data import painting_path
    from nstlab.video.clip import sample_clip

    clip = list(sample_clip(frames=args.frames, size=args.size, pan=args.pan))
    style = str(painting_path("starry_night"))
    common = {"size": args.size, "steps": args.steps}
    run(clip[:2], style, **common)  # warm up: the network and the compiled step
    run(clip[:2], "starry_night", method="fast", size=args.size)
    independent = run(clip, style, independent=True, **common)
    temporal = stylized(clip, style, **common)  # the one chain the chunks are held against
    results = {
        "optimize_independent": independent,
        "optimize_temporal": summary(temporal),
        "fast_independent": run(clip, "starry_night", method="fast", independent=True,
                                size=args.size),
        "fast_blended": run(clip, "starry_night", method="fast", blend=args.blend,
                            size=args.size),
    }
    for method in ("optimize", "fast"):
        second = "temporal" if method == "optimize" else "blended"
        results[f"{method}_flicker_ratio"] = (results[f"{method}_independent"]["warping_error"]
                                              / results[f"{method}_{second}"]["warping_error"])
    if args.overlaps:
        results["overlaps"] = overlap_sweep(clip, style, args.size, args.steps,
                                            args.chunk_frames, args.overlaps, temporal)
    elif args.ray:
        results["ray"] = chunked(clip, style, args.size, args.steps, args.chunk_frames,
                                 args.overlap, temporal)
    record = {"machine": describe_machine(),
              "load_average": os.getloadavg()[0],
              "size": args.size, "frames": args.frames, "steps": args.steps, "pan": args.pan,
              **results}
    if args.json:
        print(json.dumps(record))
    else:
        for name, value in record.items():
            print(f"{name:28s} {value}")
    return record


if __name__ == "__main__":
    main()
