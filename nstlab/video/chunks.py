"""Long clips as overlapping chunks that run in parallel (on Ray, or one after another here).

The clip is cut into chunks of ``chunk_frames`` frames. A chunk also stylizes the
``overlap`` frames before its first one, to warm up: its chain of warped starts and temporal
losses begins there, from an independently stylized frame. Two chains that started apart
keep different brush strokes, so those overlap frames, made by both chunks, cross-fade from
the previous chunk's version to this chunk's (weights 1/(overlap+1), 2/(overlap+1), ...):
the change of strokes at the seam is spread over ``overlap + 1`` frames instead of one
jump. Chunk 0 needs no warm-up. A cross-fade adds the strokes' difference squared over
(overlap + 1)^2 to the warping error of each pair it spans, and the difference shrinks as
the new chain settles, so the default overlap is long (12 frames: the seams then flicker
about 1.1 times as much as the same frames of one chain; ``benchmarks/README.md``).

Each chunk is one task of an engine of :mod:`nstlab.batch.engines` (:class:`RayEngine`: a
local Ray on 127.0.0.1, or a cluster's address), with the frames it needs and the options as
plain values; the driver keeps each chunk's frames as it comes back, so a stopped run goes
on with the chunks not yet finished. On a cluster every worker needs the ``[video]`` extra,
and the frames travel through Ray's object store (``chunk_frames + overlap`` frames out,
``chunk_frames`` back per task).
"""

from __future__ import annotations

import time

import numpy as np

from nstlab.batch.engines import InProcessEngine, RayEngine
from nstlab.run import options
from nstlab.run.options import VideoOptions
from nstlab.video.flow import flow_and_mask
from nstlab.video.frames import write_frame
from nstlab.video.temporal import warping_errors
from nstlab.video.transfer import VideoResult, kept_pixels, stylize_video_with


def chunk_plan(frames: int, chunk_frames: int, overlap: int) -> list[tuple[int, int, int]]:
    """``(warm, first, end)`` per chunk: it runs frames ``warm .. end - 1``, keeps ``first ..``.

    >>> chunk_plan(10, 4, 2)
    [(0, 0, 4), (2, 4, 8), (6, 8, 10)]
    """
    return [(max(0, first - overlap), first, min(frames, first + chunk_frames))
            for first in range(0, frames, chunk_frames)]


def run_chunk(description: dict) -> dict:
    """One chunk, wherever the engine runs it: all its frames (warm-up first) as uint8.

    ``description`` holds plain values (Ray ships it): ``key``, ``label``, ``frames`` (the
    photo frames from ``warm``), ``keep_from``, ``styles``, ``options`` and ``video`` (the
    settings of each table) and ``threads``.
    """
    from nstlab.base import native_logs
    from nstlab.batch.worker import limit_threads

    native_logs.import_tensorflow(quiet=True)
    limit_threads(description.get("threads"))
    video = VideoOptions(**description["video"]).validate()
    still = options.from_keywords(description["options"])
    frames = [np.asarray(frame, np.float32) for frame in description["frames"]]
    styles = description["styles"]
    if video.method == "optimize":
        still = still.validate(frames[0], styles)
    result = stylize_video_with(still, video, frames, styles, progress=False)
    return {"key": description["key"], "status": "finished",
            "frames": [np.rint(frame * 255).astype(np.uint8) for frame in result.frames],
            "seconds": result.seconds}


def _description(still, video, clip, styles, warm, first, end, threads) -> dict:
    return {"key": f"frames {first + 1}-{end}", "label": f"frames {first + 1}-{end}",
            "frames": [np.asarray(frame, np.float32) for frame in clip[warm:end]],
            "styles": list(styles), "warm": warm, "first": first, "end": end,
            "options": still.settings(), "video": video.settings(), "threads": threads}


class ChunkFailed(RuntimeError):
    """A chunk's task failed (its message says why; the other chunks are kept)."""


def stylize_in_chunks(still, video: VideoOptions, clip: list, styles: list, *, store=None,
                      progress: bool = True, engine=None) -> VideoResult:
    """Stylize ``clip`` as overlapping chunks (:func:`chunk_plan`) on ``engine``.

    ``engine`` defaults to a :class:`~nstlab.batch.engines.RayEngine` (``video.address``,
    one CPU a chunk); an :class:`~nstlab.batch.engines.InProcessEngine` runs the same
    chunks one after another here, for comparison. Frames of chunks the ``store`` has kept
    are read back, not made again; when it has kept them all, the engine does not start.
    """
    from tqdm.auto import tqdm

    started = time.perf_counter()
    plan = chunk_plan(len(clip), video.chunk_frames, video.overlap)
    if engine is None:
        engine = RayEngine(video.address, cpus_per_job=1.0, runner=run_chunk)
    made_by = {}  # first frame of a chunk -> every frame it made, its warm-up first
    todo = []
    for warm, first, end in plan:
        if store is not None and store.chunk_done(first, end):
            made_by[first] = store.load_chunk(first, end - warm)
        else:
            todo.append((warm, first, end))
    bar = tqdm(total=len(clip), initial=len(clip) - sum(e - f for _, f, e in todo),
               desc="frames", unit="frame", disable=not progress)
    made = 0
    if todo:  # all kept: no engine (no Ray) to start
        with engine:
            threads = engine.threads() if isinstance(engine, RayEngine) else None
            descriptions = [_description(still, video, clip, styles, *chunk, threads)
                            for chunk in todo]
            for description, outcome in engine.outcomes(descriptions):
                if outcome.get("status") != "finished":
                    raise ChunkFailed(f"{description['label']}: {_message(outcome)}")
                frames = [kept_pixels(frame) for frame in outcome["frames"]]
                first, end = description["first"], description["end"]
                made_by[first] = frames
                made += end - first
                if store is not None:
                    store.save_chunk(first, end, frames)
                bar.update(end - first)
    kept = joined(plan, made_by)
    if store is not None:
        for index, frame in enumerate(kept):
            write_frame(frame, store.folder, index)
    bar.close()
    motion = [flow_and_mask(clip[i + 1], clip[i]) for i in range(len(clip) - 1)]
    settings = dict(still.settings(), **video.settings())
    result = VideoResult(kept, warping_errors(kept, motion), time.perf_counter() - started,
                         made, settings)
    if store is not None:
        store.complete({"warping_error": result.warping_error, "frames": len(kept)})
    return result


def joined(plan: list, made_by: dict) -> list[np.ndarray]:
    """The clip's frames from its chunks' (:func:`chunk_plan`), cross-faded over each overlap."""
    kept = []
    for warm, first, _ in plan:
        frames = made_by[first]
        overlap = first - warm
        for step in range(overlap):  # kept[warm + step] is the previous chunk's version
            weight = (step + 1) / (overlap + 1)
            kept[warm + step] = kept_pixels((1 - weight) * kept[warm + step]
                                            + weight * frames[step])
        kept += frames[overlap:]
    return kept


def seams(frames: int, chunk_frames: int) -> list[int]:
    """The pairs (index into the warping errors) that cross from one chunk to the next."""
    return [first - 1 for first in range(chunk_frames, frames, chunk_frames)]


def _message(outcome: dict) -> str:
    import json

    from nstlab.batch.results import ERROR_FILE

    record = outcome.get("files", {}).get(ERROR_FILE)
    if record is None:
        return "failed"
    return json.loads(record).get("message", "failed")


__all__ = ["ChunkFailed", "InProcessEngine", "chunk_plan", "joined", "run_chunk", "seams",
           "stylize_in_chunks"]
