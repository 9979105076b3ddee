"""Damaged, partial and mismatched checkpoints: every one ends in one line naming the file.

A corpus: a real checkpoint is written, then one of its three files is damaged in one way,
and loading it must raise a one-line :class:`CheckpointError` that names the damaged file
and says what is wrong with it.
"""

import dataclasses
import io
import json
import shutil
import zipfile

import numpy as np
import pytest
from PIL import Image

from nstlab.engine.checkpoint import (
    IMAGE_FILE,
    OPTIMIZER_FILE,
    RECORD_FILE,
    Checkpoint,
    CheckpointError,
    load_checkpoint,
    resume_from,
    save_checkpoint,
)
from nstlab.engine.history import History

HEIGHT, WIDTH = 4, 5
PNG_BYTES = b"\x89PNG\r\n\x1a\n"


def make_checkpoint(seed=0) -> Checkpoint:
    """A small Adam checkpoint shaped like a real one: two steps, one scale, vgg16."""
    rng = np.random.default_rng(seed)
    image = rng.uniform(0, 1, (HEIGHT, WIDTH, 3)).astype(np.float32)
    history = History(["block4_conv2"], ["block1_conv1"])
    for step in range(2):
        history.append({"content/block4_conv2": 2.0 - step, "style/block1_conv1": 5.0 - step,
                        "tv": 0.5}, 7.5 - 2 * step, 0.1 * step)
    moments = [rng.normal(size=(1, HEIGHT, WIDTH, 3)).astype(np.float32) for _ in range(2)]
    state = [np.int64(2), np.float32(0.02), *moments]
    return Checkpoint(image=image, history=history, optimizer="adam", optimizer_state=state,
                      scale_index=0, steps_in_scale=2, settings={"size": WIDTH},
                      backbone="vgg16")


@pytest.fixture
def folder(tmp_path):
    return save_checkpoint(tmp_path / "run", make_checkpoint())


# ----------------------------------------------------------------------------- damage recipes


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (WIDTH, HEIGHT), "red").save(buffer, "PNG")
    return buffer.getvalue()


def npy_bytes(array, allow_pickle=False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def npz_bytes(compressed=False, **arrays) -> bytes:
    buffer = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buffer, **arrays)
    return buffer.getvalue()


def flip_inside_member(data: bytes, member: str) -> bytes:
    """Flip one byte in the middle of a zip member's stored data."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(member)
    # A local file header is 30 bytes, then the name and the extra field.
    extra_length = int.from_bytes(data[info.header_offset + 28:info.header_offset + 30], "little")
    start = info.header_offset + 30 + len(info.filename) + extra_length
    position = start + info.compress_size // 2
    return data[:position] + bytes([data[position] ^ 0xFF]) + data[position + 1:]


def zip_with_text_member() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "momentum")
    return buffer.getvalue()


def edit_record(change):
    def damage(path):
        record = json.loads(path.read_text())
        change(record)
        path.write_text(json.dumps(record))
    return damage


def replace_with(content):
    """Damage: the file's bytes become ``content`` (bytes, or a function of the old bytes)."""
    def damage(path):
        old = path.read_bytes()
        path.write_bytes(content(old) if callable(content) else content)
    return damage


def unlink(path):
    path.unlink()


other_image = np.random.default_rng(1).uniform(0, 1, (HEIGHT, WIDTH, 3)).astype(np.float32)
with_nan = other_image.copy()
with_nan[1, 2, 0] = np.nan
with_inf = other_image.copy()
with_inf[0, 0, 2] = np.inf
with_alpha = np.dstack([other_image, other_image[..., :1]])
moment = np.zeros((1, HEIGHT, WIDTH, 3), np.float32)


def flip_a_pixel_bit(data: bytes) -> bytes:
    """Another valid float: only the recorded hash can tell."""
    return data[:-1] + bytes([data[-1] ^ 0x01])


