"""``stylize_video``: a clip stylized frame after frame, each tied to the one before.

With ``method="optimize"`` (the default) frame 0 is stylized like a still; every later frame
starts from the previous stylized frame warped by the optical flow and minimises the
objective of :func:`nstlab.stylize` plus Ruder et al.'s temporal loss
(:class:`~nstlab.video.temporal.TemporalObjective`), counted where the occlusion mask
trusts the flow. ``passes > 1`` then goes over the clip again, backwards and forwards in
turn: each frame starts from a mix of itself and its neighbour warped into its place (half
each, where the flow is trusted) and is optimised a third as long towards that neighbour,
so that the frames' agreement spreads both ways (Ruder et al.'s multi-pass algorithm).

With ``method="fast"`` a trained network (:class:`nstlab.fast.FastStylizer`) stylizes each
frame in one pass, and each output keeps ``blend`` of the previous output warped by the
flow where the flow is trusted: an exponential smoothing along the motion.

Every finished frame can be kept in a :class:`~nstlab.video.store.FrameStore`, and a run
given the same store goes on from its last finished frame. A frame is kept as 8-bit pixels,
and the next frame starts from those kept pixels, so a resumed run makes the frames an
uninterrupted one makes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields

import numpy as np

from nstlab.base.validators import OptionError
from nstlab.engine.optimize import STOP_INTERRUPTED, STOP_NON_FINITE
from nstlab.imaging.images import load_image, resize_image, to_uint8
from nstlab.run import options
from nstlab.run.options import StylizeOptions, VideoOptions
from nstlab.video.flow import flow_and_mask, warp
from nstlab.video.temporal import warping_errors

#: In the multi-pass algorithm, how much of the neighbour a frame starts from (Ruder's delta).
PASS_BLEND = 0.5
#: Later passes take this fraction of the steps.
PASS_STEP_FRACTION = 3


class FrameFailed(RuntimeError):
    """A frame's optimisation ended with a non-finite loss (the frames before are kept)."""


@dataclass
class VideoResult:
    """What :func:`stylize_video` ends with.

    Attributes
    ----------
    frames : list of np.ndarray
        The stylized frames, (H, W, 3) float32 in [0, 1].
    warping_errors : list of float
        The warping error of each pair of consecutive frames (:mod:`nstlab.video.temporal`).
    seconds : float
        Wall time of this call (frames found finished in the store took none).
    made : int
        Frames stylized by this call (the others were found finished).
    settings : dict
        The options that decide the frames.
    """

    frames: list
    warping_errors: list
    seconds: float
    made: int
    settings: dict = field(default_factory=dict)

    @property
    def warping_error(self) -> float:
        """The clip's flicker: the mean of :attr:`warping_errors` (lower: steadier)."""
        return float(np.mean(self.warping_errors)) if self.warping_errors else 0.0

    @property
    def frames_per_minute(self) -> float:
        """Frames this call stylized per minute of wall time."""
        return 60.0 * self.made / self.seconds if self.seconds else 0.0

    def __repr__(self) -> str:
        height, width = self.frames[0].shape[:2]
        return (f"VideoResult({len(self.frames)} frames {width}x{height}, warping error "
                f"{self.warping_error:.5f}, {self.frames_per_minute:.1f} frames/min)")


def kept_pixels(image: np.ndarray) -> np.ndarray:
    """``image`` as a kept frame reads back: 8-bit pixels, as float32 in [0, 1]."""
    return to_uint8(image).astype(np.float32) / 255.0


def split_options(keywords: dict) -> tuple[StylizeOptions, VideoOptions]:
    """Keyword arguments as the still's options and the video's, each checked by name."""
    video_names = {f.name for f in fields(VideoOptions)}
    video = {k: v for k, v in keywords.items() if k in video_names}
    still = options.from_keywords({k: v for k, v in keywords.items() if k not in video_names},
                                  who="stylize_video")
    return still, VideoOptions(**video)


