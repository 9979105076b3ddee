"""A batch's results at a glance: a labelled contact sheet and an offline ``index.html``.

Both are written into the results folder and refer to the job folders by relative links,
so the folder can be zipped, copied or opened from a USB stick: ``index.html`` needs no
server and no network. A failed job shows as a grey tile with its error.
"""

from __future__ import annotations

import html
import io
import math
import textwrap
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

from nstlab.base.files import write_atomically
from nstlab.batch import results

__all__ = ["CONTACT_SHEET", "INDEX", "contact_sheet", "write_gallery"]

CONTACT_SHEET = "contact_sheet.png"
INDEX = "index.html"
TILE = 192  # pixels of the longest side of each picture on the sheet
LABEL_LINES = 4
LINE_HEIGHT = 13
PAD = 6
CHARS_PER_LINE = 30


def _tile(out_dir: Path, key: str) -> Image.Image:
    """The job's image fitted into a TILE x TILE square, or grey when there is none."""
    tile = Image.new("RGB", (TILE, TILE), "#eeeeee")
    path = results.job_folder(out_dir, key) / results.IMAGE_FILE
    if results.status_of(out_dir, key) == "finished" and path.is_file():
        with Image.open(path) as picture:
            picture = ImageOps.contain(picture.convert("RGB"), (TILE, TILE))  # up or down
            tile.paste(picture, ((TILE - picture.width) // 2, (TILE - picture.height) // 2))
    return tile


def _caption(label: str, status: str) -> list[str]:
    words = label if status == "finished" else f"[{status}] {label}"
    lines = textwrap.wrap(words, CHARS_PER_LINE) or [""]
    if len(lines) > LABEL_LINES:
        lines = lines[:LABEL_LINES - 1] + [lines[LABEL_LINES - 1][:CHARS_PER_LINE - 3] + "..."]
    return lines


def contact_sheet(out_dir, entries: list[tuple[str, str]], *, columns: int | None = None
                  ) -> Image.Image:
    """One picture of every job's result with its label below, row by row.

    ``entries`` are ``(label, key)`` pairs in the order to show; ``columns`` defaults to
    about a square sheet (at most 6 columns).
    """
    out_dir = Path(out_dir)
    count = max(1, len(entries))
    columns = columns or min(6, math.ceil(math.sqrt(count)))
    rows = math.ceil(count / columns)
    cell_w, cell_h = TILE + 2 * PAD, TILE + 2 * PAD + LABEL_LINES * LINE_HEIGHT
    sheet = Image.new("RGB", (columns * cell_w, rows * cell_h), "white")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()
    for index, (label, key) in enumerate(entries):
        left, top = (index % columns) * cell_w + PAD, (index // columns) * cell_h + PAD
        sheet.paste(_tile(out_dir, key), (left, top))
        status = results.status_of(out_dir, key)
        for number, line in enumerate(_caption(label, status)):
            draw.text((left, top + TILE + 2 + number * LINE_HEIGHT), line,
                      fill="black" if status == "finished" else "#b00000", font=font)
    return sheet


def _figure(out_dir: Path, label: str, key: str) -> str:
    folder = results.job_folder(out_dir, key).name
    record = results.read_record(out_dir, key) or {}
    status = results.status_of(out_dir, key)
    name = html.escape(label)
    links = " · ".join(
        f'<a href="{folder}/{file}">{file.split(".")[0]}</a>'
        for file in (results.SETTINGS_FILE, results.HISTORY_FILE, results.FINISHED_FILE,
                     results.ERROR_FILE)
        if (out_dir / folder / file).is_file())
    if status == "finished":
        picture = (f'<a href="{folder}/{results.IMAGE_FILE}"><img src="{folder}/'
                   f'{results.IMAGE_FILE}" alt="{name}" loading="lazy"></a>')
        detail = (f'{record.get("steps", "?")} steps, {record.get("seconds", 0):.1f} s, '
                  f'final loss {record.get("final_loss") or 0:.4g}')
    else:
        picture = '<div class="missing">no image</div>'
        detail = html.escape(f"{status}: {record.get('message', 'not run yet')}")
    return (f'<figure class="{status}">{picture}<figcaption><b>{name}</b><br>{detail}<br>'
            f'<small>{folder} · {links}</small></figcaption></figure>')


def _page(out_dir: Path, entries: list[tuple[str, str]]) -> str:
    statuses = [results.status_of(out_dir, key) for _, key in entries]
    counts = ", ".join(f"{statuses.count(s)} {s}" for s in ("finished", "failed", "missing")
                       if statuses.count(s))
    figures = "\n".join(_figure(out_dir, label, key) for label, key in entries)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>nstlab batch: {len(entries)} jobs</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; }}
main {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(230px, 1fr));
        gap: 1em; }}
figure {{ margin: 0; }} img {{ width: 100%; height: auto; }}
figcaption {{ font-size: 0.85em; overflow-wrap: anywhere; }}
.failed figcaption, .missing {{ color: #b00000; }}
.missing {{ background: #ddd; aspect-ratio: 1; display: flex; align-items: center;
            justify-content: center; }}
</style></head><body>
<h1>nstlab batch: {len(entries)} jobs</h1>
<p>{counts}. <a href="{CONTACT_SHEET}">Contact sheet</a>. Each job's folder holds its
image, its settings (to repeat it with <code>nstlab.stylize(content, style,
**settings)</code>) and its per-step losses.</p>
<main>
{figures}
</main></body></html>
"""


def write_gallery(out_dir, entries: list[tuple[str, str]]) -> tuple[Path, Path]:
    """Write ``contact_sheet.png`` and ``index.html`` for ``(label, key)`` entries.

    Returns their paths. Both are written atomically and replace earlier ones.
    """
    out_dir = Path(out_dir)
    buffer = io.BytesIO()
    contact_sheet(out_dir, entries).save(buffer, "PNG")
    sheet = write_atomically(out_dir / CONTACT_SHEET, buffer.getvalue())
    index = write_atomically(out_dir / INDEX, _page(out_dir, entries).encode())
    return sheet, index
