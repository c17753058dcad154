"""The architectures of the zoo, by name: one entry per network, with a small variant for tests.

Recipes name an architecture here (``ArchSpec.name``); :func:`build_arch` builds it. Each entry
records its paper, whether it is a generator or a discriminator, and the facts about it that other
modules need: ``small``, constructor arguments for a tiny variant (a few thousand parameters) that
tests use; ``smoke``, the sizes of the ``smoke`` training preset (minutes on a CPU); and
``input_multiple``, what a discriminator's input size must be a multiple of (1: any). The
constructors' defaults are the paper sizes. The ``bicubic`` baseline has no parameters and is not
trained, so it is not listed here.

An entry names its class (``module:Class`` under :mod:`srbench_eval.models.archs`), imported on
first use of :attr:`ArchEntry.cls`: the registry is data that ``models list`` reads without torch.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from srbench_eval.registry import Registry

if TYPE_CHECKING:
    from torch import nn


@dataclass(frozen=True)
class ArchEntry:
    """One architecture: its class (``module:Class`` under ``srbench_eval.models.archs``), role
    (``generator``/``discriminator``), paper and small variant."""

    name: str
    implementation: str
    role: str
    paper: str
    small: dict[str, Any] = field(default_factory=dict)
    smoke: dict[str, Any] = field(default_factory=dict)
    input_multiple: int = 1

    @property
    def cls(self) -> type[nn.Module]:
        """The architecture's class (its module imported now)."""
        module, attribute = self.implementation.split(":")
        return getattr(importlib.import_module(f"srbench_eval.models.archs.{module}"), attribute)


ARCHITECTURES: Registry[ArchEntry] = Registry("architecture")
for _entry in [
    ArchEntry(
        "srcnn",
        "srcnn:SRCNN",
        "generator",
        "Dong et al., TPAMI 2016",
        small={"num_feat": 8, "num_feat2": 4},
        smoke={"num_feat": 32, "num_feat2": 16},
    ),
    ArchEntry(
        "lapsrn",
        "lapsrn:LapSRN",
        "generator",
        "Lai et al., CVPR 2017",
        small={"num_feat": 8, "depth": 2},
        smoke={"num_feat": 16, "depth": 3},
    ),
    ArchEntry(
        "srresnet",
        "srresnet:SRResNet",
        "generator",
        "Ledig et al., CVPR 2017",
        small={"num_feat": 8, "num_block": 2},
        smoke={"num_feat": 16, "num_block": 4},
    ),
    ArchEntry(
        "rrdbnet",
        "rrdbnet:RRDBNet",
        "generator",
        "Wang et al., ECCV Workshops 2018",
        small={"num_feat": 8, "num_block": 1, "num_grow_ch": 4},
        smoke={"num_feat": 16, "num_block": 2, "num_grow_ch": 8},
    ),
    ArchEntry(
        "vgg128_d",
        "discriminators:VGGStyleDiscriminator",
        "discriminator",
        "Wang et al., ECCV Workshops 2018",
        small={"num_feat": 4, "input_size": 32},
        smoke={"num_feat": 8},
        input_multiple=32,
    ),
    ArchEntry(
        "srgan_d",
        "discriminators:SRGANDiscriminator",
        "discriminator",
        "Ledig et al., CVPR 2017",
        small={"num_feat": 4, "input_size": 32, "dense": 16},
        smoke={"num_feat": 8, "dense": 64},
        input_multiple=16,
    ),
]:
    ARCHITECTURES.add(_entry.name, _entry)


def get_arch(name: str) -> ArchEntry:
    """The entry for ``name``; an unknown name is a one-line user error with a suggestion."""
    return ARCHITECTURES.get(name)


def arch_names(role: str | None = None) -> list[str]:
    """Registered names, optionally only ``generator`` or ``discriminator`` ones."""
    return [n for n, e in ARCHITECTURES.items() if role is None or e.role == role]


def build_arch(name: str, **kwargs: Any) -> nn.Module:
    """Build architecture ``name`` with constructor arguments ``kwargs``."""
    return get_arch(name).cls(**kwargs)