def frames_at_size(clip, size: int | None) -> list[np.ndarray]:
    """The clip's frames (an array (T, H, W, 3), a list, or a file or folder), resized."""
    from nstlab.video.frames import read_frames

    if isinstance(clip, str) or hasattr(clip, "__fspath__"):
        frames = list(read_frames(clip))
    else:
        frames = [np.asarray(frame, np.float32) for frame in clip]
    if not frames:
        raise OptionError("the clip has no frames")
    if len({frame.shape for frame in frames}) > 1:
        raise OptionError("the clip's frames have different sizes")
    return [resize_image(frame, size) if size else frame for frame in frames]


def stylize_video(clip, style, *, store=None, progress: bool = True, on_frame=None,
                  **run_options) -> VideoResult:
    """Stylize a clip so that its frames do not flicker (Ruder et al. 2016).

    Parameters
    ----------
    clip : array (T, H, W, 3), list of frames, or a path
        The frames (float in [0, 1]), or a video file or a folder of frames to read.
    style : image, list of images, or a fast model
        The painting(s); with ``method="fast"``, the network (a ``.keras`` file or the name
        of a shipped model such as ``"starry_night"``).
    store : FrameStore, optional
        Keep each finished frame there, and go on from the frames it holds.
    progress : bool
        A progress bar over the frames.
    on_frame : callable, optional
        Called as ``on_frame(index, frame)`` after each frame is finished.
    **run_options
        Any option of :class:`nstlab.run.options.StylizeOptions` (as for
        :func:`nstlab.stylize`: ``size``, ``steps``, ``style_weight`` ...) and of
        :class:`nstlab.run.options.VideoOptions` (``method``, ``temporal_weight``,
        ``passes``, ``blend``, ``fast_style``, ``independent``).

    Returns
    -------
    VideoResult
        ``.frames``, ``.warping_error`` (the flicker measure), ``.frames_per_minute``.
    """
    still, video = split_options(run_options)
    video = video.validate()
    styles = list(style) if isinstance(style, list | tuple) else [style]
    frames = frames_at_size(clip, still.size)
    if video.method == "optimize":
        still = still.validate(frames[0], styles)
    return stylize_video_with(still, video, frames, styles, store=store, progress=progress,
                              on_frame=on_frame)


def stylize_video_with(still: StylizeOptions, video: VideoOptions, frames: list, styles: list,
                       *, store=None, progress: bool = True,
                       on_frame: Callable | None = None, keep_from: int = 0) -> VideoResult:
    """:func:`stylize_video` with checked options and frames already at their size.

    ``keep_from``: frames before it only warm the chain up (a chunk's overlap): they are
    stylized but neither kept in the store nor returned.
    """
    from tqdm.auto import tqdm

    started = time.perf_counter()
    bar = tqdm(total=len(frames) - keep_from, desc="frames", unit="frame",
               disable=not progress)
    runner = (_FastFrames(video, styles) if video.method == "fast"
              else _OptimizedFrames(still, video, styles))
    stylized: list = [None] * len(frames)
    made = 0
    passes = 1 if video.method == "fast" else video.passes
    for pass_number in range(1, passes + 1):
        order = list(range(len(frames)))
        if pass_number % 2 == 0:
            order.reverse()
        done = store.done_in(pass_number) if store is not None else 0
        for position, index in enumerate(order):
            if position < done:
                stylized[index] = store.load(index - keep_from)
                if pass_number == 1:
                    bar.update(1)
                continue
            neighbour = order[position - 1] if position else None
            if pass_number == 1:
                image = runner.first_pass(frames, stylized, index, neighbour)
            else:
                image = runner.later_pass(frames, stylized, index, neighbour)
            stylized[index] = kept_pixels(image)
            made += pass_number == 1 and index >= keep_from
            if store is not None and index >= keep_from:
                store.save(index - keep_from, stylized[index], pass_number, position + 1)
            if pass_number == 1 and index >= keep_from:
                bar.update(1)
                if on_frame is not None:
                    on_frame(index - keep_from, stylized[index])
    bar.close()
    kept = stylized[keep_from:]
    motion = [flow_and_mask(frames[i + 1], frames[i]) for i in range(keep_from, len(frames) - 1)]
    errors = warping_errors(kept, motion)
    settings = dict(still.settings(), **video.settings())
    result = VideoResult(kept, errors, time.perf_counter() - started, made, settings)
    if store is not None:
        store.complete({"warping_error": result.warping_error, "frames": len(kept)})
    return result


