"""Export the LR inputs of a protocol, so a network run elsewhere sees exactly what ``run`` feeds.

For every HR image of a dataset (a registry name or a folder, as ``run --datasets`` takes it):
``LR = degrade(protocol_hr(HR))`` (:func:`srbench_eval.data.pairs.make_pair`, the same call the
evaluation loop makes), written as ``OUT/<HR file stem>.png``: RGB or grey as the protocol gives
them (grey images stay grey unless ``grey = rgb``; the ``y-double`` protocol writes the Y plane).

Protocols whose LR is rounded (``uint8-passes``, ``double-round``) are written as 8-bit PNGs, equal
to the LR pixel for pixel. Protocols whose LR is not rounded (``double``, ``y-double``: ``lapsrn``,
``srcnn``) cannot be stored in 8 bits without changing it; they are written as **16-bit** PNGs of
``round(LR * 65535 / 255)`` (read them as ``x / 65535`` for the LR in [0, 1], or ``x * 255 / 65535``
in 0..255). That differs from the float LR ``run`` feeds by at most ``0.5 / 65535`` of the range
(0.002 grey levels) where the LR lies in 0..255, and clips the bicubic kernel's overshoot outside
it (a few pixels at sharp edges, up to about 6 grey levels on the demo images). ``fmt="npy"``
writes the LR exactly instead, as ``OUT/<stem>.npy`` float64 arrays of 0..255 values
(``(h, w)`` or ``(h, w, 3)``).

Non-integer scales (``--scale 2.5``) follow the protocol's size rule, as ``run`` does: Meta-SR's
(``LR = imresize(HR(1:h', 1:w'), 1/s)``, a side trimmed by 4 when ``mod(n, s) ~= 0``; every profile
but ``liif``) or LIIF's (Pillow's bicubic of the HR cut to ``round(floor(h / s + 1e-9) s)``). The
arbitrary-scale repositories keep such LR sets in ``<set>/LR_bicubic/X<s>/<HR file name>``, with
``X%.2f`` as Meta-SR's ``generate_LR_metasr_X1_X4.m`` names them (``X2.50``; ``X2.00`` at integer
scales under ``metasr``), EDSR's ``X2`` at integer scales elsewhere: :func:`folder_name` gives the name
for ``--out`` (LIIF makes its LR on the fly and names no folder; ``X2.5`` is used for it).

The files are written into a staging folder next to ``OUT`` and moved into ``OUT`` only when every
image succeeded, so a failed export leaves no partial set behind. A non-empty ``OUT`` is refused
unless ``force``, a folder inside a finished run always
(:func:`srbench_eval.runs.results.refuse_finished`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from srbench_eval.data.datasets.registry import open_dataset
from srbench_eval.data.io.images import write_image
from srbench_eval.data.pairs import given_files, make_pair
from srbench_eval.defaults import MAX_SCALE, MIN_SCALE, SCALE_RANGE, as_scale
from srbench_eval.errors import SrbenchError, os_error
from srbench_eval.files import write_bytes_atomic
from srbench_eval.names import check_path
from srbench_eval.protocol import Protocol
from srbench_eval.runs.results import refuse_finished


@dataclass(frozen=True)
class Export:
    """What :func:`export_lr` wrote."""

    dataset: str
    files: tuple[Path, ...]
    bits: int  # 8, 16 for an unrounded LR as PNG, 64 for float64 .npy
    folder: str = ""  # the name the arbitrary-scale repositories give this LR set (folder_name)


def folder_name(scale: float, protocol: Protocol) -> str:
    """``X2.50`` (Meta-SR's ``sprintf('X%.2f', scale)``) where Meta-SR's size rule applies, ``X2.5``
    under LIIF's rule outside x2-x4, ``X2`` (EDSR's ``LR_bicubic/X2``) at mod-cropped integer scales."""
    rule = protocol.scale_rule(scale)
    if rule == "metasr":
        return f"X{float(scale):.2f}"
    return f"X{as_scale(scale)}"


def lr_image(lr: torch.Tensor, protocol: Protocol) -> np.ndarray:
    """The ``(1, C, h, w)`` LR tensor of a pair as an ``(h, w)`` or ``(h, w, 3)`` array: ``uint8`` when
    the protocol rounds its LR, else ``uint16`` holding ``round(LR * 65535 / 255)``."""
    planes = lr[0].detach().cpu().to(torch.float64)
    if protocol.lr_rounded:
        arr = planes.numpy().astype(np.uint8)
    else:
        arr = np.clip(np.floor(planes.numpy() * (65535.0 / 255.0) + 0.5), 0, 65535).astype(np.uint16)
    return arr[0] if arr.shape[0] == 1 else np.ascontiguousarray(arr.transpose(1, 2, 0))


def _write(path: Path, img: np.ndarray) -> None:
    if img.dtype == np.uint8:
        write_image(path, img)
        return
    bgr = cv2.cvtColor(img, cv2.COLOR_RGB2BGR) if img.ndim == 3 else img
    ok, buf = cv2.imencode(".png", bgr)
    if not ok:
        raise SrbenchError(f"{path}: cannot encode a 16-bit PNG")
    write_bytes_atomic(path, buf.tobytes())


def _write_npy(path: Path, lr: torch.Tensor) -> None:
    arr = lr[0].detach().cpu().to(torch.float64).numpy()
    arr = arr[0] if arr.shape[0] == 1 else np.ascontiguousarray(arr.transpose(1, 2, 0))
    with tempfile.TemporaryFile() as buf:
        np.save(buf, arr)
        buf.seek(0)
        write_bytes_atomic(path, buf.read())


def export_lr(
    spec: str,
    scale: int | float,
    protocol: Protocol,
    out: Path,
    *,
    mirror: str | None = None,
    strict: bool = False,
    fmt: str = "png",
    force: bool = False,
) -> Export:
    """Write the LR input of every HR image of dataset ``spec`` under ``protocol`` to ``out``
    (``fmt``: ``png``, or ``npy`` for exact float64 arrays). A non-empty ``out`` is refused unless
    ``force`` (which replaces only the files of the same names), a folder inside a finished run
    always; all files or none are written."""
    if fmt not in ("png", "npy"):
        raise SrbenchError(f"format '{fmt}': use png or npy")
    if not MIN_SCALE <= scale <= MAX_SCALE:
        raise SrbenchError(f"scale {scale} does not fit: use {SCALE_RANGE}")
    if float(scale) != int(scale) and protocol.lr_source != "bi":
        raise SrbenchError(
            f"--degradation {protocol.lr_source} at x{scale}: BD, DN and given LR are defined at integer "
            "scales only; use bicubic (bi) at a non-integer scale"
        )
    check_path(out, "--out", written=True)
    refuse_finished(out, "--out", anywhere_inside=True)
    dataset = open_dataset(spec, mirror=mirror, strict=strict)
    stems = dataset.names()
    dupes = sorted({s for s in stems if stems.count(s) > 1})
    if dupes:
        raise SrbenchError(f"{spec}: two HR files share the name '{dupes[0]}'; their LR files would collide")
    targets = [out / f"{stem}.{fmt}" for stem in stems]
    _check_out(out, targets, force)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.partial-"))
    except OSError as e:
        raise os_error(out, e, "create the folder") from None
    try:
        given = given_files([dataset], scale, protocol)  # --degradation given: the dataset's LR, checked
        _export(dataset.images, scale, protocol, fmt, [staging / t.name for t in targets], given)
        out.mkdir(exist_ok=True)
        for target in targets:
            os.replace(staging / target.name, target)
    except OSError as e:
        raise os_error(out, e, "write the LR images") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    bits = 64 if fmt == "npy" else 8 if protocol.lr_rounded else 16
    return Export(dataset.name, tuple(targets), bits, folder_name(scale, protocol))


def _check_out(out: Path, targets: list[Path], force: bool) -> None:
    """Refuse an ``out`` under a file, a file ``out``, a non-empty ``out`` without ``force``, and
    any target name taken by something that is not a file (a folder ``woman.png``)."""
    for parent in (out, *out.parents):
        if parent.exists() and not parent.is_dir():
            raise SrbenchError(f"--out {out}: {parent} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise SrbenchError(f"--out {out}: the folder is not empty; pass --force to replace its LR images")
    for target in targets:
        if (target.exists() or target.is_symlink()) and not target.is_file():
            raise SrbenchError(f"{target}: not a file; the LR image cannot replace it")


def _export(
    images: Sequence[Path], scale: int | float, protocol: Protocol, fmt: str, files: list[Path], given: dict
) -> None:
    cpu = torch.device("cpu")
    for path, file in zip(images, files, strict=True):
        pair = make_pair(path, scale, protocol, cpu, given=given.get(path))
        if fmt == "npy":
            _write_npy(file, pair.lr)
        else:
            _write(file, lr_image(pair.lr, protocol))


__all__ = ["Export", "export_lr", "folder_name", "lr_image"]
