"""Planning a spec study's GPU work: the files it needs (:func:`needed_files`) and the device hours
of each member from a short measured throughput run (:func:`estimate`).

Throughput: the member's effective recipe at the paper's size (``--preset paper``, the spec's
schedule; the user's ``--batch-size``, ``--patch`` and ``--set`` still apply) is built on the
present device exactly as training builds it (generator, discriminator, loss, optimisers, bf16
autocast on CUDA) and runs one untimed warm-up iteration, then ``n`` timed iterations of
:func:`~srbench_eval.training.steps.train_step` on random batches of the paper's shape (the data
loader is left out: on a GPU with enough loader processes it hides behind the step). Then

    hours per seed = t_iter * iterations / 3600,   t_iter = (timed seconds) / n

with ``iterations`` the paper schedule's (the recipe's when the spec does not state one), and the
member's hours are that times the number of seeds. First stages (``rrdb`` for ``esrgan*``) are
estimated the same way. The same code runs on CUDA and on the CPU (:func:`synchronize` waits for
CUDA's asynchronous kernels before each clock reading; :func:`estimate_device` refuses a GPU that
is not there in one line); on a CPU ``n`` is kept tiny and the estimate is only the order of
magnitude.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from srbench_eval.data.datasets.registry import find_entry
from srbench_eval.errors import SrbenchError
from srbench_eval.models.published.registry import get as get_published
from srbench_eval.models.recipes.named import build_discriminator, build_generator, build_losses
from srbench_eval.papers.specs import StudySpec
from srbench_eval.ranks import DistEnv
from srbench_eval.studies.members import stages, train_config, weights_needed
from srbench_eval.studies.spec import Member, Study
from srbench_eval.studies.specs import ready_members, trained_members
from srbench_eval.training.config import resolve
from srbench_eval.weights.hub import WEIGHTS, checkpoint_dir

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class FileNeed:
    """A file (or dataset) to fetch before the study can run: what it is, its source and size."""

    kind: str
    name: str
    size: str
    source: str
    used_by: str


@dataclass(frozen=True)
class Estimate:
    """One member's (or first stage's) measured throughput and hours."""

    label: str
    recipe: str
    seconds_per_iteration: float
    timed: int
    batch_size: int
    hr_patch: int
    iterations: int
    seeds: int
    device: str

    @property
    def hours_per_seed(self) -> float:
        return self.seconds_per_iteration * self.iterations / 3600

    @property
    def hours(self) -> float:
        return self.hours_per_seed * self.seeds


def _weights_size(key: str) -> str:
    """The cached file's size, else the float32 size of the torchvision network's parameters
    (counted on the meta device), else unknown."""
    path = checkpoint_dir() / WEIGHTS[key].filename
    if path.is_file():
        return f"{path.stat().st_size / 1e6:.1f} MB (cached)"
    try:
        import torch
        import torchvision

        with torch.device("meta"):
            net = getattr(torchvision.models, key)(weights=None)
    except (AttributeError, TypeError):
        return "size unknown"
    return f"~{sum(p.numel() for p in net.parameters()) * 4 / 1e6:.0f} MB (float32 parameters)"


def _dataset_need(name: str, used_by: str) -> FileNeed:

    entry = find_entry(name)
    if entry is None:
        return FileNeed("data", name, "local folder", name, used_by)
    if entry.skimage_files:  # the smoke preset's default: nothing to fetch
        return FileNeed("data", entry.name, f"{entry.images} images", "embedded (scikit-image)", used_by)
    first = entry.sources[0] if entry.sources else None
    note = first.note if first is not None else ""
    size = f"{entry.images} images" + (f"; {note}" if note else "")
    return FileNeed("data", entry.name, size, first.url if first is not None else "mirror only", used_by)


def needed_files(spec: StudySpec, study: Study) -> list[FileNeed]:
    """The training data, the evaluation sets, the feature networks of the losses and metrics, and
    the ready members' released weights."""
    out = []
    if spec.recipes:
        out.append(_dataset_need(study.data, "training"))
    out += [_dataset_need(d, "evaluation") for d in study.datasets]
    for key, found in weights_needed(study, trained_members(spec, study)).items():
        out.append(FileNeed("weights", key, _weights_size(key), WEIGHTS[key].url, ", ".join(found)))
    for r in ready_members(spec):
        if r.model and r.model != "bicubic":
            entry = get_published(r.model)
            scale = study.scale or 4
            entry.file_for(scale)  # a scale it lacks: the one-line error
            files = [c for c in entry.files if c.scale in (None, scale)]
            for f in files:  # SFTGAN: its segmentation network's file too
                urls = getattr(f, "urls", ()) or ()
                source = urls[0] if urls else "mirror only (weights/" + f.path + ")"
                name = r.model if f is files[0] else f"{r.model} {f.filename}"
                out.append(FileNeed("weights", name, "size not recorded", source, r.label))
    return out


