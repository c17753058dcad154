"""Every colour conversion of the package: YCbCr both ways, the protocol's Y rules, grey images.

MATLAB's ``rgb2ycbcr`` (ITU-R BT.601, studio range) of RGB on [0, 1], in 0..255 units::

      Y  =  16 + ( 65.481 R + 128.553 G +  24.966 B)
      Cb = 128 + (-37.797 R -  74.203 G + 112.000 B)        (Y in 16..235, Cb and Cr in 16..240)
      Cr = 128 + (112.000 R -  93.786 G -  18.214 B)

and ``ycbcr2rgb`` its inverse (:data:`YCBCR_MATRIX`, :data:`YCBCR_OFFSET`). The SR protocols
(:mod:`srbench_eval.protocol`) score the Y channel by one of three rules (:func:`luma`): ``float``
(the sum in float64, not rounded), ``rounded`` (half away from zero, as MATLAB returns it for a
``uint8`` image) or ``float32`` (BasicSR's ``bgr2ycbcr`` of float32 ``img / 255``). A 1-channel image
is its own Y under every rule; the protocol's ``grey = rgb`` replicates it to RGB first
(:func:`protocol_grey`, ``Y = 16 + 219 g / 255``). Two other greys are named here because they are
not the protocol's Y: MATLAB's ``rgb2gray`` (:func:`rgb2gray_uint8`, the plane some IQA oracles
used) and BT.601's ``0.299 R + 0.587 G + 0.114 B`` (:func:`display_grey`, figures only).

The functions take ``(N, C, H, W)`` batches as NumPy arrays or torch tensors and return the same
kind; torch is imported inside the functions that need it, so importing this module never loads it.
Every operation keeps the order of the code it replaced (the published numbers are bit-identical).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, get_args

import numpy as np

from srbench_eval.compiled import is_tensor, like, takes_compiled_path

if TYPE_CHECKING:
    import torch

    Image = np.ndarray | torch.Tensor  # an (N, C, H, W) batch

YRule = Literal[
    "float", "rounded", "float32", "yiq", "bt601-64.738", "bt601-65.738", "rgb", "pyiqa-yiq", "pyiqa-ycbcr"
]

DATA_RANGE = 255.0
"""The peak value of the 8-bit images the protocols score (all values here are in 0..255 units)."""
Y_WEIGHTS = (65.481, 128.553, 24.966)
"""MATLAB ``rgb2ycbcr``'s Y row, for RGB on [0, 1] (divide by :data:`DATA_RANGE` for 0..255 RGB)."""
Y_OFFSET = 16.0
YCBCR_MATRIX = ((65.481, 128.553, 24.966), (-37.797, -74.203, 112.0), (112.0, -93.786, -18.214))
YCBCR_OFFSET = (16.0, 128.0, 128.0)
RGB2GRAY_WEIGHTS = tuple(
    float.fromhex(h) for h in ("0x1.321c48cc36666p-2", "0x1.2c90e8ec38c29p-1", "0x1.d307956d60528p-4")
)
"""MATLAB ``rgb2gray``: the first row of ``inv([1 .956 .621; 1 -.272 -.647; 1 -1.106 1.703])`` (NTSC
YIQ to RGB), as ``torch.linalg.inv`` gives it (NumPy's inverse differs in the last bit of two
weights; ``tests/test_color.py`` holds these equal to torch's)."""
YIQ_Y_WEIGHTS = (0.299, 0.587, 0.114)
"""The Y row of NTSC YIQ as pyiqa's ``rgb2yiq`` has it (its ``psnr`` with ``test_y_channel``, the
``psnry`` metric): ``Y = 0.299 R + 0.587 G + 0.114 B``, no offset, on RGB in any unit."""
Y_WEIGHTS_256 = (64.738, 129.057, 25.064)
"""The "64.738" Y of super-image (and the SRCNN-PyTorch code it copied):
``Y = 16 + (64.738 R + 129.057 G + 25.064 B) / 256`` for RGB in 0..255 (BT.601 scaled by 256, not 255)."""
Y_WEIGHTS_EDSR = (65.738, 129.057, 25.064)
"""The ``gray_coeffs`` of EDSR's and LIIF's ``calc_psnr`` (yinboc/liif ``utils.py``): the difference
image weighted by ``(65.738, 129.057, 25.064) / 256``, summed over the channels; as a plane,
``Y = 16 + (65.738 R + 129.057 G + 25.064 B) / 256`` (the offset cancels in a difference)."""
PYIQA_YIQ_ROWS = ((0.299, 0.587, 0.114), (0.5959, -0.2746, -0.3213), (0.2115, -0.5227, 0.3112))
"""pyiqa's ``rgb2yiq`` matrix (``utils/color_util.py``), one row per output (Y, I, Q): ``YIQ = M RGB``."""
PYIQA_YCBCR_COLUMNS = ((65.481, -37.797, 112.0), (128.553, -74.203, -93.786), (24.966, 112.0, -18.214))
"""pyiqa's ``rgb2ycbcr`` matrix, a row per *input* channel: ``YCbCr = (RGB^T M + (16, 128, 128)) / 255``."""
DISPLAY_GREY_WEIGHTS = (0.299, 0.587, 0.114)
"""ITU-R BT.601 luma of gamma RGB, unscaled: the grey of :func:`display_grey`."""


