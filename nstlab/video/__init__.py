"""Layer 6, video: style transfer for clips whose frames do not flicker (Ruder et al. 2016).
Import rule: imports base, imaging, engine, run, fast and batch; never lab (its peer) or above.

Stylizing a clip frame by frame makes it flicker: each optimisation (or each pass of a fast
network) lands on its own arrangement of brush strokes. Ruder, Dosovitskiy & Brox (2016)
tie each frame to the one before: the previous stylized frame, moved along the optical flow,
is both the start of the next optimisation and the target of a *temporal loss*, counted
only where the flow can be trusted (the occlusion mask).

>>> from nstlab.video import stylize_video, sample_clip
>>> clip = sample_clip(frames=6, size=64)                 # a camera move over a shipped photo
>>> result = stylize_video(clip, "starry_night", size=64, steps=20)
>>> result.warping_error                                # the flicker measure (lower: steadier)

or on the command line ``nstlab video IN STYLE -o OUT`` (IN and OUT a video file or a folder
of frames). The parts, one concept a module: :mod:`~nstlab.video.clip` (the test clip),
:mod:`~nstlab.video.frames` (reading and writing clips), :mod:`~nstlab.video.flow` (optical
flow, warping, occlusions), :mod:`~nstlab.video.temporal` (the temporal loss and the warping
error), :mod:`~nstlab.video.store` (finished frames kept on disk, so runs resume),
:mod:`~nstlab.video.transfer` (:func:`stylize_video`), :mod:`~nstlab.video.chunks` (long
clips as overlapping chunks on Ray) and :mod:`~nstlab.video.command` (``nstlab video``).
Names load on first use, so importing this package starts neither TensorFlow nor OpenCV.
"""

from nstlab.base.lazy import lazy_names

_EXPORTS = {
    "sample_clip": "clip",
    "read_frames": "frames",
    "write_frames": "frames",
    "probe": "frames",
    "optical_flow": "flow",
    "warp": "flow",
    "occlusion_mask": "flow",
    "temporal_loss": "temporal",
    "warping_error": "temporal",
    "TemporalObjective": "temporal",
    "stylize_video": "transfer",
    "VideoResult": "transfer",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_names(
    __name__, globals(), exports=_EXPORTS,
    submodules=("clip", "frames", "flow", "temporal", "store", "transfer", "chunks",
                "command"),
)
