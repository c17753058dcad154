"""How the classic Y-channel networks were tested by their authors: data preparation, the network
call, and the scores, as separate pure functions (to be folded into the ``srcnn``/``lapsrn``
protocols of :mod:`srbench_eval.protocol`).

The network-facing part is one function, :func:`run_y`: ``(network, y) -> sr_y``, where ``y`` is
``(N, 1, h, w)`` luma in [0, 1] (MATLAB ``rgb2ycbcr`` / 255): the LR Y for networks that upscale
themselves (FSRCNN, LapSRN), the bicubic-upscaled Y for those that take a pre-upsampled input
(SRCNN, VDSR; ``LoadedNetwork.upsampled_input``). It returns the SR Y, float, unclipped.

Two preparations, each that of the authors' test code:

* :func:`srcnn_pipeline` (SRCNN ``demo_SR.m``, FSRCNN ``test_FSRCNN.m``, VDSR; the oracle README's
  "Y-only, double" variant)::

      Y_HR = rgb2ycbcr(uint8 HR)(:, :, 1)      uint8, rounded; a grey image is its own Y
      Y_HR = modcrop(Y_HR, s) / 255
      Y_LR = imresize(Y_HR, 1/s, 'bicubic')    double, not rounded
      input = Y_LR, or imresize(Y_LR, s, 'bicubic') for pre-upsampled networks
      scored: PSNR / SSIM (Wang's ssim_index) of 255 * Y_SR (rounded with ``round_sr``) against
              255 * Y_HR, ``scale`` pixels cropped on each side

* :func:`lapsrn_pipeline` (LapSRN ``test_LapSRN.m`` + ``SR_LapSRN.m``)::

      HR = modcrop(im2double(HR RGB), s)       a grey image replicated to RGB
      LR = imresize(HR, 1/s, 'bicubic')        RGB, double, not rounded
      YCbCr_LR = rgb2ycbcr(LR); Y_SR = net(Y_LR); CbCr_SR = imresize(CbCr_LR, s)
      SR = im2uint8(ycbcr2rgb([Y_SR, CbCr_SR]))   quantised RGB
      scored on float Y = rgb2ycbcr(im2double(.)) of SR and HR, crop ``s``: PSNR and MATLAB's
      built-in ``ssim`` (:func:`ssim_matlab_builtin`)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from srbench_eval.data.degrade import imresize, round_uint8
from srbench_eval.data.images import modcrop
from srbench_eval.metrics.fidelity import Y_OFFSET, Y_WEIGHTS, gaussian_window, psnr, ssim

_T = np.array([Y_WEIGHTS, (-37.797, -74.203, 112.0), (112.0, -93.786, -18.214)])  # MATLAB rgb2ycbcr
_OFFSET = np.array([Y_OFFSET, 128.0, 128.0])


@torch.no_grad()
def run_y(network: torch.nn.Module, y: torch.Tensor) -> torch.Tensor:
    """The network on a ``(N, 1, h, w)`` Y batch in [0, 1], in the network's dtype; float64 SR Y out."""
    p = next(network.parameters(), None)
    dtype = p.dtype if p is not None else torch.float32
    device = p.device if p is not None else y.device
    return network(y.to(device=device, dtype=dtype)).to(torch.float64).cpu()


def rgb2ycbcr(rgb: np.ndarray) -> np.ndarray:
    """MATLAB ``rgb2ycbcr`` of ``(H, W, 3)`` double RGB in [0, 1] -> YCbCr in [0, 1] (float64)."""
    return rgb @ (_T.T / 255.0) + _OFFSET / 255.0


def ycbcr2rgb(ycc: np.ndarray) -> np.ndarray:
    """MATLAB ``ycbcr2rgb`` of double YCbCr in [0, 1]: ``255 T^-1 (YCbCr - offset / 255)``."""
    return (ycc - _OFFSET / 255.0) @ (255.0 * np.linalg.inv(_T)).T


def y_uint8(img: np.ndarray) -> np.ndarray:
    """Rounded Y of a uint8 image, as ``rgb2ycbcr`` of a ``uint8`` array returns it; grey = its own Y."""
    if img.ndim == 2:
        return img.astype(np.float64)
    y = rgb2ycbcr(img.astype(np.float64) / 255.0)[..., 0] * 255.0
    return round_uint8(torch.from_numpy(y)).numpy()


def _resize2d(x: np.ndarray, scale: float) -> np.ndarray:
    t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64))
    t = t[None] if x.ndim == 2 else t.permute(2, 0, 1)
    out = imresize(t, scale)
    return (out[0] if x.ndim == 2 else out.permute(1, 2, 0)).numpy()


def _batch(y: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(y))[None, None]


@dataclass
class Scores:
    psnr: float
    ssim: float


