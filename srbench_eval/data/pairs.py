"""HR/LR test pairs of the protocol, prepared ahead of use in background threads.

For an HR image file and a :class:`~srbench_eval.protocol.Protocol`: ``HR = modcrop(read(file), scale)``
(a grey image replicated to RGB, or RGB reduced to its rounded Y plane, where the protocol says so:
:func:`protocol_hr`) and ``LR = degrade(HR)`` by the protocol's ``lr_source`` (``run --degradation``,
:func:`degraded_lr`): MATLAB bicubic (``bi``, :func:`srbench_eval.data.degrade.bicubic.degrade`), RDN's
BD or DN (:mod:`srbench_eval.data.degrade.blur`, :mod:`srbench_eval.data.degrade.noise`), or the
dataset's own LR file (``given``: read, brought to the protocol's channels like the HR, and checked:
``LR * scale = modcrop(HR)``, or ``LR = HR`` in size for pairs registered at one size), always on the
CPU, as ``(1, C, H, W)`` batches of 0..255 values: ``float32`` integers, or ``float64``
for an unrounded LR (``double``, ``y-double`` degradations): tensors on the given device, or, where the
caller asks for ``host_arrays`` and the device is the CPU (the evaluation loop), NumPy arrays, which
the compiled kernels take as they are, so that torch is never imported for them (a network or a
learned metric views them as tensors without a copy, :func:`srbench_eval.compiled.as_tensor`).

Decoding a PNG and degrading it take as long as scoring it, and both release the GIL (libspng,
OpenCV and the numba kernels), so :func:`read_ahead` runs them in a small thread pool a few images
ahead of the consumer: on two cores the decoding of the next images overlaps the metrics of the current one.
Pairs still come out in input order, errors surface at the image that caused them, and at most
``lookahead`` prepared pairs are held in memory (large Manga109 pages included).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from srbench_eval.color import luma, protocol_grey
from srbench_eval.compiled import as_tensor
from srbench_eval.data.datasets.lr import match_lr
from srbench_eval.data.degrade.bicubic import degrade
from srbench_eval.data.degrade.blur import degrade_bd
from srbench_eval.data.degrade.noise import degrade_dn
from srbench_eval.data.degrade.pil import pil_bicubic
from srbench_eval.data.degrade.scale_rule import liif_sizes, metasr_sizes
from srbench_eval.data.io.images import modcrop, read_image
from srbench_eval.errors import SrbenchError
from srbench_eval.protocol import Protocol

if TYPE_CHECKING:
    import torch

    from srbench_eval.data.datasets.registry import Dataset
    from srbench_eval.data.degrade.bicubic import Image

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Pair:
    """One HR image of a dataset with its LR input, ready for the models and metrics."""

    path: Path
    hr: Image  # (1, C, H, W) float32, 0..255 (a NumPy array on the CPU)
    lr: Image  # (1, C, H / scale, W / scale) float32 (float64 when unrounded), 0..255
    extra: dict[str, object] = field(default_factory=dict)  # HR-only precomputations, by name


def image_batch(img: np.ndarray, *, channels_last: bool = False) -> np.ndarray:
    """``(1, C, H, W)`` float32 NumPy array of an ``(H, W)`` or ``(H, W, C)`` uint8 image: C-contiguous
    (one pass converts and reorders; what the compiled kernels read), or with ``channels_last`` a view
    of the ``(H, W, C)`` float32 copy (the decoded image's memory order)."""
    if img.ndim == 2:
        return img.astype(np.float32)[None, None]
    if channels_last:
        return img.astype(np.float32).transpose(2, 0, 1)[None]
    return img.transpose(2, 0, 1).astype(np.float32, order="C")[None]


def image_tensor(img: np.ndarray, device: torch.device | str) -> torch.Tensor:
    """``(1, C, H, W)`` float32 tensor on ``device`` of an ``(H, W)`` or ``(H, W, C)`` uint8 image, in
    channels-last memory order."""
    return as_tensor(image_batch(img, channels_last=True), device)


def on_host(device: torch.device | str) -> bool:
    """Whether the evaluation runs on the CPU, where its images are NumPy arrays."""
    return str(device) == "cpu"


Precompute = Mapping[str, Callable[["Image"], object]]


def protocol_hr(img: np.ndarray, scale: float, protocol: Protocol) -> np.ndarray:
    """The HR image a protocol scores against, from a decoded ``uint8`` image: mod-cropped to the
    scale (``modcrop``; not under Meta-SR's or LIIF's size rule, :func:`metasr_crops`,
    :func:`liif_pair`), a grey image replicated to RGB (``grey = rgb``), and for the Y-only pipeline
    (``y-double``) the rounded Y plane ``uint8(rgb2ycbcr(HR))`` (a grey image is its own Y)."""
    img = protocol_grey(img, protocol.grey)
    if protocol.modcrop and protocol.scale_rule(scale) == "modcrop":
        img = modcrop(img, scale)
    if protocol.y_only and img.ndim == 3:
        y = luma(image_batch(img), "rounded")
        img = y[0, 0].astype(np.uint8)
    return np.ascontiguousarray(img)


@dataclass(frozen=True)
class GivenLR:
    """The LR file of an HR file (``--degradation given``), and whether the pair is registered at one
    size (RealSR V3, DRealSR) instead of ``LR * scale = HR``."""

    path: Path
    same_size: bool = False


def given_lr(
    given: GivenLR, hr: np.ndarray, hr_path: Path, scale: int, protocol: Protocol, *, hr_rgb: bool
) -> np.ndarray:
    """The dataset's LR image for ``hr`` (the protocol's HR image of ``hr_path``): read, grey handled
    and Y taken as for the HR (:func:`protocol_hr`, without its mod-crop unless the pair is registered
    at one size: so marked, or an LR whose mod-crop has the HR's size, as in a folder of RealSR
    V1/V2-style pairs); an LR whose channels (``hr_rgb``: the HR file's) or size do not match is a one-line
    error naming both files."""
    raw = read_image(given.path)
    if (raw.ndim == 3) != hr_rgb:
        raise SrbenchError(
            f"{given.path}: {'RGB' if raw.ndim == 3 else 'grey'} LR image for the "
            f"{'grey' if raw.ndim == 3 else 'RGB'} HR image {hr_path}: the channel counts differ"
        )
    lr = protocol_grey(raw, protocol.grey)
    cropped = modcrop(lr, scale) if protocol.modcrop else lr
    same = given.same_size or cropped.shape[:2] == hr.shape[:2]  # an LR at the HR's size: registered
    lr = cropped if same else lr
    if protocol.y_only and lr.ndim == 3:
        lr = luma(image_batch(lr), "rounded")[0, 0].astype(np.uint8)
    want = hr.shape[:2] if same else (hr.shape[0] // scale, hr.shape[1] // scale)
    if lr.shape[:2] != want:
        rule = "the HR's size" if same else f"the HR's size / {scale}"
        raise SrbenchError(
            f"{given.path}: LR image is {lr.shape[1]}x{lr.shape[0]}, expected {want[1]}x{want[0]} ({rule}; "
            f"HR {hr_path} is {hr.shape[1]}x{hr.shape[0]} after the protocol's mod-crop)"
        )
    return np.ascontiguousarray(lr)


def degraded_lr(
    img: np.ndarray, path: Path, scale: int, protocol: Protocol, given: GivenLR | None, *, rgb: bool
) -> Image:
    """The LR batch of the HR image ``img`` (uint8) for a ``protocol.lr_source`` other than bicubic
    (which :func:`_hr_and_lr` makes, with Meta-SR's sizes where they apply): ``bd`` RDN's
    blur-downsampling, ``dn`` bicubic plus MATLAB's ``randn('seed', 0)`` noise (its bicubic borders:
    ``protocol.border``), ``given`` the dataset's file (:func:`given_lr`). BD and DN replicate a grey
    image to RGB as RDN's script does; a grey HR scored as grey (``grey = y``) keeps their first plane.
    ``rgb``: whether the HR file is RGB."""
    source = protocol.lr_source
    if source == "given":
        if given is None:
            raise SrbenchError(f"{path}: --degradation given needs a dataset with LR images (HRDIR::LRDIR)")
        return image_batch(given_lr(given, img, path, scale, protocol, hr_rgb=rgb))
    lr = degrade_bd(img, scale) if source == "bd" else degrade_dn(img, scale, border=protocol.border)
    return image_batch(lr[:, :, 0] if img.ndim == 2 else lr)


def given_files(datasets: Sequence[Dataset], scale: int, protocol: Protocol) -> dict[Path, GivenLR]:
    """The LR file of every HR file of ``datasets`` when the protocol's LR is ``given`` (else ``{}``),
    found before any image is read: a dataset without LR images, without them at ``scale``, or an
    HR image without its LR file is a one-line error naming it
    (:func:`~srbench_eval.data.datasets.lr.match_lr`)."""
    if protocol.lr_source != "given":
        return {}
    out: dict[Path, GivenLR] = {}
    for ds in datasets:
        if ds.lr is None:
            raise SrbenchError(
                f"dataset {ds.name} ({ds.location}) has no LR images for --degradation given: name them "
                f"with --datasets {ds.name}=HRDIR::LRDIR, or a paired dataset (srbench-eval datasets list)"
            )
        same = ds.lr.same_size
        out.update(
            {hr: GivenLR(lr, same) for hr, lr in match_lr(ds.images, ds.lr.folder(scale, ds.name)).items()}
        )
    return out


def metasr_crops(img: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Meta-SR's ``(resized, scored)`` HR regions of an HR image (:func:`metasr_sizes`): the top-left
    region ``imresize`` reads (a side ``n`` with ``mod(n, s) ~= 0`` minus 4) and the one scored
    (``int(lr * s)`` per side, at most the image)."""
    sizes = metasr_sizes(img.shape[0], img.shape[1], scale)
    (rh, rw), (sh, sw) = sizes.resized_hr, sizes.scored_hr
    return np.ascontiguousarray(img[:rh, :rw]), np.ascontiguousarray(img[:sh, :sw])


def liif_pair(img: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """LIIF's ``(HR scored, LR)`` of a ``uint8`` HR image outside its paired scales
    (:func:`~srbench_eval.data.degrade.scale_rule.liif_sizes`): the HR cut top-left to
    ``round(floor(h / s + 1e-9) * s)`` per side and Pillow's bicubic resize of that cut
    (:func:`~srbench_eval.data.degrade.pil.pil_bicubic`)."""
    sizes = liif_sizes(img.shape[0], img.shape[1], scale)
    (h, w), lr = sizes.scored_hr, sizes.lr
    hr = np.ascontiguousarray(img[:h, :w])
    return hr, pil_bicubic(hr, lr)


def _hr_and_lr(path: Path, img: np.ndarray, scale: float, protocol: Protocol) -> tuple[Image, Image]:
    """``(HR scored, LR)`` batches: mod-crop rule (the HR must be a multiple of the scale), Meta-SR's
    or LIIF's."""
    rule = protocol.scale_rule(scale)
    if rule != "modcrop" and not protocol.modcrop:
        raise SrbenchError(
            f"{path}: x{scale} needs {protocol.label}'s {rule} size rule, which crops the HR; "
            "drop modcrop=false"
        )
    if rule == "liif":
        hr, lr = liif_pair(img, scale)
        return image_batch(hr), image_batch(lr)
    if rule == "metasr":
        resized, scored = metasr_crops(img, scale)
        return image_batch(scored), degrade(image_batch(resized), scale, protocol, whole=False)
    if img.shape[0] % scale or img.shape[1] % scale:
        raise SrbenchError(
            f"{path}: {img.shape[1]}x{img.shape[0]} is not a multiple of the scale {scale} and protocol "
            f"{protocol.label} does not mod-crop; use --protocol-set modcrop=true"
        )
    hr = image_batch(img)
    return hr, degrade(hr, scale, protocol)


def make_pair(
    path: Path,
    scale: float,
    protocol: Protocol,
    device: torch.device | str,
    precompute: Precompute | None = None,
    *,
    host_arrays: bool = False,
    given: GivenLR | None = None,
) -> Pair:
    """Read, mod-crop and degrade one HR image under ``protocol``; refuse one too small for the scale
    and the protocol's border crop.

    ``precompute`` maps names to functions of the HR tensor whose results go to :attr:`Pair.extra`
    (the metrics' HR-only work, :meth:`srbench_eval.metrics.base.Metric.reference`); an image a
    metric refuses there (too small for SSIM's window after the crop) is a one-line error naming it.
    ``host_arrays``: NumPy arrays instead of tensors when ``device`` is the CPU; ``given``: the
    dataset's LR file of this image (``--degradation given``).
    """
    raw = read_image(path)
    img = protocol_hr(raw, scale, protocol)
    border = protocol.crop(scale)
    if min(img.shape[:2]) < scale * 2 + 2 * border:
        raise SrbenchError(
            f"{path}: {img.shape[1]}x{img.shape[0]} is too small for x{scale} "
            f"with a {border}-pixel border crop"
        )
    # The LR image is made on the CPU whatever the device, so every device scores the same input.
    if protocol.lr_source == "bi":
        hr, lr = _hr_and_lr(path, img, scale, protocol)
    else:
        hr = image_batch(img)
        lr = degraded_lr(img, path, scale, protocol, given, rgb=raw.ndim == 3)
    if not (host_arrays and on_host(device)):
        hr, lr = as_tensor(hr, device, channels_last=True), as_tensor(lr, device)
    extra = {}
    for name, fn in (precompute or {}).items():
        try:
            extra[name] = fn(hr)
        except ValueError as e:  # the metric's own size rule (SSIM: 11x11 after the crop)
            h, w = img.shape[:2]
            raise SrbenchError(
                f"{path}: {w}x{h} leaves {max(w - 2 * border, 0)}x{max(h - 2 * border, 0)} pixels after "
                f"the {border}-pixel border crop; {name}: {e}"
            ) from None
        except SrbenchError as e:  # the metric's own refusal, e.g. an image smaller than fid-patch's patches
            raise SrbenchError(f"{path}: {e}") from None
    return Pair(path, hr, lr, extra)


def read_ahead(
    items: Sequence[T], work: Callable[[T], R], *, workers: int = 2, lookahead: int = 4
) -> Iterator[R]:
    """``work(item)`` for every item, in order, computed by ``workers`` threads up to ``lookahead``
    items ahead of the consumer. An exception is raised when its item's turn comes; leaving the
    loop early cancels the work not yet started."""
    if workers < 1 or lookahead < 1:
        raise ValueError(f"workers and lookahead must be >= 1, got {workers} and {lookahead}")
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="srbench-read") as pool:
        pending: deque[Future[R]] = deque()
        upcoming = iter(items)
        try:
            for item in upcoming:
                pending.append(pool.submit(work, item))
                if len(pending) >= lookahead:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def hr_lr_pairs(
    paths: Sequence[Path],
    scale: float,
    protocol: Protocol,
    device: torch.device | str,
    precompute: Precompute | None = None,
    *,
    workers: int = 2,
    host_arrays: bool = False,
    given: Mapping[Path, GivenLR] | None = None,
) -> Iterator[Pair]:
    """The :class:`Pair` of every HR file under ``protocol``, in order, prepared ahead by
    :func:`read_ahead` (``host_arrays``, ``given``: as :func:`make_pair`, by HR file)."""
    lrs = given or {}
    return read_ahead(
        paths,
        lambda p: make_pair(
            p, scale, protocol, device, precompute, host_arrays=host_arrays, given=lrs.get(p)
        ),
        workers=workers,
    )


__all__ = [
    "GivenLR",
    "given_files",
    "Pair",
    "given_lr",
    "degraded_lr",
    "image_batch",
    "image_tensor",
    "make_pair",
    "hr_lr_pairs",
    "liif_pair",
    "metasr_crops",
    "on_host",
    "protocol_hr",
    "read_ahead",
]
