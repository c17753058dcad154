"""MATLAB-compatible bicubic resizing and the bicubic degradation of the SR benchmarks.

The published tables made their low-resolution inputs with MATLAB's ``imresize(hr, 1/s, 'bicubic')``
and their bicubic baseline with ``imresize(lr, s, 'bicubic')``. Neither ``cv2.resize``, PIL nor
``torch.nn.functional.interpolate`` reproduces it (no antialiasing, other borders), so it is
re-implemented here with MATLAB's conventions:

* Kernel: Keys' cubic convolution with ``a = -0.5``::

      k(x) = 1.5|x|^3 - 2.5|x|^2 + 1                 for |x| <= 1
           = -0.5|x|^3 + 2.5|x|^2 - 4|x| + 2         for 1 < |x| <= 2
           = 0                                       otherwise

* Antialiasing when downscaling (scale ``s < 1``): the kernel is stretched to ``s * k(s * x)``, so
  its support widens from 4 to ``4 / s`` input samples.
* Output size ``ceil(in * s)``; output sample ``i`` (1-based) sits at input coordinate
  ``u = i / s + 0.5 * (1 - 1 / s)`` and takes the ``ceil(width) + 2`` input samples from
  ``floor(u - width / 2)`` on, each weighted by ``k(u - j)``; the weights of every output sample are
  divided by their sum.
* Borders: indices outside ``1..n`` are mirrored with the edge sample repeated
  (``[1:n, n:-1:1]`` read cyclically, NumPy's ``'symmetric'`` padding): ``border="symmetric"``.
  The older MATLAB ``imresize`` that made RCAN's LRBI and SelfExSR's LR images clamped them to the
  edge sample instead (``border="clamp"``, replicated borders); only the outermost output samples
  differ.
* The taps (input samples and weights of every output sample) are computed in NumPy by
  :mod:`srbench_eval.data.degrade.taps`, which also holds the kernel, the output size and the border rule.
* Separable: MATLAB resizes the dimension with the smaller scale first and, for equal scales (the
  only case here), dimension 1 then dimension 2: height, then width.

Arithmetic is ``float64`` throughout. :func:`imresize` neither clips nor rounds (MATLAB's behaviour
on a ``double`` input); :func:`imresize_uint8` rounds and saturates after each 1-D pass the way MATLAB
does on a ``uint8`` image (half away from zero), which is how the benchmark LR images and the
bicubic baseline were made; :func:`degrade_bicubic` uses it.

On the CPU (tensors that need no gradient) the two passes run in the compiled kernels of
:mod:`srbench_eval.data.degrade.resize_kernels`, about 3x faster than the sparse matrix products used on
other devices and for autograd; both compute the same float64 sums and agree exactly on the
protocol's scales (``tests/data/test_resize_kernels.py``).
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from srbench_eval.compiled import as_array, is_tensor, takes_compiled_path
from srbench_eval.data.degrade import resize_kernels, taps
from srbench_eval.data.degrade.taps import BORDERS as BORDERS
from srbench_eval.data.degrade.taps import KERNEL_WIDTH as KERNEL_WIDTH
from srbench_eval.data.degrade.taps import cubic_kernel as cubic_kernel
from srbench_eval.data.degrade.taps import mirror_index as mirror_index
from srbench_eval.data.degrade.taps import output_length
from srbench_eval.data.io.images import modcrop

if TYPE_CHECKING:
    import torch

    from srbench_eval.protocol import Protocol

    Image = np.ndarray | torch.Tensor  # an (N, C, H, W) batch: a NumPy array on the CPU, or a tensor

_WARNINGS_LOCK = threading.Lock()


@lru_cache(maxsize=256)
def resize_taps(
    in_length: int, out_length: int, scale: float, border: str = "symmetric"
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`srbench_eval.data.degrade.taps.resize_taps` as tensors: weights ``(out, P)`` (float64) and
    0-based input indices ``(out, P)`` (int64) of a 1-D resize, copies of the NumPy taps (which are
    read-only), so writing into them changes neither."""
    import torch

    weights, index = taps.resize_taps(in_length, out_length, scale, border)
    return torch.from_numpy(weights.copy()), torch.from_numpy(index.copy())


