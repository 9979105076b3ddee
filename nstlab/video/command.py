"""``nstlab video IN STYLE -o OUT``: a clip stylized without flicker, resumably.

IN and OUT are each a video file (by suffix: ``.mp4`` ...) or a folder of frames. The
finished frames are kept as they are made: in OUT itself when it is a folder, else in the
folder ``OUT.frames`` beside it, from which the video is encoded at the end (and which is
kept). Ctrl-C or SIGTERM keeps every finished frame; the same command again goes on from
the last one. Everything is checked before TensorFlow starts: the input (a video? frames?
of one size?), the encoder for OUT, the options, and whether the clip fits in memory and
on disk. Exit codes as every command: 0 done, 1 failed, 2 bad input, 130/143 stopped.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from nstlab.base.messages import EXIT_FAILED, EXIT_OK, fail, sigterm_as_interrupt
from nstlab.base.validators import OptionError
from nstlab.run import options
from nstlab.run.options import VideoOptions

EXAMPLES = """\
examples:
  nstlab video clip.mp4 starry_night.jpg -o out.mp4 --size 256 --steps 50
  nstlab video frames/ style.jpg -o styled/                 folders of frames in and out
  nstlab video clip.mp4 starry_night -o out.mp4 --method fast   a trained network, blended
  nstlab video clip.mp4 three_paintings -o out.mp4 --method fast --style shipwreck
  nstlab video clip.mp4 style.jpg -o out.mp4 --engine ray   overlapping chunks on a local Ray
  (Ctrl-C, then the same command again: only the unfinished frames are made)
"""

#: Stylize options a clip does not take: its frames are kept by the store, not checkpoints.
NOT_FOR_VIDEO = ("checkpoint_dir", "checkpoint_every", "resume", "scales", "coarse_steps")


def add_command(subparsers) -> None:
    """Add ``video`` and its handler (:func:`run`) to the command's sub-commands."""
    parser = subparsers.add_parser(
        "video", help="stylize a clip so that its frames do not flicker (Ruder et al.)",
        description="Stylize every frame of IN, each starting from the one before warped by "
                    "the optical flow, with a temporal loss where the flow is trusted; "
                    "prints the warping error (flicker) at the end.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input", metavar="IN", help="a video file, or a folder of frames")
    parser.add_argument("styles", nargs="+", metavar="STYLE",
                        help="style image(s); with --method fast, a model (.keras or shipped)")
    parser.add_argument("-o", "--output", required=True, metavar="OUT",
                        help="a video file (.mp4 ...) or a folder of frames")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace OUT, and frames of another run kept for it")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--debug", action="store_true",
                        help="show tracebacks and TensorFlow's own log lines")
    options.add_arguments(parser, table=VideoOptions, group="video")
    options.add_arguments(parser, exclude=NOT_FOR_VIDEO)
    parser.set_defaults(handler=run)


def store_folder(output) -> Path:
    """Where the finished frames are kept: OUT itself (a folder), or ``OUT.frames``."""
    from nstlab.video.frames import is_video_file

    output = Path(output)
    return output.with_name(output.name + ".frames") if is_video_file(output) else output


def _check_style(video: VideoOptions, still, styles: list, shape: tuple) -> None:
    import numpy as np

    if video.method == "fast":
        from nstlab.fast.controls import style_weights
        from nstlab.fast.modelfile import read_record, style_names
        from nstlab.fast.recipe import ModelFileError, model_path

        if len(styles) != 1:
            raise OptionError("--method fast takes one model as STYLE")
        try:
            names = style_names(read_record(model_path(styles[0])))
        except ModelFileError as error:
            raise OptionError(str(error)) from None
        style_weights(video.fast_style, names, label="--style")
        return
    # The first frame's shape stands for every frame (probe checked they are one size).
    still.validate(np.zeros((*shape, 3), np.float32), styles, flags=True)