def srcnn_inputs(hr: np.ndarray, scale: int, upsampled: bool) -> tuple[torch.Tensor, np.ndarray]:
    """(network input ``(1, 1, h, w)`` in [0, 1], HR Y 0..255 mod-cropped) of the Y-only double pipeline."""
    y_hr = modcrop(y_uint8(hr), scale) / 255.0
    y_lr = _resize2d(y_hr, 1.0 / scale)
    x = _resize2d(y_lr, float(scale)) if upsampled else y_lr
    return _batch(x), y_hr * 255.0


def score_y(sr_y: np.ndarray, hr_y: np.ndarray, scale: int, round_sr: bool) -> Scores:
    """PSNR/SSIM (Wang) of 0..255 Y planes, ``scale`` pixels cropped; SR rounded to uint8 if asked."""
    sr = torch.from_numpy(np.ascontiguousarray(sr_y))[None, None]
    if round_sr:
        sr = round_uint8(sr)
    hr = _batch(hr_y)
    return Scores(float(psnr(sr, hr, scale)[0]), float(ssim(sr, hr, scale)[0]))


def srcnn_pipeline(
    network: torch.nn.Module, upsampled: bool, hr: np.ndarray, scale: int, round_sr: bool = True
) -> Scores:
    """One HR image (uint8, grey or RGB) through the Y-only double pipeline (module docstring)."""
    x, y_hr = srcnn_inputs(hr, scale, upsampled)
    sr = run_y(network, x)[0, 0].numpy() * 255.0
    if sr.shape != y_hr.shape:
        raise ValueError(f"network output {sr.shape} does not match the HR Y {y_hr.shape}")
    return score_y(sr, y_hr, scale, round_sr)


def ssim_matlab_builtin(a: np.ndarray, b: np.ndarray, data_range: float = 255.0) -> float:
    """MATLAB's built-in ``ssim(A, B)`` of two planes: 11x11 Gaussian (sigma 1.5) local statistics
    with replicated borders over the whole image (not Wang's 'valid' region), mean of the map::

        ((2 mu_a mu_b + C1)(2 s_ab + C2)) / ((mu_a^2 + mu_b^2 + C1)(s_a^2 + s_b^2 + C2)),
        C1 = (0.01 L)^2, C2 = (0.03 L)^2
    """
    g = gaussian_window()
    k = (g[:, None] * g[None, :])[None, None]
    x = torch.from_numpy(np.stack([a, b, a * a, b * b, a * b]).astype(np.float64))[:, None]
    x = torch.nn.functional.pad(x, (5, 5, 5, 5), mode="replicate")
    mu_a, mu_b, aa, bb, ab = torch.nn.functional.conv2d(x, k)[:, 0]
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    num = (2 * mu_a * mu_b + c1) * (2 * (ab - mu_a * mu_b) + c2)
    den = (mu_a**2 + mu_b**2 + c1) * (aa - mu_a**2 + bb - mu_b**2 + c2)
    return float((num / den).mean())


def score_as_authors(entry: object, network: torch.nn.Module, hr: np.ndarray, scale: int) -> Scores:
    """One HR image through the pipeline of ``entry.protocol`` (``srcnn`` or ``lapsrn``)."""
    protocol = getattr(entry, "protocol", "")
    if protocol == "lapsrn":
        return lapsrn_pipeline(network, hr, scale)
    if protocol == "srcnn":
        return srcnn_pipeline(network, bool(getattr(entry, "upsampled_input", False)), hr, scale)
    raise ValueError(f"no Y-channel test pipeline for protocol {protocol!r} (have: srcnn, lapsrn)")


def lapsrn_pipeline(network: torch.nn.Module, hr: np.ndarray, scale: int) -> Scores:
    """One HR image (uint8) through LapSRN's own test code (module docstring)."""
    rgb = hr if hr.ndim == 3 else np.repeat(hr[..., None], 3, axis=2)
    gt = modcrop(rgb, scale).astype(np.float64) / 255.0
    lr = _resize2d(gt, 1.0 / scale)
    ycc_lr = rgb2ycbcr(lr)
    y_sr = run_y(network, _batch(ycc_lr[..., 0]))[0, 0].numpy()
    ycc_sr = _resize2d(ycc_lr, float(scale))
    ycc_sr[..., 0] = y_sr
    sr = round_uint8(torch.from_numpy(ycbcr2rgb(ycc_sr) * 255.0)).numpy() / 255.0
    y_gt = rgb2ycbcr(gt)[..., 0] * 255.0
    y_out = rgb2ycbcr(sr)[..., 0] * 255.0
    c = slice(scale, -scale)
    y_gt, y_out = y_gt[c, c], y_out[c, c]
    p = float(psnr(_batch(y_out), _batch(y_gt), 0)[0])
    return Scores(p, ssim_matlab_builtin(y_out, y_gt))