@lru_cache(maxsize=256)
def resize_matrices(
    in_length: int, out_length: int, scale: float, device: torch.device, border: str = "symmetric"
) -> tuple[torch.Tensor, torch.Tensor]:
    """The 1-D resize as a sparse ``(out, in)`` matrix ``A`` and its transpose, float64 on ``device``.

    Resizing the rows of an ``(H, W)`` plane is ``A @ plane``; resizing its columns is
    ``plane @ A.T``. Both products keep the memory layout row-major, so no transposes are copied.
    Duplicate indices (two taps mirrored onto one border sample) are summed. CSR where the device
    supports it (CPU, CUDA), dense elsewhere.
    """
    import torch

    weights, index = resize_taps(in_length, out_length, scale, border)
    rows = torch.arange(out_length).repeat_interleave(index.shape[1])
    # catch_warnings swaps the process-wide filter list; the lock keeps two threads (the evaluation
    # loop's read-ahead threads and its main thread) from restoring each other's copies.
    with _WARNINGS_LOCK, warnings.catch_warnings():
        # torch flags its sparse layouts as beta and warns about invariant checks; both are moot here.
        warnings.filterwarnings("ignore", message=".*[Ss]parse.*", category=UserWarning)
        coo = torch.sparse_coo_tensor(
            torch.stack((rows, index.reshape(-1))),
            weights.reshape(-1),
            (out_length, in_length),
            check_invariants=True,
        ).coalesce()
        if device.type not in ("cpu", "cuda"):
            dense = coo.to_dense().to(device)
            return dense, dense.T.contiguous()
        return coo.to_sparse_csr().to(device), coo.t().coalesce().to_sparse_csr().to(device)


def _resize_planes(
    planes: torch.Tensor,
    scale: float,
    between: Callable[[torch.Tensor], torch.Tensor] | None = None,
    border: str = "symmetric",
) -> torch.Tensor:
    """Resize a float64 ``(P, H, W)`` stack of planes: rows first, then columns (MATLAB's order).

    ``between`` is applied to the intermediate result of the first pass (MATLAB's ``uint8`` rounding).
    """
    import torch

    n, h, w = planes.shape
    out_h, out_w = output_length(h, scale), output_length(w, scale)
    rows_mat, _ = resize_matrices(h, out_h, scale, planes.device, border)
    _, cols_mat_t = resize_matrices(w, out_w, scale, planes.device, border)
    # Sparse @ dense per plane (the sparse kernels take 2-D operands), then one dense @ sparse.
    tall = torch.stack([rows_mat @ plane for plane in planes.unbind(0)])
    if between is not None:
        tall = between(tall)
    return (tall.reshape(n * out_h, w) @ cols_mat_t).reshape(n, out_h, out_w)


@lru_cache(maxsize=256)
def _width_plan(
    in_length: int, out_length: int, scale: float, border: str = "symmetric"
) -> resize_kernels.PeriodicPlan | None:
    if border != "symmetric":
        return None  # the plan pads by mirroring; clamped taps take the gather kernel
    weights, index = taps.resize_taps(in_length, out_length, scale, border)
    return resize_kernels.periodic_plan(weights, index, in_length, scale)


_ROUNDING_MODES = {None: 0, "half-away": 1, "half-even": 2}  # the kernels' rounding argument


def _resize_planes_compiled(
    planes: np.ndarray, scale: float, rounding: bool, border: str = "symmetric", final: str | None = None
) -> np.ndarray:
    """:func:`_resize_planes` of a ``(P, H, W)`` float32/float64 CPU array by the compiled kernels of
    :mod:`~srbench_eval.data.degrade.resize_kernels`: float64 sums, the same taps and order;
    ``rounding`` rounds
    after each pass (``uint8`` arithmetic), ``final`` (``half-away`` or ``half-even``) rounds the result
    of the last pass only (a double resize rounded once), both saturating to 0..255. Returns float64,
    or float32 when rounded (exact)."""
    n, h, w = planes.shape
    out_h, out_w = output_length(h, scale), output_length(w, scale)
    first_mode = 1 if rounding else 0
    last_mode = 1 if rounding else _ROUNDING_MODES[final]
    weights, index = taps.resize_taps(h, out_h, scale, border)
    tall = np.empty((n, out_h, w), np.float32 if rounding else np.float64)
    resize_kernels.resize_rows(planes, weights, index, tall, first_mode)
    out = np.empty((n, out_h, out_w), np.float32 if last_mode else np.float64)
    plan = _width_plan(w, out_w, scale, border)
    if plan is None:
        weights, index = taps.resize_taps(w, out_w, scale, border)
        resize_kernels.resize_cols_gather(tall, weights, index, out, last_mode)
    else:
        resize_kernels.resize_cols(
            tall, plan.phase_weights, plan.first, plan.r, plan.pad_lo, plan.pad_hi, out, last_mode
        )
    return out


