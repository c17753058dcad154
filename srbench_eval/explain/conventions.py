"""The conventions `explain` tries: every protocol profile, every single-field variant of the default
the literature is known to use, and the combinations named tools hard-wire.

A :class:`Convention` is a resolved :class:`~srbench_eval.protocol.Protocol` plus the one line that
reproduces it (``--protocol NAME --protocol-set FIELD=VALUE ...``). The variants of ``matlab``:

======================  ==========================================================================
field=value             who scored that way
======================  ==========================================================================
``y=rounded``           ``rgb2ycbcr`` of a uint8 image (SelfExSR, SRCNN-era scripts)
``y=float32``           BasicSR's float32 ``bgr2ycbcr``
``y=yiq``               YIQ Y in float64 (pyiqa's ``psnry`` exactly: profile ``pyiqa``)
``y=bt601-64.738``      super-image / SRCNN-PyTorch ``convert_rgb_to_y``
``y=rgb``               mmagic's EDSR table, NTIRE 2017, pyiqa ``psnr`` (all channels)
``crop_border=0``       pyiqa, most Python re-implementations
``crop_border=S+6``     NTIRE 2017 (``6 + scale`` pixels ignored)
``crop_border=4``       the DP-loss paper at every scale
``modcrop=false``       HR not cropped to a multiple of the scale (HAT #45, #49)
``grey=rgb``            grey images replicated to RGB (``cv2.imread``, RCAN/MSRN test data)
``ssim=matlab``         MATLAB's built-in ``ssim`` (LapSRN)
======================  ==========================================================================

and, where a model is run (the LR input matters), each LR generator: ``degradation=double-round``,
``degradation=double``, ``border=clamp``, ``rounding=half-even``. Tools: ``NTIRE 2017`` (``y=rgb``,
``crop_border=S+6``), ``pyiqa psnr`` (``y=rgb``, ``crop_border=0``; pyiqa's Y metrics are the profiles
``pyiqa`` and ``pyiqa-ycbcr``, exact).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from srbench_eval.protocol import DEFAULT, PROFILES, Protocol, resolve

SCORING_FIELDS = ("y", "grey", "ssim", "psnr", "crop_border", "modcrop")
"""The fields that change a score of given SR images (the rest only change the LR input or the SR)."""


@dataclass(frozen=True)
class Convention:
    """One way of scoring: ``name`` (a profile, ``matlab[y=yiq]`` or a tool's name) and its protocol."""

    name: str
    protocol: Protocol
    source: str = ""  # who used it, for the table

    def command(self) -> str:
        """The ``run`` options that reproduce it."""
        sets = " ".join(f"--protocol-set {o}" for o in self.protocol.overrides)
        return f"--protocol {self.protocol.name}" + (f" {sets}" if sets else "")

    def scoring_key(self, scale: int, runs_model: bool) -> tuple[object, ...]:
        """What decides its scores: the scoring fields (the crop in pixels), and every field when a
        model is run (then the LR input and the SR output depend on the protocol too)."""
        p = self.protocol
        key = tuple(p.crop(scale) if f == "crop_border" else getattr(p, f) for f in SCORING_FIELDS)
        return (*key, *p.fields().values()) if runs_model else key


_SINGLE: tuple[tuple[str, str], ...] = (
    ("y=rounded", "rgb2ycbcr of uint8 (SelfExSR, SRCNN-era MATLAB)"),
    ("y=float32", "BasicSR float32 bgr2ycbcr"),
    ("y=yiq", "YIQ Y in float64 (pyiqa's own: --protocol pyiqa)"),
    ("y=bt601-64.738", "Y = 16 + (64.738 R + 129.057 G + 25.064 B) / 256 (super-image)"),
    ("y=rgb", "all RGB channels (mmagic EDSR table, NTIRE)"),
    ("crop_border=0", "no border crop (pyiqa, many Python scripts)"),
    ("crop_border={ntire}", "crop scale + 6 (NTIRE 2017)"),
    ("crop_border=4", "crop 4 at every scale (DP-loss paper)"),
    ("modcrop=false", "HR not mod-cropped"),
    ("grey=rgb", "grey images replicated to RGB (cv2.imread)"),
    ("ssim=matlab", "MATLAB's built-in ssim (LapSRN)"),
)
_LR: tuple[tuple[str, str], ...] = (
    ("degradation=double-round", "LR imresize in double, rounded once"),
    ("degradation=double", "LR imresize in double, not rounded"),
    ("border=clamp", "LR by the older imresize (clamped borders)"),
    ("rounding=half-even", "LR and SR rounded half to even (NumPy/torch)"),
)
_TOOLS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("pyiqa psnr", ("y=rgb", "crop_border=0"), "pyiqa psnr defaults: RGB, no crop"),
    ("NTIRE 2017", ("y=rgb", "crop_border={ntire}"), "NTIRE 2017: RGB, scale + 6 ignored"),
)


def candidates(scale: int, *, runs_model: bool) -> list[Convention]:
    """Every convention to try at ``scale``, profiles first (the default first of all); a variant
    equal to an earlier one (``crop_border=4`` at x4) is left out."""

    def sets(items: Sequence[str]) -> list[str]:
        return [s.format(ntire=scale + 6) for s in items]

    out = [Convention(p.name, p, p.reproduces) for p in PROFILES.values()]
    singles = _SINGLE + (_LR if runs_model else ())
    for item, source in singles:
        p = resolve(DEFAULT.name, sets([item]))
        out.append(Convention(p.label, p, source))
    for name, items, source in _TOOLS:
        out.append(Convention(name, resolve(DEFAULT.name, sets(items)), source))
    seen: set[tuple[object, ...]] = set()
    unique = []
    for c in out:
        key = tuple(
            c.protocol.crop(scale) if f == "crop_border" else v for f, v in c.protocol.fields().items()
        )
        if key not in seen:
            seen.add(key)
            unique.append(c)
    return unique


__all__ = ["SCORING_FIELDS", "Convention", "candidates"]