def _tensor(x: Image) -> torch.Tensor:
    """A CPU tensor of a NumPy array (a tensor passes)."""
    import torch

    return x if is_tensor(x) else torch.from_numpy(np.ascontiguousarray(x))


def rgb_to_y(x: Image) -> Image:
    """``(N, 1, H, W)`` float64 Y of ``(N, 3, H, W)`` RGB 0..255 images; 1-channel input is Y already.

    The weights are divided by 255 first, as MATLAB's ``rgb2ycbcr`` does for ``double`` input, and
    the sum is ``((R wr + G wg) + B wb) + 16`` in float64 (the channels are converted as they are
    read, which is exact for any float32 input).
    """
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f"rgb_to_y takes (N, 1 or 3, H, W) tensors, got {tuple(x.shape)}")
    if x.shape[1] == 1:
        return x.double() if is_tensor(x) else np.asarray(x, dtype=np.float64)  # no copy of float64
    if not is_tensor(x):
        return rgb_to_y(_tensor(x)).numpy()
    import torch

    wr, wg, wb = (w / DATA_RANGE for w in Y_WEIGHTS)
    y = x[:, 0:1].to(torch.float64, copy=True).mul_(wr)  # a copy even when x is float64 already
    return y.add_(x[:, 1:2], alpha=wg).add_(x[:, 2:3], alpha=wb).add_(Y_OFFSET)


def _luma_float32(x: Image) -> Image:
    """BasicSR's ``to_y_channel``: ``v = float32(x / 255)``, then
    ``Y = float32((24.966 B + 128.553 G + 65.481 R + 16) / 255)`` (the sum in float64), then
    ``float32(Y * 255)``."""
    if takes_compiled_path(x):  # the same arithmetic in a numba kernel, one pass per image
        from srbench_eval.metrics import fidelity_compiled  # numba: compiled on first use

        return like(fidelity_compiled.luma_float32(x), x)
    if not is_tensor(x):
        return _luma_float32(_tensor(x)).numpy()
    import torch

    wr, wg, wb = Y_WEIGHTS
    v = (x.to(torch.float32) / 255.0).to(torch.float64)
    y = v[:, 2:3] * wb + v[:, 1:2] * wg + v[:, 0:1] * wr + Y_OFFSET
    return ((y / DATA_RANGE).to(torch.float32) * 255.0).to(torch.float64)


def luma(x: Image, variant: YRule | str = "float") -> Image:
    """``(N, 1, H, W)`` float64 Y of ``(N, 3, H, W)`` RGB 0..255 images under a protocol's ``y`` rule
    (a 1-channel image is its own Y under every rule):

    * ``float``: :func:`rgb_to_y`, ``Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255``;
    * ``rounded``: that, rounded half away from zero, ``floor(Y + 0.5)`` (MATLAB ``rgb2ycbcr`` of a
      ``uint8`` image; ``Y >= 16`` so half away from zero is half up);
    * ``float32``: BasicSR's ``to_y_channel``: ``x = float32(v / 255)``,
      ``Y = float32((24.966 B + 128.553 G + 65.481 R + 16) / 255)`` (the sum in float64), then
      ``float32(Y * 255)``;
    * ``yiq``: pyiqa's ``psnry`` plane, ``Y = 0.299 R + 0.587 G + 0.114 B`` (:func:`_weighted_luma`);
    * ``bt601-64.738``: super-image's, ``Y = 16 + (64.738 R + 129.057 G + 25.064 B) / 256``;
    * ``bt601-65.738``: EDSR's and LIIF's ``calc_psnr``, ``Y = 16 + (65.738 R + 129.057 G + 25.064 B) / 256``;
    * ``rgb``: no Y at all for PSNR and SSIM, which then score the three channels
      (:mod:`srbench_eval.metrics.fidelity`); the other Y-plane metrics read the ``float`` Y;
    * ``pyiqa-yiq``/``pyiqa-ycbcr``: ``255 Y`` with ``Y`` pyiqa's float32 ``to_y_channel`` of the
      image in [0, 1] (:func:`pyiqa_luma`).
    """
    if variant == "float" or x.shape[1] == 1:
        return rgb_to_y(x)
    if variant == "rounded":
        y = rgb_to_y(x)
        return y.add_(0.5).floor_() if is_tensor(y) else np.floor(y + 0.5)
    if variant == "float32":
        return _luma_float32(x)
    if variant in _WEIGHTED:
        return _weighted_luma(x, variant)
    if variant == "rgb":  # the plane of the Y-plane metrics under y=rgb; PSNR and SSIM score RGB
        return rgb_to_y(x)
    if variant in ("pyiqa-yiq", "pyiqa-ycbcr"):
        return pyiqa_luma(x, variant)
    raise ValueError(f"unknown Y variant {variant!r}: {', '.join(get_args(YRule))}")


