"""The zoo's recipes, as data: each is a :class:`~srbench_eval.models.recipes.spec.Recipe` value
(a derived recipe is its base with :func:`dataclasses.replace`), listed in :data:`RECIPES`.

Adding a recipe: write its value here and add it to :data:`RECIPES` (the registry,
:mod:`srbench_eval.models.recipes.registry`, registers them in that order, so a recipe comes after
the recipe it starts from).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from srbench_eval.models.recipes.spec import ArchSpec, LossSpec, Recipe, TrainSpec

#: SRGAN's VGG feature scale 1/12.75 (the paper's rescaling of the VGG54 loss, about 0.006).
SRGAN_FEATURE_SCALE = 1.0 / 12.75

_SRCNN = "Dong et al., Image Super-Resolution Using Deep Convolutional Networks, TPAMI 2016"
_LAPSRN = "Lai et al., Deep Laplacian Pyramid Networks for Fast and Accurate Super-Resolution, CVPR 2017"
_SRGAN = "Ledig et al., Photo-Realistic Single Image Super-Resolution Using a GAN, CVPR 2017"
_ESRGAN = "Wang et al., ESRGAN: Enhanced Super-Resolution GANs, ECCV Workshops 2018"
_DP = "Song et al., Dual Perceptual Loss for Single Image Super-Resolution Using ESRGAN, arXiv:2201.06383"
_SOG = "Lin, Zhang, Yang, A pluggable SISR algorithm based on second-order gradient loss, TBench 2023"
_FDL = "fine-grained dynamic loss (classification into 2^n bins, regression in a dynamic anchor area)"
_FDL_HEAD = {"bins_log2": 4, "tau": 0.9}
#: Residual heads: 0 is a bin's middle and the start, the area reaches half a bin further (see
#: srbench_eval/losses/fine_grained.py for why).
_FDL_RESIDUAL = {"margin": 0.5, "centre": 0.0}


def _term(
    name: str, kind: str | None = None, weight: float = 1.0, levels: str = "last", **params: Any
) -> LossSpec:
    return LossSpec(name, kind or name, weight, levels, params)


def _swap(losses: tuple[LossSpec, ...], old: str, *new: LossSpec) -> tuple[LossSpec, ...]:
    """``losses`` with term ``old`` replaced by ``new`` (in place)."""
    out: list[LossSpec] = []
    for spec in losses:
        out.extend(new if spec.name == old else (spec,))
    return tuple(out)


SRCNN = Recipe(
    name="srcnn",
    description="SRCNN 9-1-5 (64/32) on the bicubic-upsampled RGB input, MSE",
    paper=_SRCNN,
    arch=ArchSpec("srcnn"),
    losses=(_term("pixel", "mse"),),
    scales=(2, 3, 4),
    train=TrainSpec(
        iterations=1_000_000,
        batch_size=128,
        hr_patch=36,
        optimizer="sgd",
        lr=1e-4,
        momentum=0.9,
        lr_scale={"conv3": 0.1},
        notes="paper: SGD, lr 1e-4 (1e-5 last layer), 33x33 sub-images (36 here: divisible by 2, 3, 4); "
        "iterations are this harness's budget",
    ),
)

SRCNN_FDL = replace(
    SRCNN,
    name="srcnn-fdl",
    description="SRCNN whose reconstruction layer is a fine-grained head, trained with FDL",
    paper=f"{_SRCNN}; {_FDL}",
    arch=ArchSpec("srcnn", {"fdl": {**_FDL_HEAD, "residual": True, **_FDL_RESIDUAL}}),
    losses=(_term("fdl", l1_weight=1.0),),
    train=replace(SRCNN.train, lr_scale={"head": 0.1}),
)

LAPSRN = Recipe(
    name="lapsrn",
    description="LapSRN, x2 pyramid levels, Charbonnier loss at every level",
    paper=_LAPSRN,
    arch=ArchSpec("lapsrn"),
    losses=(_term("pixel", "charbonnier", levels="all", eps=1e-3),),
    scales=(2, 4, 8),
    train=TrainSpec(
        iterations=500_000,
        batch_size=64,
        hr_patch=128,
        optimizer="sgd",
        lr=1e-5,
        momentum=0.9,
        weight_decay=1e-4,
        milestones=tuple(range(50_000, 500_000, 50_000)),
        gamma=0.5,
        notes="paper: lr 1e-5 halved every 50 epochs (an epoch taken as 1000 iterations here)",
    ),
)

LAPSRN_FDL = replace(
    LAPSRN,
    name="lapsrn-fdl",
    description="LapSRN with fine-grained residual heads, FDL at every level",
    paper=f"{_LAPSRN}; {_FDL}",
    arch=ArchSpec("lapsrn", {"fdl": {**_FDL_HEAD, **_FDL_RESIDUAL}}),
    losses=(_term("fdl", levels="all", l1_weight=1.0),),
)

SRRESNET = Recipe(
    name="srresnet",
    description="SRResNet (16 BN residual blocks), MSE",
    paper=_SRGAN,
    arch=ArchSpec("srresnet"),
    losses=(_term("pixel", "mse"),),
    train=TrainSpec(iterations=1_000_000, batch_size=16, hr_patch=96, lr=1e-4, betas=(0.9, 0.999)),
)

SRGAN = Recipe(
    name="srgan",
    description="SRGAN: VGG phi_5,4 (after activation, /12.75, MSE) + 1e-3 vanilla GAN, from srresnet",
    paper=_SRGAN,
    arch=ArchSpec("srresnet"),
    losses=(
        _term("vgg", layer="relu5_4", criterion="l2", feature_scale=SRGAN_FEATURE_SCALE),
        _term("gan", weight=1e-3),
    ),
    disc=ArchSpec("srgan_d"),
    init="srresnet",
    train=TrainSpec(
        iterations=200_000,
        batch_size=16,
        hr_patch=96,
        lr=1e-4,
        betas=(0.9, 0.999),
        milestones=(100_000,),
        gamma=0.1,
        d_lr=1e-4,
        notes="paper: 1e5 iterations at lr 1e-4, then 1e5 at 1e-5",
    ),
)

_SRGAN_DP_TERM = _term(
    "dp",
    mu=0.5,
    beta="3.6",
    vgg_layer="relu5_4",
    vgg_criterion="l2",
    vgg_feature_scale=SRGAN_FEATURE_SCALE,
)
SRGAN_DP = replace(
    SRGAN,
    name="srgan-dp",
    description="SRGAN with its VGG term replaced by the DP loss (same VGG part, + ResNet beta_3,6)",
    paper=f"{_SRGAN}; {_DP}",
    losses=_swap(SRGAN.losses, "vgg", _SRGAN_DP_TERM),
)

RRDB = Recipe(
    name="rrdb",
    description="RRDBNet trained with L1: ESRGAN's PSNR-oriented stage 1",
    paper=_ESRGAN,
    arch=ArchSpec("rrdbnet"),
    losses=(_term("pixel", "l1"),),
    train=TrainSpec(
        iterations=1_000_000,
        batch_size=16,
        hr_patch=128,
        lr=2e-4,
        betas=(0.9, 0.99),
        milestones=(200_000, 400_000, 600_000, 800_000),
        gamma=0.5,
        notes="paper: lr 2e-4 halved every 2e5 iterations; betas as ESRGAN's official configs",
    ),
)

ESRGAN = Recipe(
    name="esrgan",
    description="ESRGAN: 1e-2 L1 + VGG conv5_4 (before activation, L1) + 5e-3 RaGAN, from rrdb",
    paper=_ESRGAN,
    arch=ArchSpec("rrdbnet"),
    losses=(
        _term("pixel", "l1", weight=1e-2),
        _term("vgg", layer="conv5_4", criterion="l1"),
        _term("gan", "ragan", weight=5e-3),
    ),
    disc=ArchSpec("vgg128_d"),
    init="rrdb",
    train=TrainSpec(
        iterations=400_000,
        batch_size=16,
        hr_patch=128,
        lr=1e-4,
        betas=(0.9, 0.99),
        milestones=(50_000, 100_000, 200_000, 300_000),
        gamma=0.5,
        d_lr=1e-4,
    ),
)

ESRGAN_DP = replace(
    ESRGAN,
    name="esrgan-dp",
    description="ESRGAN with the VGG term replaced by the dual perceptual loss (mu 0.5, beta_3,6)",
    paper=_DP,
    losses=_swap(ESRGAN.losses, "vgg", _term("dp", mu=0.5, beta="3.6", vgg_layer="conv5_4")),
)

ESRGAN_VR = replace(
    ESRGAN,
    name="esrgan-vr",
    description="ESRGAN + ResNet beta_3,6 L1 term with a static weight 1: DP without dynamic weighting",
    paper=_DP,
    losses=_swap(ESRGAN.losses, "vgg", ESRGAN.loss("vgg"), _term("resnet", beta="3.6", criterion="l1")),
)

RRDB_SOG = replace(
    RRDB,
    name="rrdb-sog",
    description="rrdb + second-order gradient loss (weight 1, like its pixel term)",
    paper=f"{_ESRGAN}; {_SOG}",
    losses=(*RRDB.losses, _term("sog")),
)

ESRGAN_SOG = replace(
    ESRGAN,
    name="esrgan-sog",
    description="esrgan + second-order gradient loss (weight 1e-2, like its pixel term), from rrdb-sog",
    paper=f"{_ESRGAN}; {_SOG}",
    losses=(*ESRGAN.losses, _term("sog", weight=1e-2)),
    init="rrdb-sog",
)

#: Every recipe, in registration order (a derived recipe after its base).
RECIPES: tuple[Recipe, ...] = (
    SRCNN,
    SRCNN_FDL,
    LAPSRN,
    LAPSRN_FDL,
    SRRESNET,
    SRGAN,
    SRGAN_DP,
    RRDB,
    ESRGAN,
    ESRGAN_DP,
    ESRGAN_VR,
    RRDB_SOG,
    ESRGAN_SOG,
)
