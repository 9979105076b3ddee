"""Job files: what a batch runs, read and checked whole before anything runs.

A job file is JSON (or YAML, when PyYAML is installed: ``pip install pyyaml``, which
Jupyter already brings). It holds an object with any of these keys::

    {
      "defaults": {"size": 256, "steps": 100},           # options every run gets
      "jobs": [                                          # single runs
        {"content": "photo.jpg", "style": "starry_night.jpg", "style_weight": 1000},
        {"content": "photo.jpg", "styles": ["a.jpg", "b.jpg"],
         "style_blend_weights": [0.7, 0.3], "label": "mix"}
      ],
      "grids": [                                         # contents x styles x vary
        {"contents": ["a.jpg", "b.jpg"], "styles": ["starry_night.jpg", ["x.jpg", "y.jpg"]],
         "vary": {"style_weight": [10, 100, 1000]}, "init": "noise"}
      ]
    }

(a file may also be just the list of jobs). In a job, every key but ``content``,
``style``/``styles``, ``label`` and ``note`` (a comment, ignored) is an option of
:func:`nstlab.stylize`. In a grid,
each entry of ``styles`` is one run's style (a path, or a list of paths to mix),
``vary`` maps options to the list of values to try (every combination runs), and the
other keys are options every run of the grid gets. Relative paths are relative to the
job file's folder; ``sample:starry_night`` (or ``shipwreck``, ``woman_with_hat``,
``grace_hopper``) names an image that ships with nstlab or matplotlib.

:func:`read_job_file` checks every run with :meth:`nstlab.run.options.StylizeOptions.validate`
(option names, values, the images' headers) and that no two runs write the same result
folder, and raises one :class:`JobFileError` listing *every* problem with its line.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import json.decoder
import json.scanner
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from nstlab.base import validators
from nstlab.base.messages import one_line
from nstlab.imaging.images import ImageError
from nstlab.run import options

__all__ = ["Job", "JobFileError", "Problem", "check_jobs", "expand", "parse_job_file",
           "read_job_file"]

#: Keys of a job that are not options of stylize.
JOB_KEYS = ("content", "style", "styles", "label", "note")
#: Keys of a grid that are not options every run gets.
GRID_KEYS = ("contents", "styles", "vary", "note")  # grid runs are labelled by what varies
#: Run controls a batch decides itself (each job's folder is its own resume point).
BATCH_CONTROLS = ("checkpoint_dir", "checkpoint_every", "resume")
TOP_KEYS = ("defaults", "jobs", "grids", "grid", "note")
SAMPLE_PREFIX = "sample:"


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a job file: where (``line`` may be None) and why."""

    where: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        return f"{self.where}:{self.line}: {self.reason}" if self.line else (
            f"{self.where}: {self.reason}")