_WEIGHTED = {
    "yiq": (YIQ_Y_WEIGHTS, 0.0),
    "bt601-64.738": (tuple(w / 256.0 for w in Y_WEIGHTS_256), Y_OFFSET),
    "bt601-65.738": (tuple(w / 256.0 for w in Y_WEIGHTS_EDSR), Y_OFFSET),
}


def _weighted_luma(x: Image, variant: str) -> Image:
    """The other tools' Y planes, float64, of 0..255 RGB (``R wr + G wg + B wb`` in that order):

    * ``yiq`` (pyiqa ``to_y_channel(img, 1.0, 'yiq')``): ``Y = 0.299 R + 0.587 G + 0.114 B``;
    * ``bt601-64.738`` (super-image ``convert_rgb_to_y``):
      ``Y = 16 + (64.738 R + 129.057 G + 25.064 B) / 256``;
    * ``bt601-65.738`` (EDSR's and LIIF's ``calc_psnr`` ``gray_coeffs``):
      ``Y = 16 + (65.738 R + 129.057 G + 25.064 B) / 256``.
    """
    if not is_tensor(x):
        return _weighted_luma(_tensor(x), variant).numpy()
    import torch

    weights, offset = _WEIGHTED[variant]
    wr, wg, wb = weights
    y = x[:, 0:1].to(torch.float64, copy=True).mul_(wr)
    return y.add_(x[:, 1:2], alpha=wg).add_(x[:, 2:3], alpha=wb).add_(offset)


def pyiqa_luma(x: Image, variant: str) -> Image:
    """pyiqa's Y plane (chaofengc/IQA-PyTorch ``to_y_channel(img, 1.0, color_space)``, unchanged from
    v0.1.4 to v0.1.16) in 0..255 units: ``(N, 1, H, W)`` float64 ``255 Y`` of ``(N, 3, H, W)`` 0..255 RGB.

    pyiqa's inputs are float32 ``v = float32(x) / 255`` (torchvision ``to_tensor``, BasicSR
    ``img2tensor(..) / 255``) and its Y is float32 arithmetic: ``yiq`` (``pyiqa-yiq``, the default
    ``color_space``) ``Y = 0.299 R + 0.587 G + 0.114 B`` and ``ycbcr`` (``pyiqa-ycbcr``)
    ``Y = (65.481 R + 128.553 G + 24.966 B + 16) / 255``, both a ``torch.matmul`` of the
    channels-last image with the 3x3 matrix (:data:`PYIQA_YIQ_ROWS` transposed,
    :data:`PYIQA_YCBCR_COLUMNS`), made here by the same call so that every float32 rounding is
    pyiqa's. ``255 Y`` is exact in float64, and ``float32(255 Y)`` is pyiqa's ``Y * 255`` of its SSIM
    plane (:func:`srbench_eval.metrics.fidelity_pyiqa.ssim_pyiqa` rounds it). A 1-channel image is
    its own Y.
    """
    if x.shape[1] == 1:
        return rgb_to_y(x)
    if not is_tensor(x):
        return pyiqa_luma(_tensor(x), variant).numpy()
    import torch

    v = x.to(torch.float32) / 255.0
    rows = v.permute(0, 2, 3, 1)
    if variant == "pyiqa-yiq":
        out = torch.matmul(rows, torch.tensor(PYIQA_YIQ_ROWS).t().to(v)).permute(0, 3, 1, 2)
    elif variant == "pyiqa-ycbcr":
        bias = torch.tensor([16, 128, 128]).view(1, 3, 1, 1).to(v)
        out = (torch.matmul(rows, torch.tensor(PYIQA_YCBCR_COLUMNS).to(v)).permute(0, 3, 1, 2) + bias) / 255.0
    else:
        raise ValueError(f"unknown pyiqa Y variant {variant!r}: pyiqa-yiq or pyiqa-ycbcr")
    return out[:, 0:1].to(torch.float64) * DATA_RANGE


