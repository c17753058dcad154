"""Two-stage recipes: the second stage starts from the weights of the first.

ESRGAN (Wang et al., ECCVW 2018) trains its RRDB generator first for PSNR (``rrdb``) and then as a
GAN from those weights; SRGAN (Ledig et al., CVPR 2017) starts from a trained SRResNet likewise. A
recipe names its first stage in ``recipe.init``; the run starts from the newest checkpoint of that
recipe with the same preset and scale (``<root>/<recipe.init>/<scale>-<preset>/``), or from the file
given by ``--init PATH``, or from scratch with ``--init none``. The architecture and the scale of
the checkpoint must be the recipe's (:func:`srbench_eval.models.checkpoints.load_generator`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from srbench_eval.errors import SrbenchError
from srbench_eval.models import checkpoints as ckpts
from srbench_eval.models.recipes.named import Recipe
from srbench_eval.training.config import Plan, TrainConfig
from srbench_eval.training.state import EMA


def first_stage(recipe: Recipe, config: TrainConfig, plan: Plan, run_dir: Path) -> Path | None:
    """The checkpoint the run starts from (``None``: from scratch); a one-line error naming the
    folder and the command to run when the first stage has not been trained."""
    init = config.init
    if init == "none" or (recipe.init is None and init is None):
        return None
    if init is not None:
        return Path(init)
    assert recipe.init is not None
    folder = ckpts.recipe_dir(recipe.init, run_dir.parent.parent) / ckpts.run_name(plan.scale, config.preset)
    found = ckpts.newest_file(ckpts.checkpoint_files(folder))
    if found is None:
        raise SrbenchError(
            f"recipe {recipe.label} starts from a trained {recipe.init} (two-stage training), "
            f"but {folder} holds no checkpoint: run 'srbench-eval train --model {recipe.init} "
            f"--preset {config.preset} --scale {plan.scale}' first, pass --init PATH, or "
            f"start from scratch with --init none"
        )
    return found


def load_first_stage(
    path: Path, recipe: Recipe, scale: int, g: nn.Module, ema: EMA | None, device: torch.device
) -> dict[str, Any]:
    """Load the generator of ``path`` into ``g`` (and the EMA); its provenance for the checkpoints
    and the log: path, SHA-256, recipe, label, step."""
    expected = recipe.to_dict()["arch"]
    arch = {"name": expected.pop("name"), "params": expected}
    net, meta = ckpts.load_generator(path, scale, arch=arch, device=device)
    g.load_state_dict(net.state_dict())
    if ema is not None:
        ema.net.load_state_dict(net.state_dict())
    return {
        "path": str(path.resolve()),
        "sha256": ckpts.sha256_file(path),
        "recipe": meta.recipe.get("name"),
        "label": meta.label,
        "step": meta.step,
    }
