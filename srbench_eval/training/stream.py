"""The training data stream: the HR images of a run cut into random LR/HR patch batches.

The stream is a pure function of the sample index (:mod:`srbench_eval.data.patches`): the batch of
step ``t`` on rank ``r`` is the same whether the run started at step 0 or resumes at ``t``, and
whatever the number of data loader workers. :func:`open_stream` starts it at any step.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from srbench_eval import distributed as dist_utils
from srbench_eval.data.datasets.registry import open_dataset
from srbench_eval.data.patches import (
    PatchDataset,
    StreamSampler,
    extract_subimages,
    preload_pairs,
    prepare_pairs,
    worker_init,
)
from srbench_eval.training.config import Plan, TrainConfig

logger = logging.getLogger(__name__)

Batches = Iterator[tuple[torch.Tensor, torch.Tensor]]


def open_stream(
    config: TrainConfig, plan: Plan, env: dist_utils.DistEnv, batch_per_rank: int, start_step: int
) -> tuple[Batches, dict[str, Any]]:
    """This rank's batches ``(lr, hr)`` from step ``start_step`` on, and what they come from
    (dataset, location, images, pairs, manifest digest, workers: recorded in checkpoints and logs).

    ``config.subimages``: cut the images once into sub-images (rank 0 cuts, the others wait and
    read them); otherwise the LR images are cached (rank 0 fills the cache first) and kept in memory
    when ``config.preload`` says so or they fit. Workers (``config.workers``, default 0 on CPU and
    4 on GPU) start from a fresh ``forkserver`` process.
    """
    device = env.device
    dataset = open_dataset(config.data, mirror=config.mirror)
    if config.subimages:
        size, step = config.subimages, config.subimages // 2
        if env.distributed:  # rank 0 cuts the sub-images; the others then read them
            if env.is_main:
                extract_subimages(dataset.images, plan.scale, size=size, step=step)
            dist_utils.barrier(env)
        pairs = extract_subimages(dataset.images, plan.scale, size=size, step=step)
        if config.preload:
            pairs = preload_pairs(pairs, plan.scale)
    else:
        if env.distributed:  # rank 0 fills the LR cache; the others then read it
            if env.is_main:
                prepare_pairs(dataset.images, plan.scale, preload=False, min_size=plan.hr_patch)
            dist_utils.barrier(env)
        pairs = prepare_pairs(dataset.images, plan.scale, preload=config.preload, min_size=plan.hr_patch)
        if env.is_main and pairs and not isinstance(pairs[0].hr, np.ndarray):
            logger.warning(
                "%s does not fit in memory: every patch decodes a whole image; --subimages 480 cuts "
                "the images once into sub-images that load much faster",
                dataset.name,
            )
    patches = PatchDataset(pairs, plan.scale, plan.hr_patch, augment=config.augment, seed=config.seed)
    workers = config.workers if config.workers is not None else (0 if device.type == "cpu" else 4)
    loader = DataLoader(
        patches,
        batch_size=batch_per_rank,
        sampler=StreamSampler(batch_per_rank, start_step, env.rank, env.world),
        num_workers=workers,
        pin_memory=device.type == "cuda",
        worker_init_fn=worker_init if workers else None,
        persistent_workers=workers > 0,
        prefetch_factor=4 if workers else None,
        # Workers start from a clean process: a plain fork copies OpenMP / OpenCV thread pools
        # that the parent already used, and the child can deadlock on them (seen in the tests).
        multiprocessing_context="forkserver" if workers else None,
    )
    info = {
        "dataset": dataset.name,
        "location": dataset.location,
        "images": len(dataset.images),
        "pairs": len(pairs),
        "manifest_digest": dataset.manifest_digest,
        "workers": workers,
    }
    return iter(loader), info