def imresize(x: Image, scale: float, *, border: str = "symmetric") -> Image:
    """MATLAB ``imresize(x, scale, 'bicubic')`` of a ``(C, H, W)`` or ``(N, C, H, W)`` float tensor
    (or NumPy array).

    Computed in float64 on ``x``'s device and returned in ``x``'s dtype, kind and layout, unclipped and
    unrounded. The output is ``ceil(H * scale) x ceil(W * scale)``; see the module docstring for the
    kernel and the border conventions.
    """
    if x.ndim not in (3, 4):
        raise ValueError(f"imresize takes (C, H, W) or (N, C, H, W) tensors, got {tuple(x.shape)}")
    if not (x.is_floating_point() if is_tensor(x) else np.issubdtype(x.dtype, np.floating)):
        raise TypeError(f"imresize takes a float tensor, got {x.dtype}")
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    return _resize(x, float(scale), rounding=False, border=border)


def round_uint8(x: Image) -> Image:
    """MATLAB's conversion to ``uint8`` values: round half away from zero, saturate to 0..255.

    Keeps ``x``'s float dtype and kind (tensor or array; torch's own ``round`` rounds half to even,
    which differs on the exact halves that bicubic weights of the form k/128 produce).
    """
    if not is_tensor(x):
        return np.clip(np.floor(x + 0.5), 0.0, 255.0)
    return (x + 0.5).floor_().clamp_(0.0, 255.0)


def _round_uint8_(x: torch.Tensor) -> torch.Tensor:
    """:func:`round_uint8` in place, for intermediate results nobody else holds."""
    return x.add_(0.5).floor_().clamp_(0.0, 255.0)


def imresize_uint8(x: Image, scale: float, *, border: str = "symmetric") -> Image:
    """MATLAB ``imresize(x, scale, 'bicubic')`` of a ``uint8`` image, on float tensors of 0..255 values.

    MATLAB resizes one dimension at a time and its resize kernel returns the class of its input, so
    a ``uint8`` image is rounded (half away from zero) and saturated after *each* 1-D pass, not only
    at the end. This is what the benchmark scripts computed: the HR and LR images they resized were
    ``uint8`` arrays from ``imread``. ``x`` is ``(C, H, W)`` or ``(N, C, H, W)`` holding integers
    0..255; the result holds integers 0..255, in ``x``'s dtype.
    """
    if x.ndim not in (3, 4):
        raise ValueError(f"imresize_uint8 takes (C, H, W) or (N, C, H, W) tensors, got {tuple(x.shape)}")
    return _resize(x, float(scale), rounding=True, border=border)