def estimate_device(name: str) -> torch.device:
    """The device ``--device`` names, checked before any plan line is printed: ``auto`` is the GPU
    when there is one, else the CPU; ``cuda`` / ``cuda:N`` without that GPU is a one-line error."""
    import torch

    from srbench_eval.distributed import resolve_device

    if name.startswith("cuda") and torch.cuda.is_available():
        index = torch.device(name).index or 0
        if index >= torch.cuda.device_count():
            raise SrbenchError(
                f"--device {name}: this machine has {torch.cuda.device_count()} CUDA GPU(s) (cuda:0..)"
            )
    return resolve_device(name)


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued work (CUDA kernels run asynchronously; the CPU's do not)."""
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _time_iterations(study: Study, member: Member, n: int) -> tuple[float, int, int, int, str]:
    """Seconds per iteration over ``n`` timed iterations (after one warm-up), and the batch size,
    patch, schedule length and device it ran with."""
    import torch

    from srbench_eval.training.loop import replace_lr_scale
    from srbench_eval.training.state import make_optimizer, make_scheduler
    from srbench_eval.training.steps import Nets, train_step, wrap_for_ranks

    with tempfile.TemporaryDirectory() as tmp:
        plan = resolve(train_config(study, member, Path(tmp)))
    device = estimate_device(study.device)
    r, t = plan.recipe, plan.recipe.train
    torch.manual_seed(member.seed)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # as training sets it
    g = build_generator(r, plan.scale).to(device)
    d = build_discriminator(r)
    d = d.to(device) if d is not None else None
    g_train, d_pair = wrap_for_ranks(g, d, DistEnv(device=device))
    opt_g = make_optimizer(g, t, t.lr)
    nets = Nets(
        g, g_train, opt_g, make_scheduler(opt_g, t), build_losses(r).to(device), amp=device.type == "cuda"
    )
    if d is not None:
        nets.d, nets.d_pair = d, d_pair
        nets.opt_d = make_optimizer(d, replace_lr_scale(t), t.d_lr or t.lr)
        nets.sched_d = make_scheduler(nets.opt_d, t)
    lr_size = plan.hr_patch // plan.scale
    hr = torch.rand(plan.batch_size, 3, plan.hr_patch, plan.hr_patch, device=device)
    lr = torch.rand(plan.batch_size, 3, lr_size, lr_size, device=device)
    train_step(nets, lr, hr)  # warm-up: allocation, cuDNN autotuning
    synchronize(device)
    start = time.perf_counter()
    for _ in range(n):
        train_step(nets, lr, hr)
    synchronize(device)  # CUDA runs asynchronously: the clock stops when the GPU is done
    return (time.perf_counter() - start) / n, plan.batch_size, plan.hr_patch, plan.iterations, str(device)


def _compute_key(member: Member) -> tuple[str, tuple[str, ...]]:
    """What sets a member's cost: its recipe and the overrides other than loss hyper-parameters
    (``loss.dp.mu`` moves no FLOP; a loss term's ``weight`` does: 0 drops the term)."""
    kept = tuple(
        o for o in member.overrides if not o.startswith("loss.") or o.partition("=")[0].endswith(".weight")
    )
    return member.recipe, kept


def estimate(spec: StudySpec, study: Study, timed: int = 2) -> list[Estimate]:
    """The hours of every first stage and trained member at the paper's size (see the module
    docstring); one measurement per distinct cost (:func:`_compute_key`). ``study`` gives the
    device and the user's sizes."""
    estimate_device(study.device)  # a missing GPU stops here, before any measurement
    paper = replace(study, preset="paper", iterations=None)
    seed = paper.seeds[0]
    todo = [(f"first stage {s.recipe}", s) for s in stages(paper) if s.seed == seed]
    firsts = [m for m in trained_members(spec, paper) if m.seed == seed]
    todo += list(zip([x.label for x in spec.members if x.recipe is not None], firsts, strict=True))
    measured: dict[tuple[str, tuple[str, ...]], tuple[float, int, int, int, str]] = {}
    out = []
    for label, m in todo:
        key = _compute_key(m)
        if key not in measured:
            measured[key] = _time_iterations(paper, m, timed)
        seconds, batch, patch, iterations, device = measured[key]
        out.append(
            Estimate(label, m.recipe, seconds, timed, batch, patch, iterations, len(paper.seeds), device)
        )
    return out


def _number(x: float) -> str:
    """Thousands separated from 100 on, else three significant digits."""
    return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"


def render_estimate(estimates: list[Estimate]) -> list[str]:
    """The estimate as Markdown lines, with the total."""
    if not estimates:
        return ["No trained members: nothing to estimate."]
    e0 = estimates[0]
    lines = [
        f"Device hours at the paper's size, measured on {e0.device} over {e0.timed} timed iteration(s) "
        "after one warm-up (random batches; data loading not included):",
        "",
        "| member | recipe | batch x patch | s/iteration | iterations | hours/seed | seeds | hours |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for e in estimates:
        lines.append(
            f"| {e.label} | {e.recipe} | {e.batch_size} x {e.hr_patch} | {e.seconds_per_iteration:.3g} | "
            f"{e.iterations:,} | {_number(e.hours_per_seed)} | {e.seeds} | {_number(e.hours)} |"
        )
    lines.append(f"| total | | | | | | | {_number(sum(e.hours for e in estimates))} |")
    if e0.device == "cpu":
        lines += [
            "",
            f"On the CPU only {e0.timed} iteration(s) per recipe were timed: an order of magnitude.",
        ]
    return lines