class _OptimizedFrames:
    """The optimisation method: each frame's objective and start (see the module)."""

    def __init__(self, still: StylizeOptions, video: VideoOptions, styles: list):
        from nstlab.engine.precision import resolve_precision
        from nstlab.run.transfer import seed_everything

        self.still = still.replace(precision=resolve_precision(still.precision, still.device))
        self.video = video
        self.styles = [load_image(s, max_pixels=still.max_pixels) for s in styles]
        self.extractor = None
        seed_everything(self.still.seed)

    def _objective(self, frame: np.ndarray):
        from nstlab.engine import losses
        from nstlab.run.transfer import prepare

        inputs = prepare(frame, self.styles, self.still)
        style_size = max(1, round(max(frame.shape[:2]) * self.still.style_scale))
        styles = [resize_image(s, style_size) for s in inputs.styles]
        coarse = (None if inputs.coarse_style is None
                  else resize_image(inputs.coarse_style, style_size))
        objective = self.still.call(losses.Objective, inputs.content, styles,
                                    extractor=self.extractor, coarse_style=coarse)
        self.extractor = objective.extractor  # the network is built once for the clip
        return objective, inputs

    def _optimize(self, frame, start, steps: int, target=None, mask=None) -> np.ndarray:
        from nstlab.engine.optimize import optimize_pixels
        from nstlab.run.transfer import Outcome, finish
        from nstlab.video.temporal import TemporalObjective

        objective, inputs = self._objective(frame)
        if target is not None and not self.video.independent:
            objective = TemporalObjective(objective, target, mask, self.video.temporal_weight)
        image, history, stop = self.still.call(optimize_pixels, objective, start, steps=steps,
                                               progress=False)
        if stop == STOP_INTERRUPTED:
            raise KeyboardInterrupt
        if stop == STOP_NON_FINITE:
            raise FrameFailed(f"the loss became NaN or infinite after {len(history)} steps; "
                              "try a smaller style or temporal weight")
        return finish(Outcome(image, history, stop), inputs, self.still)

    def first_pass(self, frames, stylized, index, neighbour) -> np.ndarray:
        from nstlab.run.transfer import initial_image

        frame = frames[index]
        if neighbour is None or self.video.independent:
            start = initial_image(self.still.init, frame, self.styles, self.still.seed,
                                  self.still.style_blend_weights)
            return self._optimize(frame, start, self.still.steps)
        flow, mask = flow_and_mask(frame, frames[neighbour])
        warped = warp(stylized[neighbour], flow)
        return self._optimize(frame, warped, self.still.steps, warped, mask)

    def later_pass(self, frames, stylized, index, neighbour) -> np.ndarray:
        if neighbour is None or self.video.independent:
            return stylized[index]
        flow, mask = flow_and_mask(frames[index], frames[neighbour])
        warped = warp(stylized[neighbour], flow)
        trusted = PASS_BLEND * mask[..., np.newaxis]
        start = trusted * warped + (1 - trusted) * stylized[index]
        steps = max(1, self.still.steps // PASS_STEP_FRACTION)
        return self._optimize(frames[index], start, steps, warped, mask)


class _FastFrames:
    """The fast method: one pass of the network, blended along the flow (see the module)."""

    def __init__(self, video: VideoOptions, styles: list):
        from nstlab.fast.controls import style_weights
        from nstlab.fast.stylizer import FastStylizer

        if len(styles) != 1:
            raise OptionError("--method fast takes one model as STYLE")
        self.stylizer = FastStylizer.load(styles[0])
        style_weights(video.fast_style, self.stylizer.styles)  # a style it paints, at once
        self.video = video

    def first_pass(self, frames, stylized, index, neighbour) -> np.ndarray:
        picture = self.stylizer(frames[index], style=self.video.fast_style)
        if neighbour is None or self.video.independent or not self.video.blend:
            return picture
        flow, mask = flow_and_mask(frames[index], frames[neighbour])
        kept = self.video.blend * mask[..., np.newaxis]
        return kept * warp(stylized[neighbour], flow) + (1 - kept) * picture