def check(args):
    """Everything the command can check before TensorFlow starts; the checked pieces."""
    from nstlab.imaging.images import fit_within
    from nstlab.video import budget, frames

    video = options.video_from_namespace(args).validate(flags=True)
    still = options.from_namespace(args)
    info = frames.probe(args.input)
    output = Path(args.output)
    encoder = frames.check_encoder(output)
    if encoder is not None and output.exists() and not args.overwrite:
        raise OptionError(f"{output} exists; pass --overwrite to replace it")
    height, width = (fit_within(info.height, info.width, still.size) if still.size
                     else (info.height, info.width))
    budget.check_clip_fits(info.frames, height, width, output, video=encoder is not None,
                           memory_check=still.memory_check)
    _check_style(video, still, args.styles, (height, width))
    if video.engine == "ray":
        from nstlab.batch.engines import check_ray_installed

        check_ray_installed()
    return video, still, info


def run(args) -> int:
    """Check, stylize the clip frame by frame (keeping each), write OUT; the exit code."""
    video, still, info = check(args)
    from nstlab.base import native_logs

    native_logs.import_tensorflow(quiet=not args.debug)
    from nstlab.video import frames as frame_io
    from nstlab.video.store import RECORD, FrameStore
    from nstlab.video.transfer import FrameFailed, frames_at_size, stylize_video_with

    clip = frames_at_size(args.input, still.size)
    if video.method == "optimize":
        still = still.validate(clip[0], args.styles, flags=True)
    folder = store_folder(args.output)
    # Chunks change the frames (each starts its own chain), so a store made with one plan
    # is refused by a run with another: --engine, --chunk-frames and --overlap count too.
    chunks = ([video.chunk_frames, video.overlap] if video.engine == "ray" else None)
    settings = {"options": dict(still.settings(), **video.settings()),
                "input": str(Path(args.input).resolve()), "styles": list(args.styles),
                "size": list(clip[0].shape[:2]), "chunks": chunks}
    try:
        store = FrameStore(folder, settings, len(clip))
    except OptionError:
        if not (args.overwrite and (folder / RECORD).exists()):
            raise
        _clear(folder)  # another run's frames, and --overwrite: they make way
        store = FrameStore(folder, settings, len(clip))
    found = store.done_in(1)
    if found:
        print(f"nstlab: {found} of {len(clip)} frames already finished in {folder}; going on",
              file=sys.stderr)
    try:
        with sigterm_as_interrupt() as interruption:
            if video.engine == "ray":
                from nstlab.video.chunks import stylize_in_chunks

                result = stylize_in_chunks(still, video, clip, args.styles, store=store,
                                           progress=not args.quiet)
            else:
                result = stylize_video_with(still, video, clip, args.styles, store=store,
                                            progress=not args.quiet)
    except KeyboardInterrupt:
        done = store.done_in(1)
        return fail(f"stopped by {interruption.name}; {done} of {len(clip)} frames are kept "
                    f"in {folder}: run the same command again to go on",
                    interruption.exit_code)
    except FrameFailed as error:
        return fail(f"frame {store.done_in(1) + 1}: {error}; the frames before are kept in "
                    f"{folder}", EXIT_FAILED)
    if frame_io.is_video_file(args.output):
        frame_io.write_video(result.frames, args.output, fps=video.fps or info.fps)
    height, width = result.frames[0].shape[:2]
    print(f"wrote {args.output} ({len(result.frames)} frames, {width}x{height} px); "
          f"warping error {result.warping_error:.5f} (mean over {len(result.frames) - 1} "
          f"pairs, lower is steadier); {result.made} frames made, "
          f"{result.frames_per_minute:.1f} frames/min")
    return EXIT_OK


def _clear(folder: Path) -> None:
    """Remove a store's frames, chunks and record (nothing else in the folder)."""
    from nstlab.video.frames import frame_files
    from nstlab.video.store import CHUNKS, RECORD

    for file in [*frame_files(folder), folder / RECORD]:
        file.unlink(missing_ok=True)
    shutil.rmtree(folder / CHUNKS, ignore_errors=True)
    if not any(folder.iterdir()) and folder.name.endswith(".frames"):
        shutil.rmtree(folder)