def _resize(
    x: Image,
    scale: float,
    *,
    rounding: bool,
    border: str = "symmetric",
    dtype: str | None = None,
    final: str | None = None,
) -> Image:
    """Both 1-D passes of a ``(..., H, W)`` tensor or array, rows (H) then columns (W), MATLAB's order
    when both dimensions share one scale; ``rounding`` after each pass. The compiled kernels take
    NumPy arrays and CPU tensors that need no gradient, the sparse matrix products everything else;
    the result is in ``dtype`` (``"float32"``/``"float64"``; default ``x``'s), ``x``'s kind (array or
    tensor) and layout. Both paths compute in float64 whatever ``x``'s dtype (the kernels convert each
    float32 sample as they read it, exactly), so ``_resize(x, dtype="float64")`` is
    ``imresize(x.to(float64))`` without the float64 copy of ``x``. ``final`` (``half-away`` or
    ``half-even``) rounds and saturates the float64 result once (in the kernels' last pass on the
    compiled path), so that it holds 0..255 integers."""
    if takes_compiled_path(x):
        planes = as_array(x).reshape(-1, *x.shape[-2:])
        out = _resize_planes_compiled(planes, scale, rounding, border, final)
        out = out.reshape(*x.shape[:-2], *out.shape[-2:])
        if not is_tensor(x):
            return out.astype(dtype or x.dtype, copy=False)
        import torch

        return torch.from_numpy(out).to(getattr(torch, dtype) if dtype else x.dtype)
    import torch

    planes = x.to(torch.float64).reshape(-1, *x.shape[-2:]).contiguous()
    if rounding:
        out = _round_uint8_(_resize_planes(planes, scale, between=_round_uint8_, border=border))
    else:
        out = _resize_planes(planes, scale, border=border)
        if final == "half-even":
            out = out.round_().clamp_(0.0, 255.0)
        elif final == "half-away":
            out = _round_uint8_(out)
    return out.reshape(*x.shape[:-2], *out.shape[-2:]).to(getattr(torch, dtype) if dtype else x.dtype)


def degrade_bicubic_tensor(hr: Image, scale: int, *, uint8_passes: bool = True) -> Image:
    """Batched bicubic degradation of mod-cropped HR images holding 0..255 values.

    ``hr`` is ``(N, C, H, W)`` float with ``H`` and ``W`` multiples of ``scale``; returns the LR batch
    ``uint8(imresize(hr, 1 / scale))`` in ``hr``'s dtype: MATLAB's result on a ``uint8`` image
    (:func:`imresize_uint8`, rounded after each pass). ``uint8_passes=False`` resizes in float and
    rounds once at the end (MATLAB's result on a ``double`` image, rounded); it moves a few LR pixels
    by one grey level and the bicubic table by up to 0.01 dB (``benchmarks/README.md``).
    """
    if hr.ndim != 4:
        raise ValueError(f"degrade_bicubic_tensor takes (N, C, H, W) batches, got {tuple(hr.shape)}")
    if hr.shape[-2] % scale or hr.shape[-1] % scale:
        raise ValueError(f"HR size {tuple(hr.shape[-2:])} is not a multiple of the scale {scale}; modcrop it")
    if uint8_passes:
        return imresize_uint8(hr, 1.0 / scale)
    return _resize(hr, 1.0 / scale, rounding=False, final="half-away")  # round_uint8(imresize(hr, 1/s))


def degrade_bicubic(hr: np.ndarray, scale: int, *, uint8_passes: bool = True) -> np.ndarray:
    """The LR image of the benchmarks: ``uint8(imresize(modcrop(hr, scale), 1 / scale, 'bicubic'))``.

    ``hr`` is a ``(H, W)`` grey or ``(H, W, 3)`` RGB ``uint8`` array; the result has the same layout.
    For ``uint8_passes`` see :func:`degrade_bicubic_tensor`.
    """
    if hr.dtype != np.uint8 or hr.ndim not in (2, 3):
        raise ValueError(f"degrade_bicubic takes (H, W) or (H, W, C) uint8 arrays, got {hr.dtype} {hr.shape}")
    hr = modcrop(hr, scale)
    planes = (hr[None] if hr.ndim == 2 else hr.transpose(2, 0, 1)).astype(np.float64)
    lr = degrade_bicubic_tensor(planes[None], scale, uint8_passes=uint8_passes)[0]
    lr = lr[0] if hr.ndim == 2 else lr.transpose(1, 2, 0)
    return np.ascontiguousarray(lr.astype(np.uint8))


def upscale_bicubic(lr: Image, scale: int) -> Image:
    """MATLAB ``imresize(lr, scale, 'bicubic')`` in float, unrounded (the input of SRCNN, LapSRN's
    coarse levels). The ``bicubic`` baseline of the tables is :func:`imresize_uint8` of the LR image."""
    return imresize(lr, float(scale))


