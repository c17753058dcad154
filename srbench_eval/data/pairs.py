"""HR/LR test pairs of the protocol, prepared ahead of use in background threads.

For an HR image file and a :class:`~srbench_eval.protocol.Protocol`: ``HR = modcrop(read(file), scale)``
(a grey image replicated to RGB, or RGB reduced to its rounded Y plane, where the protocol says so:
:func:`protocol_hr`) and ``LR = degrade(HR)`` (MATLAB bicubic,
:func:`srbench_eval.data.degrade.bicubic.degrade`,
always on the CPU), as ``(1, C, H, W)`` batches of 0..255 values: ``float32`` integers, or ``float64``
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
from srbench_eval.data.degrade.bicubic import degrade
from srbench_eval.data.degrade.scale_rule import metasr_sizes
from srbench_eval.data.io.images import modcrop, read_image
from srbench_eval.errors import SrbenchError
from srbench_eval.protocol import Protocol

if TYPE_CHECKING:
    import torch

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
    scale (``modcrop``; not under Meta-SR's size rule, :func:`metasr_crops`), a grey image replicated
    to RGB (``grey = rgb``), and for the Y-only pipeline (``y-double``) the rounded Y plane
    ``uint8(rgb2ycbcr(HR))`` (a grey image is its own Y)."""
    img = protocol_grey(img, protocol.grey)
    if protocol.modcrop and not protocol.metasr_sizes(scale):
        img = modcrop(img, scale)
    if protocol.y_only and img.ndim == 3:
        y = luma(image_batch(img), "rounded")
        img = y[0, 0].astype(np.uint8)
    return np.ascontiguousarray(img)


def metasr_crops(img: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Meta-SR's ``(resized, scored)`` HR regions of an HR image (:func:`metasr_sizes`): the top-left
    region ``imresize`` reads (a side ``n`` with ``mod(n, s) ~= 0`` minus 4) and the one scored
    (``int(lr * s)`` per side, at most the image)."""
    sizes = metasr_sizes(img.shape[0], img.shape[1], scale)
    (rh, rw), (sh, sw) = sizes.resized_hr, sizes.scored_hr
    return np.ascontiguousarray(img[:rh, :rw]), np.ascontiguousarray(img[:sh, :sw])


def _hr_and_lr(path: Path, img: np.ndarray, scale: float, protocol: Protocol) -> tuple[Image, Image]:
    """``(HR scored, LR)`` batches: mod-crop rule (the HR must be a multiple of the scale) or Meta-SR's."""
    if protocol.metasr_sizes(scale):
        if not protocol.modcrop:
            raise SrbenchError(
                f"{path}: x{scale} needs Meta-SR's size rule, which crops the HR; drop modcrop=false"
            )
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
) -> Pair:
    """Read, mod-crop and degrade one HR image under ``protocol``; refuse one too small for the scale
    and the protocol's border crop.

    ``precompute`` maps names to functions of the HR tensor whose results go to :attr:`Pair.extra`
    (the metrics' HR-only work, :meth:`srbench_eval.metrics.base.Metric.reference`); an image a
    metric refuses there (too small for SSIM's window after the crop) is a one-line error naming it.
    ``host_arrays``: NumPy arrays instead of tensors when ``device`` is the CPU.
    """
    img = protocol_hr(read_image(path), scale, protocol)
    border = protocol.crop(scale)
    if min(img.shape[:2]) < scale * 2 + 2 * border:
        raise SrbenchError(
            f"{path}: {img.shape[1]}x{img.shape[0]} is too small for x{scale} "
            f"with a {border}-pixel border crop"
        )
    # The LR image is made on the CPU whatever the device, so every device scores the same input.
    hr, lr = _hr_and_lr(path, img, scale, protocol)
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
) -> Iterator[Pair]:
    """The :class:`Pair` of every HR file under ``protocol``, in order, prepared ahead by
    :func:`read_ahead` (``host_arrays``: as :func:`make_pair`)."""
    return read_ahead(
        paths,
        lambda p: make_pair(p, scale, protocol, device, precompute, host_arrays=host_arrays),
        workers=workers,
    )


__all__ = [
    "Pair",
    "image_batch",
    "image_tensor",
    "make_pair",
    "hr_lr_pairs",
    "metasr_crops",
    "on_host",
    "protocol_hr",
    "read_ahead",
]