class JobFileError(ValueError):
    """A job file with problems; ``problems`` lists every one of them (nothing ran)."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        count = len(self.problems)
        super().__init__(f"{count} problem{'s' * (count != 1)} in the jobs; nothing ran: "
                         + "; ".join(map(str, self.problems)))


@dataclass(frozen=True)
class Job:
    """One stylize run of a batch.

    ``content`` and ``styles`` are paths (absolute once read from a file); ``options``
    are the keywords as written (defaults of the file included); ``checked`` is the
    result of :meth:`~nstlab.run.options.StylizeOptions.validate` (set by :func:`check_jobs`);
    ``line`` is where the job (or its grid) starts in the job file.
    """

    content: str
    styles: tuple[str, ...]
    options: dict
    label: str = ""
    line: int | None = None
    checked: options.StylizeOptions | None = dataclasses.field(default=None, compare=False)


# ------------------------------------------------------------------- reading the file


class Located(dict):
    """A dict read from a job file that remembers the line where it starts."""

    line: int | None = None


def _json_objects_with_lines(text: str):
    """``json.loads`` whose objects are :class:`Located` dicts carrying their line."""
    decoder = json.JSONDecoder()
    plain_object = json.decoder.JSONObject

    def located_object(s_and_end, *args, **kwargs):
        text_, end = s_and_end  # end is just after the opening brace
        value, after = plain_object(s_and_end, *args, **kwargs)
        found = Located(value)
        found.line = text_.count("\n", 0, end) + 1
        return found, after

    decoder.parse_object = located_object
    # The C scanner ignores parse_object; the pure-Python one calls it for every object.
    decoder.scan_once = json.scanner.py_make_scanner(decoder)
    return decoder.decode(text)


def _yaml_objects_with_lines(text: str):
    try:
        import yaml
    except ImportError:
        raise validators.OptionError('YAML job files need PyYAML: pip install pyyaml (or write '
                                  'the file as JSON)') from None

    class LineLoader(yaml.SafeLoader):
        def construct_mapping(self, node, deep=False):
            found = Located(super().construct_mapping(node, deep=True))
            found.line = node.start_mark.line + 1
            return found

    LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                               LineLoader.construct_mapping)
    return yaml.load(text, Loader=LineLoader)  # noqa: S506 (a SafeLoader subclass)


def parse_job_file(path) -> list[Job]:
    """The jobs a job file lists (grids expanded), not yet checked; see :func:`read_job_file`.

    Raises :class:`JobFileError` for a file that cannot be read or parsed, or whose layout
    is wrong, with every problem found.
    """
    path = Path(path)
    name = os.fspath(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise JobFileError([Problem(name, None, f"cannot read it: "
                                                f"{getattr(error, 'strerror', None) or error}")
                            ]) from None
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            data = _yaml_objects_with_lines(text)
        else:
            data = _json_objects_with_lines(text)
    except json.JSONDecodeError as error:
        raise JobFileError([Problem(name, error.lineno, f"not valid JSON: {error.msg}")]
                           ) from None
    except validators.OptionError as error:
        raise JobFileError([Problem(name, None, str(error))]) from None
    except Exception as error:  # yaml.YAMLError: its marks say where
        mark = getattr(error, "problem_mark", None)
        raise JobFileError([Problem(name, mark.line + 1 if mark else None,
                                    f"not valid YAML: {getattr(error, 'problem', error)}")]
                           ) from None
    return expand(data, where=name, folder=path.parent)


def expand(data, *, where: str = "jobs", folder=".") -> list[Job]:
    """The jobs of a parsed job file (a dict or a list of jobs), grids expanded.

    Relative image paths are resolved against ``folder``. Raises :class:`JobFileError`
    listing every layout problem (a missing content, a grid without styles, ...).
    """
    problems: list[Problem] = []
    folder = Path(folder)

    def problem(entry, reason):
        problems.append(Problem(where, getattr(entry, "line", None), reason))

    if isinstance(data, list):
        data = {"jobs": data}
    if not isinstance(data, Mapping):
        raise JobFileError([Problem(where, None, "the file must hold an object with "
                                                 "'jobs' and/or 'grids', or a list of jobs")])
    for key in data:
        if key not in TOP_KEYS:
            problem(data, f"unknown key {key!r}; the file may have {', '.join(TOP_KEYS[:3])}")
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, Mapping):
        problem(data, "'defaults' must be an object of options")
        defaults = {}
    grids = data.get("grids", [])
    grids = ([data["grid"]] if "grid" in data else []) + (
        grids if isinstance(grids, list) else [grids])
    raw_jobs = data.get("jobs", [])
    if not isinstance(raw_jobs, list):
        problem(data, "'jobs' must be a list")
        raw_jobs = []

    jobs: list[Job] = []
    for number, entry in enumerate(raw_jobs, start=1):
        if not isinstance(entry, Mapping):
            problem(data, f"job {number} is not an object")
            continue
        styles = entry.get("styles", entry.get("style"))
        if "content" not in entry or styles is None or ("style" in entry and "styles" in entry):
            problem(entry, "a job needs a 'content' and one of 'style' or 'styles'")
            continue
        run_options = {**defaults, **{k: v for k, v in entry.items() if k not in JOB_KEYS}}
        try:
            jobs.append(_job(entry["content"], styles, run_options, entry, folder))
        except ValueError as error:
            problem(entry, str(error))
    for grid in grids:
        if not isinstance(grid, Mapping):
            problem(data, "a grid must be an object")
            continue
        vary = grid.get("vary", {})
        if not grid.get("contents") or not grid.get("styles") or not isinstance(vary, Mapping):
            problem(grid, "a grid needs non-empty 'contents' and 'styles' lists, and 'vary' "
                          "(if any) maps options to lists of values")
            continue
        bad = [key for key, values in vary.items() if not isinstance(values, list) or not values]
        if bad:
            problem(grid, f"'vary' needs a non-empty list of values for {', '.join(bad)}")
            continue
        fixed = {**defaults, **{k: v for k, v in grid.items() if k not in GRID_KEYS}}
        for content, styles, values in itertools.product(
                _as_list(grid["contents"]), _as_list(grid["styles"]),
                itertools.product(*vary.values())):
            run_options = {**fixed, **dict(zip(vary, values, strict=True))}
            try:
                jobs.append(_job(content, styles, run_options, grid, folder))
            except ValueError as error:
                problem(grid, str(error))
                break
    if problems:
        raise JobFileError(problems)
    return jobs


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _resolved(value, folder: Path):
    """An image path made absolute against the job file's folder (URLs stay as they are).

    ``sample:NAME`` names an image that ships with nstlab or matplotlib (``starry_night``,
    ``shipwreck``, ``woman_with_hat``, ``grace_hopper``); an unknown name is a ValueError.
    """
    if isinstance(value, str) and value.startswith(SAMPLE_PREFIX):
        from nstlab.imaging import data

        name = value.removeprefix(SAMPLE_PREFIX)
        if name not in data.PAINTINGS and name not in data.PHOTOS:
            raise ValueError(f"unknown sample {name!r}; choose one of "
                             f"{', '.join([*data.PAINTINGS, *data.PHOTOS])}")
        path = data.painting_path(name) if name in data.PAINTINGS else data.photo_path(name)
        return os.fspath(path)
    if isinstance(value, str) and "://" not in value:
        return os.fspath((folder / Path(value).expanduser()).resolve())
    return value


def _image_options() -> list[str]:
    """Options whose values may be image files (resolved like the content)."""
    return [f.name for f in dataclasses.fields(options.StylizeOptions)
            if f.metadata["spec"].kind in ("image", "images", "init")]


def _job(content, styles, run_options: dict, entry, folder: Path) -> Job:
    styles = tuple(_resolved(s, folder) for s in _as_list(styles))
    resolved = dict(run_options)
    for key in _image_options():
        value = resolved.get(key)
        if key == "init" and isinstance(value, str) and value in options.INITS:
            continue
        if isinstance(value, list):
            resolved[key] = [_resolved(v, folder) for v in value]
        elif value is not None:
            resolved[key] = _resolved(value, folder)
    label = str(entry.get("label", "")) if "contents" not in entry else ""
    return Job(_resolved(content, folder), styles, resolved, label,
               getattr(entry, "line", None))


# ---------------------------------------------------------------------- checking jobs


def check_jobs(jobs: Iterable[Job | Mapping], *, where: str = "jobs") -> list[Job]:
    """Check every job as ``stylize`` would, and that no two write the same result.

    ``jobs`` are :class:`Job` objects or dicts like a job file's entries. Returns the jobs
    with ``checked`` options and a label; raises :class:`JobFileError` listing every
    problem: an unknown option, a missing or unreadable image, a bad value, a batch
    control set by hand, two jobs with the same inputs and settings.
    """
    from nstlab.batch.results import job_key

    jobs = list(jobs)
    written = iter(expand([job for job in jobs if not isinstance(job, Job)], where=where))
    jobs = [job if isinstance(job, Job) else next(written) for job in jobs]
    problems, checked, first_line_of = [], [], {}
    for number, job in enumerate(jobs, start=1):
        at = job.line
        name = f"job {number}" if at is None else f"job {number} ({_short(job)})"
        controls = [key for key in BATCH_CONTROLS if key in job.options]
        if controls:
            problems.append(Problem(where, at, f"{name}: {', '.join(controls)} cannot be set "
                                               "in a batch (each result folder resumes)"))
            continue
        try:
            opts = options.from_keywords(job.options).validate(job.content, list(job.styles))
        except (validators.OptionError, ImageError, TypeError) as error:
            problems.append(Problem(where, at, f"{name}: {one_line(error)}"))
            continue
        job = dataclasses.replace(job, checked=opts)
        key = job_key(job)
        if key in first_line_of:
            other = first_line_of[key]
            problems.append(Problem(where, at, f"{name}: writes the same result as {other} "
                                               "(same images and settings)"))
            continue
        first_line_of[key] = f"the job on line {at}" if at else f"job {number}"
        checked.append(job)
    if problems:
        raise JobFileError(problems)
    return _labelled(checked)


def read_job_file(path) -> list[Job]:
    """The jobs of a job file, expanded and checked (:func:`check_jobs`), in file order."""
    return check_jobs(parse_job_file(path), where=os.fspath(path))


def _short(job: Job) -> str:
    return " x ".join(Path(str(p)).stem for p in (job.content, *job.styles))


def _labelled(jobs: list[Job]) -> list[Job]:
    """Jobs without a label get one: their images and the options that vary in the batch."""
    varying = sorted({key for job in jobs for key in job.options
                      if len({json.dumps(j.options.get(key), sort_keys=True, default=str)
                              for j in jobs}) > 1})
    labelled, seen = [], {}
    for job in jobs:
        label = job.label or ", ".join([_short(job), *(
            f"{key}={_shown(job.options[key])}" for key in varying if key in job.options)])
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:  # labels name the jobs in the summary: keep them apart
            label = f"{label} ({seen[label]})"
        labelled.append(dataclasses.replace(job, label=label))
    return labelled


def _shown(value) -> str:
    if isinstance(value, list | tuple):
        if len(value) > 2 and all(isinstance(v, str) and v.startswith("block") for v in value):
            return f"{value[0]}..{value[-1]}"  # a run of layers, as in Fig. 4's rows
        return "+".join(map(_shown, value))
    if isinstance(value, str) and os.sep in value:
        return Path(value).stem
    return f"{value:g}" if isinstance(value, float) else str(value)
