"""The DN degradation of RDN/RCAN/SRFBN's test sets: bicubic LR plus MATLAB 4's ``randn('seed', 0)`` noise.

``Prepare_TestData_HR_LR.m`` (yulunzhang/RDN, ``RDN_TestCode``; SRFBN's copy) makes the "DN" LR image
of a ``uint8`` HR image (grey replicated to RGB, ``modcrop``-ed) as::

    randn('seed', 0);                                  % re-seeded before every image
    ImDown = single(imresize(HR, 1/s, 'bicubic'));     % the uint8 bicubic LR (BI)
    LR = uint8(ImDown + single(sigma * randn(size(ImDown))))      % sigma = 30

``uint8`` rounds half away from zero and saturates to 0..255; the sum is in single precision.
``randn(size(ImDown))`` fills the ``(H, W, 3)`` array in MATLAB's column-major order (rows fastest,
then columns, then channels).

``randn('seed', s)`` selects MATLAB 4's normal generator (``rng(s, 'v4')``), reproduced here
(:func:`randn_v4`):

* uniforms: Park and Miller's minimal standard generator (CACM 31(10), 1988),
  ``x_{k+1} = 16807 x_k mod (2^31 - 1)``, ``u_k = x_k / (2^31 - 1)``;
* the seed: ``randn('seed', 0)`` sets the state to its startup value ``x_0 = 16807^5 mod (2^31 - 1)
  = 1144108930``; any other seed ``j`` sets ``x_0 = j``;
* normals: Marsaglia and Bray's polar method (SIAM Review 6(3), 1964), one normal per accepted
  pair: ``v1 = 2 u_k - 1``, ``v2 = 2 u_{k+1} - 1``, ``r = v1^2 + v2^2``; pairs with ``r >= 1`` (or 0)
  are rejected; otherwise the normal is ``v1 sqrt(-2 ln r / r)`` and the ``v2`` partner is dropped.

The generator was identified against the released files: the first twelve values equal the
``randn(3, 4)`` printed in MATLAB 4's ``randn`` help (1.1650, 0.6268, 0.0751, 0.3516, ...), and the
resulting DN images equal SRFBN's ``LRDN`` (``../shared/oracles/lr/srfbn-bi-dn``, symmetric-border
bicubic) and RDN's (``lr/rdn-dn``, clamped-border bicubic) pixel for pixel, all five Set5 x3 images
(``tests/data/test_degrade_bd_dn.py``).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from srbench_eval.data.degrade.bicubic import BORDERS, imresize_uint8
from srbench_eval.data.degrade.blur import round_saturate_uint8
from srbench_eval.data.io.images import modcrop
from srbench_eval.errors import SrbenchError

V4_MODULUS = 2**31 - 1
V4_MULTIPLIER = 16807
V4_STARTUP_STATE = pow(V4_MULTIPLIER, 5, V4_MODULUS)  # 1144108930: the state randn('seed', 0) sets
DN_SIGMA = 30.0  # the noise level of RDN/RCAN/SRFBN's DN test sets
_BLOCK = 1 << 16  # uniforms drawn per vectorised step


def v4_state(seed: int) -> int:
    """The generator state ``randn('seed', seed)`` sets: the startup value for 0, else ``seed``."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < V4_MODULUS:
        raise SrbenchError(f"MATLAB 4 randn seed {seed!r} must be an integer in 0..{V4_MODULUS - 1}")
    return V4_STARTUP_STATE if seed == 0 else int(seed)


@lru_cache(maxsize=1)
def _multiplier_powers() -> np.ndarray:
    """``16807^k mod (2^31 - 1)`` for ``k = 1.._BLOCK`` (int64), by doubling."""
    powers = np.array([V4_MULTIPLIER], dtype=np.int64)
    while len(powers) < _BLOCK:
        powers = np.concatenate((powers, powers * powers[-1] % V4_MODULUS))
    return powers[:_BLOCK]


def park_miller(state: int, count: int) -> np.ndarray:
    """The next ``count`` states ``x_{k+1} = 16807 x_k mod (2^31 - 1)`` after ``state`` (int64):
    ``x_{k+j} = x_k 16807^j mod m``, exact in int64 (both factors are below ``2^31``)."""
    out = np.empty(count, dtype=np.int64)
    powers = _multiplier_powers()
    for start in range(0, count, _BLOCK):
        n = min(_BLOCK, count - start)
        out[start : start + n] = state * powers[:n] % V4_MODULUS
        state = int(out[start + n - 1])
    return out


