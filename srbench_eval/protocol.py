"""The evaluation protocol: every convention that moves a published SR number, as one record.

The SR literature's "standard protocol" is a handful of variants (``../shared/oracles/README.md``
has the table and the authors' own outputs that pin each one). A :class:`Protocol` names the
choices that differ; the profiles below are the named combinations, as data, in one place:

=================  ==============  ========  =======  =====  ======  =====  =======
profile            degradation     border    Y        grey   SSIM    SR     network
=================  ==============  ========  =======  =====  ======  =====  =======
``matlab``         uint8-passes    symmetric float    y      wang    round  rgb
``matlab-legacy``  uint8-passes    clamp     float    y      wang    round  rgb
``matlab-double``  double-round    symmetric float    y      wang    round  rgb
``selfexsr``       uint8-passes    clamp     rounded  y      wang    round  rgb
``srcnn``          y-double        symmetric rounded  y      wang    round  y
``lapsrn``         double          symmetric float    rgb    matlab  round  y
``basicsr``        double-round    symmetric float32  rgb    wang    round  rgb  (half-even)
``rdn-bddn``       uint8-passes    symmetric rounded  y      wang    round  rgb
``metasr``         uint8-passes    symmetric float    y      wang    round  rgb  (Meta-SR sizes)
``realsr``         (LR given)      symmetric rounded  y      wang    round  rgb  (crop 0, patches)
``liif``           uint8-passes    symmetric 65.738   rgb    wang    clamp  rgb  (LIIF sizes, PIL LR)
``pyiqa``          uint8-passes    symmetric pyiqa-yiq rgb   pyiqa   round  rgb  (crop 0, PSNR eps)
``pyiqa-ycbcr``    uint8-passes    symmetric pyiqa-ycbcr rgb pyiqa   round  rgb  (crop 0, PSNR eps)
=================  ==============  ========  =======  =====  ======  =====  =======

Degradation (``LR`` from the mod-cropped ``HR``, MATLAB bicubic ``imresize(., 1/s)``,
:mod:`srbench_eval.data.degrade.bicubic`):

* ``uint8-passes``: of the uint8 image, rounded after each 1-D pass (MATLAB on ``uint8``);
* ``double-round``: of the image in double, rounded once at the end (``uint8(imresize(im2double))``);
* ``double``: in double, never rounded (LapSRN's test code);
* ``y-double``: ``Y = rgb2ycbcr(uint8 HR)`` (rounded, uint8) first; the HR *and* LR are that Y plane,
  resized in double, LR never rounded (SRCNN, FSRCNN, VDSR, IDN).

``border``: taps outside the image mirrored (``symmetric``, MATLAB since R2007) or clamped to the edge
sample (``clamp``, the older ``imresize`` that made RCAN's LRBI and SelfExSR's LR images).
``y``: ``Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255`` in float64 (``float``), rounded half away
from zero (``rounded``, MATLAB ``rgb2ycbcr`` of a ``uint8`` image), or BasicSR's ``bgr2ycbcr`` of
float32 ``img / 255`` (``float32``); two other tools' Y planes, pyiqa ``psnry``'s YIQ
``Y = 0.299 R + 0.587 G + 0.114 B`` (``yiq``) and super-image's ``16 + (64.738 R + 129.057 G + 25.064 B)
/ 256`` (``bt601-64.738``), EDSR's and LIIF's ``calc_psnr`` with ``65.738`` in place of ``64.738``
(``bt601-65.738``); pyiqa's own float32 ``to_y_channel`` of the [0, 1] image, times 255
(``pyiqa-yiq``, its default ``color_space``, and ``pyiqa-ycbcr``; :func:`srbench_eval.color.pyiqa_luma`);
or no Y at all (``rgb``: PSNR over the three channels, SSIM averaged over
them, as mmagic's EDSR table and NTIRE 2017 scored). ``grey``: a 1-channel image is its own Y
(``y``) or is replicated to RGB first (``rgb``: ``Y = 16 + 219 g / 255``, RCAN/MSRN's test data,
``cv2.imread``).
``ssim``: Wang et al.'s ``ssim_index.m`` (``wang``: 11x11 Gaussian, 'valid' map), MATLAB's
built-in ``ssim`` (``matlab``: the same window over the full image with replicated borders) or
pyiqa's ``ssim`` (``pyiqa``: ``round(float32(Y))`` half to even, its float32-rounded window, the
contrast-structure term clipped at 0; :mod:`srbench_eval.metrics.fidelity_pyiqa`). ``psnr``:
``10 log10(255^2 / MSE)`` (``plain``) or pyiqa's ``10 log10(1 / (MSE / 255^2 + 1e-8))`` (``pyiqa``).
``sr_quantisation``: the SR image as saved (``round``), truncated (``truncate``, CARN), kept in
float (``none``) or kept in float but clipped to 0..255 (``clamp``, LIIF's ``pred.clamp_(0, 1)``).
``rounding``: how the LR (``double-round``) and SR images are rounded: half away from zero
(``half-away``, MATLAB's ``uint8``) or half to even (``half-even``, NumPy's and torch's
``round`` in BasicSR; ties are common in the x2 bicubic baseline). ``crop_border``: pixels removed
on each side before scoring (``None``: ``ceil(scale)``, the scale itself at integer scales; Meta-SR's
``calc_psnr``/``calc_ssim`` shave ``math.ceil(scale)``). ``modcrop``: HR cropped to a multiple of the scale.
``size_rule``: how HR and LR sizes are chosen. ``modcrop`` (integer scales: ``HR = modcrop(HR, s)``,
``LR = imresize(HR, 1/s)``); at a non-integer scale no mod-crop makes ``HR / s`` whole for every
side, so every profile but ``liif`` then follows Meta-SR's rule. ``metasr`` follows it at every scale, integer
ones too (:func:`srbench_eval.data.degrade.scale_rule.metasr_sizes`; Hu et al., CVPR 2019,
XuecaiHu/Meta-SR-Pytorch ``prepare_dataset/generate_LR_metasr_X1_X4.m`` and
``data/multiscalesrdata.py``): a side ``n`` with ``mod(n, s) ~= 0`` loses 4 pixels (bottom/right)
once, ``LR = imresize(HR, 1/s)`` (``ceil(n' / s)`` samples, MATLAB's size rule), the HR scored is the
uncropped image cut to ``int(lr * s)`` (top-left), and the SR image is cut to that size too (a
network or ``imresize(LR, s)`` returns ``ceil(lr * s)``); the border shaved is ``ceil(s)``.
``liif`` is LIIF's test code (Chen et al., CVPR 2021; yinboc/liif ``test.py``, ``utils.calc_psnr``,
``datasets/wrappers.py``, ``configs/test/test-{set5,set14,b100,urban100}-{2,3,4,6,8}.yaml``): at x2,
x3, x4 (:data:`LIIF_PAIRED_SCALES`) the paired EDSR benchmark LR files (``LR_bicubic/X{s}``, MATLAB
``imresize`` of the mod-cropped HR: the ``matlab`` LR) and the HR cut to ``lr * s``, which is the
mod-crop; at every other scale (``sr-implicit-downsampled``) ``h_lr = floor(h / s + 1e-9)``, the HR
cut top-left to ``round(h_lr * s)`` (scored as it is) and the LR Pillow's bicubic resize of that
crop (:func:`srbench_eval.data.degrade.pil.pil_bicubic`; the ``degradation`` and ``border`` fields
do not apply there), the SR cut to the HR's size. Scored on ``Y = (65.738 R + 129.057 G + 25.064 B)
/ 256`` of the difference (no offset; ``bt601-65.738``), images read with ``convert('RGB')`` (grey
as RGB), ``rgb_range = 1`` (images in [0, 1]: the same PSNR as in 0..255), the prediction clipped
to [0, 1] and kept in float (``clamp``), ``shave = scale`` (the
``benchmark-{s}`` eval type; ``ceil(s)`` at a non-integer scale, which LIIF's configs never test).
LIIF's DIV2K configs score RGB with ``shave = scale + 6``: ``--protocol liif --protocol-set y=rgb
--protocol-set crop_border=S+6`` (the number).
``perceptual_crop``: whether the perceptual metrics (LPIPS, DISTS) drop that border too; by default
they compare whole images, as the SR papers compute LPIPS.
``network_input``: what a network sees, RGB in [0, 1] or the Y channel in [0, 1]
(:func:`srbench_eval.models.feeding.model_input`).
``lr_source`` (``run --degradation``): where the LR image comes from, the degradation *kind* of the
RDN/RCAN tables' columns (``degradation`` above is only the bicubic arithmetic): ``bi``, bicubic
``imresize`` as ``degradation`` says (the default); ``bd``, Gaussian blur (7x7, sigma 1.6) then
nearest downsampling (:mod:`srbench_eval.data.degrade.blur`); ``dn``, the ``bi`` LR plus
``30 randn`` of MATLAB 4's ``randn('seed', 0)`` (:mod:`srbench_eval.data.degrade.noise`); ``given``,
the dataset's own LR files (:mod:`srbench_eval.data.pairs`: DIV2K's official LR, RealSR pairs).
The profile ``rdn-bddn`` (rounded Y, grey as its own Y, crop = scale) reproduces the Bicubic rows of
RDN's BD and DN tables.
``average``: how PSNR and SSIM become a set's number. ``image`` (every profile but one): per image,
then the mean over the images. ``realsr-patches``: RealSR's official test (csjcai/RealSR
``Test/Test.m`` with ``Cal_PSNRSSIM.m``, ``util/im2patch.m``, ``util/patchLocation.m``; Cai et al.,
ICCV 2019), :mod:`srbench_eval.metrics.patch_average`: an image whose LR is over 1200 pixels in *both*
sides is cut into 1200x1200 patches with stride 800 (``patchLocation``'s grid, its last start
repeated when it is on the grid already), every patch is one sample, and the set's PSNR and SSIM are
``mean(PSNRs)``/``mean(SSIMs)`` over *all patches of all images* (``Test.m`` appends each patch's
score to one list, ``PSNRs(count)``, across Canon and Nikon, and prints its mean); a smaller image is
one sample. A per-image row of ``results.csv`` holds the mean of that image's patches. LPIPS, DISTS,
NIQE and the other metrics stay per image (RealSR's code scores no other metric).
The profile ``realsr`` is that test: LR given (``--degradation given``), ``Y = rgb2ycbcr(uint8)``
rounded (``Test.m`` takes ``rgb2ycbcr`` of the ``uint8`` images and ``im2uint8`` of the planes before
``Cal_PSNRSSIM(.., 0, 0)``), no border crop, Wang's ``ssim_index`` ('valid' map), mod-crop to the
scale (``Test.m`` is written for x4, ``modcrop(HR, 4)``, the same crop; at x2/x3 a literal
``modcrop(4)`` would cut up to 3 more rows/columns).
The profiles ``pyiqa`` and ``pyiqa-ycbcr`` are pyiqa's ``psnr``/``ssim`` with ``test_y_channel=True``
(chaofengc/IQA-PyTorch v0.1.4-v0.1.16, the same defaults; ``psnry`` and ``ssim`` are ``pyiqa``,
``color_space='ycbcr'`` is ``pyiqa-ycbcr``, what the Real-ESRGAN/diffusion SR followers pass on
RealSR/DRealSR, with ``--degradation given``): images read as RGB (grey replicated), crop 0, per
image; ``benchmarks/check_pyiqa.py`` and ``tests/metrics/test_pyiqa_protocol.py`` hold them to
pyiqa's own functions.

The record is data: it imports nothing from ``data/``, ``metrics/`` or ``models/``; the code that
applies a field lives with what it applies to (degradation in :mod:`srbench_eval.data.degrade`, Y
rules in :mod:`srbench_eval.color`, network input and output in :mod:`srbench_eval.models.feeding`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal, get_args

from srbench_eval.errors import SrbenchError, unknown_name
from srbench_eval.options import parse_assignment

Degradation = Literal["uint8-passes", "double-round", "double", "y-double"]
Border = Literal["symmetric", "clamp"]
YChannel = Literal[
    "float", "rounded", "float32", "yiq", "bt601-64.738", "bt601-65.738", "rgb", "pyiqa-yiq", "pyiqa-ycbcr"
]
Grey = Literal["y", "rgb"]
SSIMVariant = Literal["wang", "matlab", "pyiqa"]
PSNRForm = Literal["plain", "pyiqa"]
Quantisation = Literal["round", "truncate", "none", "clamp"]
Rounding = Literal["half-away", "half-even"]
NetworkInput = Literal["rgb", "y"]
LRSource = Literal["bi", "bd", "dn", "given"]
SizeRule = Literal["modcrop", "metasr", "liif"]
Average = Literal["image", "realsr-patches"]

LIIF_PAIRED_SCALES = (2, 3, 4)
"""The scales at which LIIF's benchmark configs read the paired MATLAB LR files (``sr-implicit-paired``);
every other scale makes its LR with Pillow (``sr-implicit-downsampled``)."""


@dataclass(frozen=True)
class Protocol:
    """One evaluation convention (see the module docstring for every field's values)."""

    name: str = "matlab"
    degradation: Degradation = "uint8-passes"
    border: Border = "symmetric"
    y: YChannel = "float"
    grey: Grey = "y"
    ssim: SSIMVariant = "wang"
    sr_quantisation: Quantisation = "round"
    rounding: Rounding = "half-away"
    crop_border: int | None = None
    modcrop: bool = True
    perceptual_crop: bool = False
    network_input: NetworkInput = "rgb"
    lr_source: LRSource = "bi"
    size_rule: SizeRule = "modcrop"
    average: Average = "image"
    psnr: PSNRForm = "plain"
    reproduces: str = field(default="", compare=False)
    overrides: tuple[str, ...] = ()  # FIELD=VALUE applied to the named profile, in order

    @property
    def label(self) -> str:
        """``matlab`` or ``matlab[crop_border=0]``: the profile and its overrides."""
        return self.name + (f"[{','.join(self.overrides)}]" if self.overrides else "")

    def crop(self, scale: float) -> int:
        """Pixels removed on each side before scoring: ``crop_border``, else ``ceil(scale)``."""
        return math.ceil(scale) if self.crop_border is None else self.crop_border

    def scale_rule(self, scale: float) -> SizeRule:
        """The size rule that applies at ``scale``: ``liif`` outside :data:`LIIF_PAIRED_SCALES` under
        LIIF's rule (``modcrop`` inside), else ``metasr`` under Meta-SR's rule or at a non-integer
        scale, else ``modcrop``."""
        if self.size_rule == "liif":
            return "modcrop" if scale in LIIF_PAIRED_SCALES else "liif"
        return "metasr" if self.size_rule == "metasr" or float(scale) != int(scale) else "modcrop"

    @property
    def lr_rounded(self) -> bool:
        """Whether the LR image holds integers (it can be saved as an 8-bit file exactly): a rounded
        bicubic, or BD, DN and given LR (8-bit images)."""
        return self.lr_source != "bi" or self.degradation in ("uint8-passes", "double-round")

    @property
    def y_only(self) -> bool:
        """Whether HR, LR and SR are the Y plane alone (``y-double``)."""
        return self.degradation == "y-double"

    @property
    def is_default(self) -> bool:
        return self.fields() == DEFAULT.fields()

    def fields(self) -> dict[str, object]:
        """The conventions (everything but the name, description and overrides)."""
        return {f: getattr(self, f) for f in FIELDS}

    def to_json(self) -> dict[str, object]:
        """Everything a ``summary.json`` needs to say which protocol made its numbers."""
        return {"name": self.name, "label": self.label, **self.fields(), "overrides": list(self.overrides)}

    def describe(self, scale: int | None = None) -> str:
        """One line for table footnotes: the label and the conventions."""
        crop: object = self.crop_border if self.crop_border is not None else "scale"
        if scale is not None:
            crop = self.crop(scale)
        return (
            f"protocol {self.label}: LR {self.degradation} ({self.border} borders), Y {self.y}, "
            f"grey as {self.grey}, SSIM {self.ssim}, SR {self.sr_quantisation}, crop {crop}"
            + (" (LPIPS/DISTS too)" if self.perceptual_crop else "")
            + (f", degradation {LR_SOURCES[self.lr_source]}" if self.lr_source != "bi" else "")
            + (", Meta-SR sizes" if self.size_rule == "metasr" else "")
            + (", PSNR/SSIM over RealSR's 1200x1200 patches" if self.average == "realsr-patches" else "")
            + (", LIIF sizes (PIL LR outside x2-x4)" if self.size_rule == "liif" else "")
            + (", PSNR with pyiqa's eps 1e-8" if self.psnr == "pyiqa" else "")
        )


FIELDS: tuple[str, ...] = (
    "degradation",
    "border",
    "y",
    "grey",
    "ssim",
    "sr_quantisation",
    "rounding",
    "crop_border",
    "modcrop",
    "perceptual_crop",
    "network_input",
    "lr_source",
    "size_rule",
    "average",
    "psnr",
)

LR_SOURCES: dict[str, str] = {
    "bi": "BI (bicubic)",
    "bd": "BD (Gaussian blur sigma 1.6, nearest downsampling; RDN imresize_BD)",
    "dn": "DN (bicubic + 30 randn, MATLAB randn('seed', 0))",
    "given": "LR given (the dataset's own LR files)",
}
"""What each ``lr_source`` (``--degradation``) is, for footnotes."""

PROFILES: dict[str, Protocol] = {
    p.name: p
    for p in (
        Protocol(
            "matlab",
            reproduces="EDSR/RCAN/RDN/MSRN Evaluate_PSNR_SSIM.m and EDSR's benchmark LR x2-x4 (the default)",
        ),
        Protocol(
            "matlab-legacy",
            border="clamp",
            reproduces="RCAN/RDN LRBI test data (older MATLAB imresize, clamped borders)",
        ),
        Protocol(
            "matlab-double",
            degradation="double-round",
            reproduces="EDSR benchmark X8 LR, ESRGAN/BasicSR LRbicx4 (double, rounded once)",
        ),
        Protocol(
            "selfexsr",
            border="clamp",
            y="rounded",
            reproduces="SelfExSR/A+/LapSRN compute_difference.m (clamped uint8 LR, rounded Y, ssim_index)",
        ),
        Protocol(
            "srcnn",
            degradation="y-double",
            y="rounded",
            network_input="y",
            reproduces="SRCNN/FSRCNN/VDSR/IDN test code (Y-only double pipeline; "
            "bicubic x4 28.42/26.00/25.96/23.14)",
        ),
        Protocol(
            "lapsrn",
            degradation="double",
            grey="rgb",
            ssim="matlab",
            network_input="y",
            reproduces="LapSRN test_LapSRN.m (unrounded LR, grey as RGB, MATLAB's built-in ssim)",
        ),
        Protocol(
            "basicsr",
            degradation="double-round",
            y="float32",
            grey="rgb",
            rounding="half-even",
            reproduces="BasicSR/ESRGAN Python pipeline (imresize rounded once, float32 bgr2ycbcr, "
            "grey read as RGB)",
        ),
        Protocol(
            "rdn-bddn",
            y="rounded",
            reproduces="RDN Table 3 Bicubic BD/DN rows with --degradation bd|dn --scale 3 (rounded Y, "
            "grey scored as its own Y, crop = scale)",
        ),
        Protocol(
            "metasr",
            size_rule="metasr",
            reproduces="Meta-SR generate_LR_metasr_X1_X4.m + multiscalesrdata.py (sides trimmed by 4 "
            "when mod(n, s) ~= 0, LR = imresize(HR, 1/s), HR cut to int(lr*s), border ceil(s))",
        ),
        Protocol(
            "realsr",
            y="rounded",
            crop_border=0,
            lr_source="given",
            average="realsr-patches",
            reproduces="RealSR Test/Test.m + Cal_PSNRSSIM.m (captured LR given, rounded Y, no crop, "
            "LR over 1200 px cut into 1200x1200 patches with stride 800, means over all patches)",
        ),
        Protocol(
            "liif",
            y="bt601-65.738",
            grey="rgb",
            sr_quantisation="clamp",
            size_rule="liif",
            reproduces="LIIF test.py + utils.calc_psnr (benchmark: MATLAB LR at x2-x4, PIL bicubic of the "
            "HR cut to round(floor(h/s)*s) elsewhere; Y 65.738/256, SR clipped in float, shave = scale)",
        ),
        Protocol(
            "pyiqa",
            y="pyiqa-yiq",
            grey="rgb",
            ssim="pyiqa",
            crop_border=0,
            psnr="pyiqa",
            reproduces="pyiqa psnry/ssim defaults (float32 YIQ Y, SSIM of round(255 Y), eps 1e-8, crop 0)",
        ),
        Protocol(
            "pyiqa-ycbcr",
            y="pyiqa-ycbcr",
            grey="rgb",
            ssim="pyiqa",
            crop_border=0,
            psnr="pyiqa",
            reproduces="pyiqa psnr/ssim(test_y_channel=True, color_space='ycbcr'): OSEDiff, SinSR tables",
        ),
    )
}
DEFAULT = PROFILES["matlab"]

_CHOICES: dict[str, tuple[object, ...]] = {
    "degradation": get_args(Degradation),
    "border": get_args(Border),
    "y": get_args(YChannel),
    "grey": get_args(Grey),
    "ssim": get_args(SSIMVariant),
    "sr_quantisation": get_args(Quantisation),
    "rounding": get_args(Rounding),
    "network_input": get_args(NetworkInput),
    "lr_source": get_args(LRSource),
    "size_rule": get_args(SizeRule),
    "average": get_args(Average),
    "psnr": get_args(PSNRForm),
}


_BOOLEAN = ("modcrop", "perceptual_crop")


def choices(name: str) -> str:
    """The values a field takes, for help texts."""
    if name == "crop_border":
        return "an integer >= 0, or 'scale'"
    if name in _BOOLEAN:
        return "true, false"
    return ", ".join(str(c) for c in _CHOICES[name])


def _parse(name: str, raw: str) -> object:
    if name == "crop_border":
        if raw in ("scale", "none", "None"):
            return None
        try:
            value = int(raw)
        except ValueError:
            value = -1
        if value < 0:
            raise SrbenchError(f"--protocol-set crop_border={raw}: use an integer >= 0 or 'scale'")
        return value
    if name in _BOOLEAN:
        if raw.lower() not in ("true", "false", "1", "0"):
            raise SrbenchError(f"--protocol-set {name}={raw}: use true or false")
        return raw.lower() in ("true", "1")
    if raw not in _CHOICES[name]:
        raise unknown_name(f"value of protocol field {name}", raw, [str(c) for c in _CHOICES[name]])
    return raw


def resolve(name: str | None = None, sets: Iterable[str] = ()) -> Protocol:
    """The profile ``name`` (``None``: the default) with ``FIELD=VALUE`` overrides applied, checked;
    an unknown profile, field or value is a one-line error suggesting the closest name."""
    name = name or DEFAULT.name
    if name not in PROFILES:
        raise unknown_name("protocol", name, PROFILES)
    protocol = PROFILES[name]
    applied: list[str] = []
    for item in sets:
        a = parse_assignment(item, dotted=False)
        key, raw = (a.key, a.raw) if a is not None else ("", "")
        if not key:
            raise SrbenchError(f"--protocol-set '{item}': use FIELD=VALUE, e.g. crop_border=0")
        if key not in FIELDS:
            raise unknown_name("protocol field", key, FIELDS)
        protocol = dataclasses.replace(protocol, **{key: _parse(key, raw)})
        applied.append(f"{key}={raw}")
    return dataclasses.replace(protocol, overrides=tuple(applied)) if applied else protocol


def from_json(data: Mapping[str, object] | None) -> Protocol:
    """The protocol a ``summary.json`` or baseline recorded; the default when it recorded none
    (runs made before protocols were named)."""
    if not data:
        return DEFAULT
    return resolve(str(data.get("name", DEFAULT.name)), [str(s) for s in data.get("overrides", ())])  # type: ignore[union-attr]


__all__ = [
    "DEFAULT",
    "FIELDS",
    "LIIF_PAIRED_SCALES",
    "LR_SOURCES",
    "PROFILES",
    "Protocol",
    "choices",
    "from_json",
    "resolve",
]