def rgb_to_ycbcr(x: torch.Tensor) -> torch.Tensor:
    """MATLAB ``rgb2ycbcr`` of ``double`` images, in 0..255 units: ``(N, 3, H, W)`` float64
    ``YCbCr = offset + T (RGB / 255)`` with ``T`` :data:`YCBCR_MATRIX`, ``offset`` (16, 128, 128)."""
    import torch

    t = torch.tensor(YCBCR_MATRIX, dtype=torch.float64, device=x.device) / DATA_RANGE
    offset = torch.tensor(YCBCR_OFFSET, dtype=torch.float64, device=x.device)
    return torch.einsum("pc,nchw->nphw", t, x.to(torch.float64)) + offset[None, :, None, None]


def ycbcr_to_rgb(x: torch.Tensor) -> torch.Tensor:
    """MATLAB ``ycbcr2rgb``, the inverse of :func:`rgb_to_ycbcr`: ``RGB = 255 T^-1 (YCbCr - offset)``,
    0..255 units, float64, neither clipped nor rounded."""
    import torch

    t_inv = torch.linalg.inv(torch.tensor(YCBCR_MATRIX, dtype=torch.float64, device=x.device)) * DATA_RANGE
    offset = torch.tensor(YCBCR_OFFSET, dtype=torch.float64, device=x.device)
    return torch.einsum("pc,nchw->nphw", t_inv, x.to(torch.float64) - offset[None, :, None, None])


def rgb_to_ycbcr_unit(rgb: torch.Tensor) -> torch.Tensor:
    """:func:`rgb_to_ycbcr` on [0, 1]: ``(N, 3, H, W)`` RGB in [0, 1] -> YCbCr / 255 (float64)."""
    import torch

    return rgb_to_ycbcr(rgb.to(torch.float64) * DATA_RANGE) / DATA_RANGE


def ycbcr_to_rgb_unit(ycc: torch.Tensor) -> torch.Tensor:
    """:func:`ycbcr_to_rgb` on [0, 1]: ``(N, 3, H, W)`` YCbCr / 255 -> RGB in [0, 1] (float64)."""
    import torch

    return ycbcr_to_rgb(ycc.to(torch.float64) * DATA_RANGE) / DATA_RANGE


def protocol_grey(img: np.ndarray, grey: str) -> np.ndarray:
    """A decoded ``(H, W)`` or ``(H, W, C)`` image under a protocol's ``grey`` rule: a 2-D grey image
    is kept (``y``: it is its own Y) or replicated to ``(H, W, 3)`` (``rgb``, as ``cv2.imread`` reads
    it: then ``Y = 16 + 219 g / 255``); colour images pass unchanged."""
    if grey not in ("y", "rgb"):
        raise ValueError(f"unknown grey rule {grey!r}: y or rgb")
    if img.ndim == 2 and grey == "rgb":
        return np.repeat(img[:, :, None], 3, axis=2)
    return img


def rgb2gray_uint8(x: torch.Tensor) -> torch.Tensor:
    """MATLAB ``rgb2gray`` of a uint8 image: ``(N, 1, H, W)`` float64 grey plane, rounded half away
    from zero (``0.2989 R + 0.5870 G + 0.1140 B``, :data:`RGB2GRAY_WEIGHTS`); 1-channel input is
    returned as it is."""
    import torch

    if x.shape[1] == 1:
        return x.to(torch.float64)
    wr, wg, wb = RGB2GRAY_WEIGHTS
    g = x[:, 0:1].to(torch.float64) * wr + x[:, 1:2].to(torch.float64) * wg + x[:, 2:3].to(torch.float64) * wb
    return (g + 0.5).floor_()


def display_grey(img: np.ndarray) -> np.ndarray:
    """The float64 grey of an ``(H, W, 3)`` image for figures, ``0.299 R + 0.587 G + 0.114 B``
    (BT.601 luma, unscaled, no offset: not the protocol's Y); an ``(H, W)`` image is its own grey."""
    x = img.astype(np.float64)
    return x if x.ndim == 2 else x @ np.array(DISPLAY_GREY_WEIGHTS)


__all__ = [
    "DATA_RANGE",
    "DISPLAY_GREY_WEIGHTS",
    "PYIQA_YCBCR_COLUMNS",
    "PYIQA_YIQ_ROWS",
    "RGB2GRAY_WEIGHTS",
    "YCBCR_MATRIX",
    "YCBCR_OFFSET",
    "YIQ_Y_WEIGHTS",
    "Y_OFFSET",
    "Y_WEIGHTS",
    "Y_WEIGHTS_256",
    "Y_WEIGHTS_EDSR",
    "display_grey",
    "luma",
    "protocol_grey",
    "pyiqa_luma",
    "rgb2gray_uint8",
    "rgb_to_y",
    "rgb_to_ycbcr",
    "rgb_to_ycbcr_unit",
    "ycbcr_to_rgb",
    "ycbcr_to_rgb_unit",
]
