"""SFTGAN's release: two PyTorch state dicts, loaded together as one x4 network (format ``sftgan``).

``SFTGAN_torch.pth`` (the paper's generator,
:func:`~srbench_eval.models.archs.sftgan.generator_from_state_dict`) and ``OutdoorSceneSeg_bic.pth``
(the segmentation network whose probability maps condition it,
:func:`~srbench_eval.models.archs.outdoor_seg.from_state_dict`), joined in
:class:`~srbench_eval.models.archs.sftgan.SFTGAN`, which takes the LR image and returns the SR image
as the other published networks do. The registry lists both files; the segmentation file reaches
:func:`load_sftgan` as the loader option ``segmentation``.
"""

from __future__ import annotations

from pathlib import Path

import torch

from srbench_eval.errors import SrbenchError
from srbench_eval.models.archs import outdoor_seg, sftgan
from srbench_eval.models.checkpoints import build_from_state_dict, load_problem, quiet_load


def _state(path: Path) -> dict[str, torch.Tensor]:
    try:
        state = quiet_load(path)
        if not isinstance(state, dict):
            raise TypeError(f"holds a {type(state).__name__}, not a state dict")
    except Exception as e:  # unreadable / truncated files: torch raises many types
        raise SrbenchError(f"{path}: cannot read PyTorch weights ({load_problem(e)})") from None
    return state


def load_generator(path: Path) -> sftgan.SFTNet:
    """The generator of ``path`` (the ``SFT_Net_torch`` layout), one-line errors otherwise."""
    sd = _state(path)
    if not sftgan.is_sftgan_state_dict(sd):
        raise SrbenchError(f"{path}: not SFTGAN's generator (no CondNet / sft_branch / HR_branch keys)")
    return build_from_state_dict(path, "SFTGAN", sftgan.generator_from_state_dict, sd)


def load_segmentation(path: Path) -> outdoor_seg.OutdoorSceneSeg:
    """The OutdoorSceneSeg network of ``path``, one-line errors otherwise."""
    sd = _state(path)
    if not outdoor_seg.is_outdoor_seg_state_dict(sd):
        raise SrbenchError(f"{path}: not SFTGAN's OutdoorSceneSeg network (no feature.N / deconv keys)")
    return build_from_state_dict(path, "OutdoorSceneSeg", outdoor_seg.from_state_dict, sd)


def load_sftgan(path: Path, segmentation: str | Path | None, scale: int | None) -> sftgan.SFTGAN:
    """The generator file ``path`` with the segmentation file ``segmentation``, at x4 only."""
    if scale is not None and scale != sftgan.SFTGAN.scale:
        raise SrbenchError(f"{path}: this network upscales x{sftgan.SFTGAN.scale}, not --scale {scale}")
    if not segmentation:
        raise SrbenchError(
            f"{path}: SFTGAN needs its segmentation network as well (OutdoorSceneSeg_bic.pth): use sftgan@pub"
        )
    net = sftgan.SFTGAN(load_generator(path), load_segmentation(Path(segmentation)))
    return net.eval()
