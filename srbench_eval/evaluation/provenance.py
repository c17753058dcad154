"""What a run records about where its numbers come from (``summary.json``'s ``provenance``): the
environment (:func:`environment_provenance`: tool, git commit, Python, torch and NumPy versions,
platform, device) and the run itself (:func:`run_provenance`: protocol, datasets with their manifest
digests, models, stand-in weights, ranks), and the facts of its metrics (:func:`metric_info`).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import platform
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from srbench_eval import weights
from srbench_eval.data.datasets.registry import Dataset
from srbench_eval.evaluation.plan import RunPlan
from srbench_eval.metrics import Metric
from srbench_eval.models.base import SRModel
from srbench_eval.runs.results import utc_now
from srbench_eval.version import __version__


def git_commit() -> str:
    """The commit of the srbench-eval checkout, with ``-dirty`` when it has local changes."""
    src = Path(__file__).resolve().parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=src, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=src,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("-dirty" if dirty else "")


def torch_version() -> str:
    """``torch.__version__`` (``2.14.1+cu130``, the build included) without importing torch: read from
    the installed ``torch/version.py``, else the distribution's version."""

    spec = importlib.util.find_spec("torch")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        try:
            text = Path(folder, "version.py").read_text()
        except OSError:
            continue
        found = re.search(r"^__version__\s*=\s*['\"]([^'\"]+)['\"]", text, re.MULTILINE)
        if found:
            return found.group(1)
    return importlib.metadata.version("torch")


def environment_provenance(device: str) -> dict[str, Any]:
    """Versions and machine facts that a published number must carry."""
    import numpy

    torch = sys.modules.get("torch")  # not imported for this: a CPU run of the bicubic column never loads it
    info: dict[str, Any] = {
        "tool": "srbench-eval",
        "tool_version": __version__,
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "torch": torch.__version__ if torch is not None else torch_version(),
        "numpy": numpy.__version__,
        "platform": platform.platform(),
        "device": device,
        "command": " ".join(["srbench-eval", *sys.argv[1:]]) if sys.argv else "",
    }
    if device.startswith("cuda") and torch is not None and torch.cuda.is_available():
        info["device_name"] = torch.cuda.get_device_name(torch.device(device))
        info["cuda"] = torch.version.cuda
    return info


def stand_ins(metrics: Sequence[str]) -> list[str]:
    """Weights files this run's metrics loaded that are not the published ones (tests only)."""
    users = {f"metric {m}" for m in metrics}
    needed = [k for k, w in weights.WEIGHTS.items() if users.intersection(w.used_by)]
    return [k for k in needed if k in weights.stand_ins_used()]


def run_provenance(
    plan: RunPlan,
    device: str,
    datasets: Sequence[Dataset],
    models: Sequence[SRModel],
    world: int,
    started: str,
) -> dict[str, Any]:
    """:func:`environment_provenance` with the run's start and end (now), protocol, datasets, models,
    stand-in weights and the number of processes that shared the images (``ranks``, torchrun)."""
    protocol, scale = plan.protocol, plan.scale
    provenance = environment_provenance(device)
    provenance.update(
        started=started,
        finished=utc_now(),
        protocol={
            **protocol.to_json(),
            "scale": scale,
            "crop_border": protocol.crop(scale),
            "description": protocol.describe(scale),
        },
        datasets={
            ds.name: {
                "title": ds.title or ds.name,
                "images": len(ds.images),
                "manifest_digest": ds.manifest_digest,
                "verified": ds.verified,
                "location": ds.location,
            }
            for ds in datasets
        },
        models={m.name: m.provenance for m in models},
        stand_in_weights=stand_ins(plan.config.metrics),
        ranks=world,
    )
    return provenance


def metric_info(plan: RunPlan, metrics: Sequence[Metric]) -> dict[str, dict[str, Any]]:
    """Each metric's facts and the options in force (of ``metrics``, one object per metric name)."""
    options = {metric.name: metric.options() for metric in metrics}
    return {
        m.cls.name: {
            "label": m.cls.label,
            "higher_is_better": m.cls.higher_is_better,
            "per_image": m.cls.per_image,
            "decimals": m.cls.decimals,
            "options": options.get(m.cls.name, {}),
        }
        for m in plan.metrics
    }