# (file, damage, what the message must say)
CORPUS = {
    # image.npy
    "image missing": (IMAGE_FILE, unlink, "incomplete: image.npy is missing"),
    "image empty": (IMAGE_FILE, replace_with(b""), "the file is empty"),
    "image header cut short": (IMAGE_FILE, replace_with(lambda d: d[:40]), "numpy cannot read"),
    "image data cut short": (IMAGE_FILE, replace_with(lambda d: d[:-7]), "numpy cannot read"),
    "image is text": (IMAGE_FILE, replace_with(b"not an image\n"), "not a NumPy .npy array"),
    "image is a PNG": (IMAGE_FILE, replace_with(png_bytes()), "not a NumPy .npy array"),
    "image is an npz": (IMAGE_FILE, replace_with(npz_bytes(image=other_image)),
                        "not a NumPy .npy array"),
    "image of objects": (IMAGE_FILE, replace_with(npy_bytes(np.array([{}]), allow_pickle=True)),
                         "numpy cannot read"),
    "image of uint8": (IMAGE_FILE, replace_with(npy_bytes((other_image * 255).astype(np.uint8))),
                       "uint8 values, not float32"),
    "image of float64": (IMAGE_FILE, replace_with(npy_bytes(other_image.astype(np.float64))),
                         "float64 values, not float32"),
    "image in 2-D": (IMAGE_FILE, replace_with(npy_bytes(other_image[..., 0])), "shape (4, 5),"),
    "image with 4 channels": (IMAGE_FILE, replace_with(npy_bytes(with_alpha)), "shape (4, 5, 4)"),
    "image of another size": (IMAGE_FILE, replace_with(npy_bytes(other_image[:3])),
                              "records an image of shape (4, 5, 3)"),
    "image with NaN": (IMAGE_FILE, replace_with(npy_bytes(with_nan)), "NaN or infinite pixels"),
    "image with inf": (IMAGE_FILE, replace_with(npy_bytes(with_inf)), "NaN or infinite pixels"),
    "image bytes changed": (IMAGE_FILE, replace_with(flip_a_pixel_bit),
                            "not those checkpoint.json recorded"),
    # optimizer.npz
    "optimizer missing": (OPTIMIZER_FILE, unlink, "incomplete: optimizer.npz is missing"),
    "optimizer empty": (OPTIMIZER_FILE, replace_with(b""), "the file is empty"),
    "optimizer cut short": (OPTIMIZER_FILE, replace_with(lambda d: d[: len(d) // 2]),
                            "numpy cannot read it (File is not a zip file)"),
    "optimizer is text": (OPTIMIZER_FILE, replace_with(b"v000 = 3\n"), "not a NumPy .npz archive"),
    "optimizer is a PNG": (OPTIMIZER_FILE, replace_with(png_bytes()), "not a NumPy .npz archive"),
    "optimizer is an npy": (OPTIMIZER_FILE, replace_with(npy_bytes(moment)),
                            "not a NumPy .npz archive"),
    "optimizer bad checksum": (OPTIMIZER_FILE,
                               replace_with(lambda d: flip_inside_member(d, "v002.npy")),
                               "Bad CRC-32"),
    "optimizer bad compressed data": (
        OPTIMIZER_FILE,
        replace_with(flip_inside_member(npz_bytes(compressed=True, v000=moment + 0.5), "v000.npy")),
        "numpy cannot read it (Error -3 while decompressing"),
    "optimizer of objects": (OPTIMIZER_FILE,
                             replace_with(npz_bytes(v000=np.array([{}], dtype=object))),
                             "numpy cannot read"),
    "optimizer member not an array": (
        OPTIMIZER_FILE,
        replace_with(zip_with_text_member()),
        "member 'notes.txt' is not a NumPy array"),
    "optimizer of another size": (OPTIMIZER_FILE,
                                  replace_with(npz_bytes(v000=np.zeros((1, 8, 8, 3), np.float32))),
                                  "does not fit the 5x4 px image"),
    "optimizer bytes changed": (OPTIMIZER_FILE, replace_with(npz_bytes(v000=moment)),
                                "not those checkpoint.json recorded"),
    # checkpoint.json
    "record missing": (RECORD_FILE, unlink, "no checkpoint in"),
    "record empty": (RECORD_FILE, replace_with(b""), "the file is empty"),
    "record cut short": (RECORD_FILE, replace_with(lambda d: d[: len(d) // 2]), "not JSON"),
    "record is text": (RECORD_FILE, replace_with(b"step 2 of 200\n"), "not JSON"),
    "record is a PNG": (RECORD_FILE, replace_with(png_bytes()), "not JSON"),
    "record is a list": (RECORD_FILE, replace_with(b"[1, 2]"), "holds an array"),
    "record is null": (RECORD_FILE, replace_with(b"null"), "holds null"),
    "record without format": (RECORD_FILE, edit_record(lambda r: r.pop("format")),
                              "no 'format' entry"),
    "record of a newer format": (RECORD_FILE, edit_record(lambda r: r.update(format=2)),
                                 "has format 2; this version of nstlab reads format 1"),
    "record without history": (RECORD_FILE, edit_record(lambda r: r.pop("history")),
                               "'history' entry is missing"),
    "record history is a list": (RECORD_FILE, edit_record(lambda r: r.update(history=[1])),
                                 "'history' entry is missing or not a history"),
    "record history has text": (RECORD_FILE,
                                edit_record(lambda r: r["history"]["total"].append("x")),
                                "holds values that are not numbers"),
    "record history uneven": (RECORD_FILE, edit_record(lambda r: r["history"]["tv"].pop()),
                              "lists of different lengths"),
    "record optimizer not a name": (RECORD_FILE, edit_record(lambda r: r.update(optimizer=3)),
                                    "'optimizer' entry is missing or not a name"),
    "record negative scale": (RECORD_FILE, edit_record(lambda r: r.update(scale_index=-1)),
                              "'scale_index' entry"),
    "record steps as text": (RECORD_FILE, edit_record(lambda r: r.update(steps_in_scale="2")),
                             "'steps_in_scale' entry"),
    "record shape not a shape": (RECORD_FILE, edit_record(lambda r: r.update(image_shape=[4, 5])),
                                 "'image_shape' entry"),
    "record settings a list": (RECORD_FILE, edit_record(lambda r: r.update(settings=[])),
                               "'settings' entry"),
    "record backbone a number": (RECORD_FILE, edit_record(lambda r: r.update(backbone=16)),
                                 "'backbone' entry"),
    "record hashes a list": (RECORD_FILE, edit_record(lambda r: r.update(sha256=["x"])),
                             "'sha256' entry"),
}


@pytest.mark.parametrize("case", list(CORPUS))
def test_damage_ends_in_one_line_naming_the_file(folder, case):
    name, damage, says = CORPUS[case]
    damage(folder / name)
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(folder)
    message = str(caught.value)
    assert "\n" not in message
    assert name in message and message.count(str(folder)) == 1
    assert says in message


def test_an_intact_checkpoint_reads_back_exactly(folder):
    saved, loaded = make_checkpoint(), load_checkpoint(folder)
    np.testing.assert_array_equal(loaded.image, saved.image)
    assert loaded.image.dtype == np.float32
    for got, expected in zip(loaded.optimizer_state, saved.optimizer_state, strict=True):
        np.testing.assert_array_equal(got, expected)
        assert got.dtype == np.asarray(expected).dtype
    np.testing.assert_array_equal(loaded.history.total, saved.history.total)
    assert loaded.history.style.keys() == saved.history.style.keys()
    assert (loaded.optimizer, loaded.backbone, loaded.scale_index, loaded.steps_in_scale,
            loaded.settings) == ("adam", "vgg16", 0, 2, {"size": WIDTH})
    assert loaded.directory == folder
    assert sorted(p.name for p in folder.iterdir()) == sorted([IMAGE_FILE, OPTIMIZER_FILE,
                                                               RECORD_FILE])


def test_files_from_two_saves_do_not_mix(tmp_path, folder):
    other = save_checkpoint(tmp_path / "other", make_checkpoint(seed=1))
    shutil.copy(other / IMAGE_FILE, folder / IMAGE_FILE)
    with pytest.raises(CheckpointError, match="image.npy' is damaged: its bytes are not those"):
        load_checkpoint(folder)


def test_a_folder_that_is_a_file_is_named(tmp_path):
    file = tmp_path / "run"
    file.write_text("")
    with pytest.raises(CheckpointError, match=f"'{file}' is a file, not a checkpoint folder"):
        load_checkpoint(file)


def test_checkpoints_from_before_backbone_and_hashes_still_load(folder):
    record = json.loads((folder / RECORD_FILE).read_text())
    del record["backbone"], record["sha256"]
    record["settings"] = {"backbone": "vgg19"}  # stylize recorded its options
    (folder / RECORD_FILE).write_text(json.dumps(record))
    (folder / IMAGE_FILE).write_bytes(npy_bytes(other_image))  # unhashed: not checked
    loaded = load_checkpoint(folder)
    assert loaded.backbone == "vgg19"
    np.testing.assert_array_equal(loaded.image, other_image)
    del record["settings"]
    (folder / RECORD_FILE).write_text(json.dumps(record))
    assert load_checkpoint(folder).backbone is None
    # ... and an unknown backbone is not held against the run
    assert resume_from(folder, optimizer="adam", levels=1, backbone="vgg16").backbone is None


def test_a_failed_save_leaves_the_previous_checkpoint_whole(tmp_path, folder, monkeypatch):
    def full_disk(file, **arrays):
        file.write(b"PK")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", full_disk)
    with pytest.raises(OSError, match="No space left"):
        save_checkpoint(folder, make_checkpoint(seed=1))
    np.testing.assert_array_equal(load_checkpoint(folder).image, make_checkpoint().image)
    assert sorted(p.name for p in folder.iterdir()) == sorted([IMAGE_FILE, OPTIMIZER_FILE,
                                                               RECORD_FILE])


# ----------------------------------------------------------------------- fit to the run


@pytest.mark.parametrize("run, saved, says", [
    ({"optimizer": "lbfgs"}, {}, "made with optimizer 'adam', not 'lbfgs'"),
    ({"backbone": "vgg19"}, {}, "made with backbone 'vgg16', not 'vgg19'"),
    ({"levels": 2}, {"scale_index": 2}, "made at scale 3 but this run has 2 scales"),
])
def test_a_checkpoint_from_another_run_is_refused(folder, run, saved, says):
    options = {"optimizer": "adam", "levels": 1, "backbone": "vgg16", **run}
    with pytest.raises(CheckpointError) as caught:
        resume_from(dataclasses.replace(load_checkpoint(folder), **saved), **options)
    message = str(caught.value)
    assert says in message and str(folder / RECORD_FILE) in message and "\n" not in message


def test_resume_from_accepts_a_loaded_checkpoint_or_nothing(folder):
    loaded = load_checkpoint(folder)
    assert resume_from(loaded, optimizer="adam", levels=2, backbone="vgg16") is loaded
    assert resume_from(None, optimizer="adam", levels=1, backbone="vgg16") is None
    with pytest.raises(CheckpointError, match="no checkpoint in"):
        resume_from(folder.parent / "elsewhere", optimizer="adam", levels=1, backbone="vgg16")


def test_an_image_of_another_size_is_refused(folder):
    loaded = load_checkpoint(folder)
    loaded.check_shape((HEIGHT, WIDTH, 3))
    with pytest.raises(CheckpointError) as caught:
        loaded.check_shape((8, 10, 3))
    assert str(caught.value) == (f"the checkpoint image '{folder / IMAGE_FILE}' is 5x4 px but "
                                 "this run needs 10x8 px: resume with the same images and size")