def randn_v4_stream(count: int, seed: int = 0) -> np.ndarray:
    """The first ``count`` values of ``randn`` after ``randn('seed', seed)`` (float64), in order.

    Polar method, one normal per accepted pair of uniforms (see the module docstring)."""
    if count < 0:
        raise SrbenchError(f"randn count {count} must be >= 0")
    state = v4_state(seed)
    parts: list[np.ndarray] = []
    have = 0
    while have < count:
        pairs = max(count - have, 512) * 13 // 10  # pi/4 ~ 79 % of the pairs are accepted
        draws = park_miller(state, 2 * pairs)
        state = int(draws[-1])
        v = 2.0 * (draws / V4_MODULUS) - 1.0
        v1, v2 = v[0::2], v[1::2]
        r = v1 * v1 + v2 * v2
        ok = (r < 1.0) & (r != 0.0)
        v1, r = v1[ok], r[ok]
        parts.append(v1 * np.sqrt(-2.0 * np.log(r) / r))
        have += len(parts[-1])
        # Normals past `count` were drawn from pairs after the last needed one: never used.
    return np.concatenate(parts)[:count] if parts else np.empty(0)


def randn_v4(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """MATLAB ``randn('seed', seed); randn(shape)``: the stream laid out column-major (first index
    fastest), float64."""
    return randn_v4_stream(int(np.prod(shape)), seed).reshape(shape, order="F")


def add_noise_dn(lr: np.ndarray, sigma: float = DN_SIGMA, seed: int = 0) -> np.ndarray:
    """``uint8(single(lr) + single(sigma * randn(size(lr))))`` after ``randn('seed', seed)``: the DN
    step on a ``uint8`` LR image ``(H, W)`` or ``(H, W, C)``; the sum in float32, rounded half away
    from zero and saturated as MATLAB's ``uint8`` does."""
    if lr.dtype != np.uint8 or lr.ndim not in (2, 3):
        raise SrbenchError(f"DN noise takes (H, W) or (H, W, C) uint8 images, got {lr.dtype} {lr.shape}")
    noise = (sigma * randn_v4(lr.shape, seed)).astype(np.float32)
    return round_saturate_uint8((lr.astype(np.float32) + noise).astype(np.float64))


def degrade_dn(
    hr: np.ndarray, scale: int, *, border: str = "symmetric", sigma: float = DN_SIGMA, seed: int = 0
) -> np.ndarray:
    """RDN/SRFBN's DN LR image of a ``uint8`` HR image: grey replicated to RGB, ``modcrop``, the uint8
    bicubic LR (MATLAB ``imresize(., 1/s, 'bicubic')``, rounded after each pass, ``border``:
    ``symmetric`` reproduces SRFBN's files, ``clamp`` RDN's), then :func:`add_noise_dn`."""
    if border not in BORDERS:
        raise SrbenchError(f"DN border {border!r} is not one of {', '.join(BORDERS)}")
    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or scale < 1:
        raise SrbenchError(f"DN scale {scale!r} is not a positive integer")
    if hr.dtype != np.uint8 or hr.ndim not in (2, 3):
        raise SrbenchError(
            f"DN degradation takes (H, W) or (H, W, C) uint8 images, got {hr.dtype} {hr.shape}"
        )
    if hr.ndim == 2 or hr.shape[2] == 1:
        hr = np.repeat(hr.reshape(*hr.shape[:2], 1), 3, axis=2)
    hr = modcrop(hr, scale)
    planes = hr.transpose(2, 0, 1)[None].astype(np.float64)
    lr = imresize_uint8(planes, 1.0 / scale, border=border)[0].transpose(1, 2, 0)
    return add_noise_dn(np.ascontiguousarray(lr.astype(np.uint8)), sigma, seed)


__all__ = [
    "DN_SIGMA",
    "V4_MODULUS",
    "V4_MULTIPLIER",
    "V4_STARTUP_STATE",
    "add_noise_dn",
    "degrade_dn",
    "park_miller",
    "randn_v4",
    "randn_v4_stream",
    "v4_state",
]
