"""LIIF's low-resolution images: Pillow's bicubic resize of the HR crop (yinboc/liif
``datasets/wrappers.py``, ``resize_fn`` in ``SRImplicitDownsampled``)::

    def resize_fn(img, size):
        return ToTensor()(Resize(size, Image.BICUBIC)(ToPILImage()(img)))

``img`` is the HR crop as ``ToTensor()(Image.open(f).convert('RGB'))`` made it (``uint8 / 255`` in
float32); ``ToPILImage`` turns it back into 8 bits with ``img.mul(255).byte()``, which truncates, but
``float32(v / 255) * 255`` is exactly ``v`` for every ``v`` in 0..255 (``tests/data/test_pil_resize.py``),
so the HR reaches Pillow unchanged. torchvision's ``Resize`` of a PIL image is
``img.resize((w, h), BICUBIC)``: Pillow's separable cubic convolution (``a = -0.5``), antialiased when
downscaling (the kernel stretched by the factor, as MATLAB's ``imresize``), but with pixel-centre
coordinates of its own, clamped borders (only the taps inside the image, renormalised), weights in
fixed point and the intermediate pass rounded to 8 bits: not MATLAB's LR, which is why LIIF's
out-of-range scores are not comparable with MATLAB-made LR at the same scale. ``ToTensor`` gives the
LR back as ``uint8 / 255``: the LR holds 8-bit values.
"""

from __future__ import annotations

import numpy as np

from srbench_eval.errors import SrbenchError


def pil_bicubic(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Pillow's ``Image.resize((w, h), BICUBIC)`` of an ``(H, W)`` or ``(H, W, 3)`` ``uint8`` image to
    ``size = (h, w)``, as an array of the same layout (LIIF's ``resize_fn``)."""
    if img.dtype != np.uint8 or img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] != 3):
        raise ValueError(f"pil_bicubic takes (H, W) or (H, W, 3) uint8 arrays, got {img.dtype} {img.shape}")
    h, w = size
    if h < 1 or w < 1:
        raise SrbenchError(
            f"an LR image of {w}x{h} pixels: the HR image {img.shape[1]}x{img.shape[0]} is too small"
        )
    from PIL import Image  # only LIIF's out-of-range scales need Pillow (6 ms of every run's start)

    out = Image.fromarray(np.ascontiguousarray(img)).resize((w, h), Image.Resampling.BICUBIC)
    return np.asarray(out, dtype=np.uint8).copy()


__all__ = ["pil_bicubic"]