def degrade(hr: Image, scale: float, protocol: Protocol, *, whole: bool = True) -> Image:
    """The LR batch of a protocol from a mod-cropped ``(N, C, H, W)`` HR batch of 0..255 values
    (:func:`srbench_eval.data.pairs.protocol_hr` made it the protocol's HR: RGB, grey or Y):

    * ``uint8-passes``: ``imresize_uint8(hr, 1/s)``, rounded after each pass (today's default);
    * ``double-round``: ``uint8(imresize(hr, 1/s))`` in double, rounded once;
    * ``double`` and ``y-double``: ``imresize(hr, 1/s)`` in double, not rounded (float64 result).

    with the protocol's border rule. Rounded results keep ``hr``'s dtype. ``whole``: the HR sides must
    be multiples of ``scale`` (mod-cropped); ``False`` for Meta-SR's rule, where the LR has MATLAB's
    ``ceil(n * (1 / s))`` samples per side (:func:`srbench_eval.data.degrade.scale_rule.lr_length`).
    """
    if hr.ndim != 4:
        raise ValueError(f"degrade takes (N, C, H, W) batches, got {tuple(hr.shape)}")
    if whole and (hr.shape[-2] % scale or hr.shape[-1] % scale):
        raise ValueError(f"HR size {tuple(hr.shape[-2:])} is not a multiple of the scale {scale}; modcrop it")
    if protocol.degradation == "uint8-passes":
        return imresize_uint8(hr, 1.0 / scale, border=protocol.border)
    if protocol.degradation == "double-round":
        return _resize(hr, 1.0 / scale, rounding=False, border=protocol.border, final=protocol.rounding)
    return _resize(hr, 1.0 / scale, rounding=False, border=protocol.border, dtype="float64")


def bicubic_sr(lr: Image, scale: int, protocol: Protocol) -> Image:
    """The "Bicubic" column under a protocol: ``imresize(lr, s)`` with the protocol's arithmetic and
    borders (uint8 passes for ``uint8-passes``, else double), then quantised as its SR images are
    (:func:`quantise_sr`)."""
    if protocol.degradation == "uint8-passes":
        return imresize_uint8(lr, float(scale), border=protocol.border)
    if protocol.sr_quantisation == "round":  # rounded once, in the last pass: 0..255 integers (float32)
        return _resize(
            lr,
            float(scale),
            rounding=False,
            border=protocol.border,
            dtype="float32",
            final=protocol.rounding,
        )
    return quantise_sr(
        _resize(lr, float(scale), rounding=False, border=protocol.border, dtype="float64"), protocol
    )


def _round(x: Image, protocol: Protocol) -> Image:
    """0..255 integers: :func:`round_uint8` (half away from zero) or, for ``rounding="half-even"``,
    ``clip(round(x))`` with ties to even (NumPy's and torch's ``round``)."""
    if protocol.rounding == "half-even":
        return x.round().clamp_(0.0, 255.0) if is_tensor(x) else np.clip(np.rint(x), 0.0, 255.0)
    return round_uint8(x)


def _float64(x: Image) -> Image:
    """``x`` in float64, its kind (array or tensor) kept."""
    return x.double() if is_tensor(x) else x.astype(np.float64)


def quantise_sr(sr: Image, protocol: Protocol) -> Image:
    """SR values 0..255 as the protocol's authors saved or scored them: rounded (``round``, by the
    protocol's ``rounding`` rule), truncated (``truncate``), both saturated to 0..255, saturated only
    (``clamp``: LIIF's ``pred.clamp_(0, 1)``, float64), or unchanged in float64 (``none``)."""
    if protocol.sr_quantisation == "clamp":
        return _float64(sr).clamp(0.0, 255.0) if is_tensor(sr) else np.clip(_float64(sr), 0.0, 255.0)
    if protocol.sr_quantisation == "round":
        return _round(_float64(sr), protocol)
    if protocol.sr_quantisation == "truncate":
        floor = _float64(sr).floor() if is_tensor(sr) else np.floor(_float64(sr))
        return floor.clamp_(0.0, 255.0) if is_tensor(sr) else np.clip(floor, 0.0, 255.0)
    return _float64(sr)
