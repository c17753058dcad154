"""Trained checkpoints: where they live, what they hold, finding a recipe's newest one, loading it.

Layout: ``<checkpoint dir>/<recipe name>/<run>/step_0001000.pt``; the directory is
``$SRBENCH_CHECKPOINTS`` or ``checkpoints/`` under the current directory, and ``<run>`` is
:func:`run_name` (``x4-smoke``, ``x4-paper-dp.mu=1``, ...): the scale, the preset and the recipe
overrides of the run. The training loop writes the files atomically; the evaluation path and
``models list`` read them. The small demo models shipped with the package lie flat in
:func:`zoo_dir` (``srbench_eval/zoo/<recipe>-x4-smoke.pt``), the last place ``run`` looks.

A checkpoint is a ``torch.save``'d dict of plain data and tensors (loadable with
``weights_only=True``)::

    format      "srbench-eval-checkpoint/1"
    kind        "training" (everything needed to resume) or "generator" (weights only, shipped)
    recipe      Recipe.to_dict() of the trained recipe: preset sizes included, user overrides listed
    label       the recipe's label (esrgan-dp[dp.mu=1]); preset "smoke" | "paper"; scale
    arch        {"name": ..., "params": {...}}: the generator's constructor arguments (its size)
    step, iterations, finished
    generator   generator state dict; generator_ema: the EMA weights (evaluated when present)
    discriminator, optimizers {"g", "d"}, schedulers {"g", "d"}, rng [one entry per rank]  (training)
    config, init (the checkpoint it started from), val (last validation), created, torch

Reading checks these fields (:mod:`srbench_eval.models.checkpoint_fields`): a missing or mistyped
one is a one-line error naming the file and the field. Writing is atomic, follows the umask, and a
full disk is a one-line error that leaves the previous file as it was.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from srbench_eval.digests import sha256_file
from srbench_eval.errors import SrbenchError
from srbench_eval.files import write_atomic
from srbench_eval.models.checkpoint_fields import PRESETS as PRESETS  # re-exported
from srbench_eval.models.checkpoint_fields import check_fields, field_error
from srbench_eval.models.recipes.named import Recipe, build_generator
from srbench_eval.names import safe_name

T = TypeVar("T")

if TYPE_CHECKING:  # torch is imported by the functions that read or write checkpoints
    import torch

CHECKPOINTS_ENV = "SRBENCH_CHECKPOINTS"
FORMAT = "srbench-eval-checkpoint/1"
_RUN = re.compile(r"^x(\d+)-([a-z]+)(?:-|$)")
_PLAIN_RUN = re.compile(r"^x\d+-[a-z]+(?:-seed\d+)?$")


def checkpoint_dir() -> Path:
    """``$SRBENCH_CHECKPOINTS``, or ``./checkpoints``."""
    return Path(os.environ.get(CHECKPOINTS_ENV) or "checkpoints")


def zoo_dir() -> Path:
    """The folder of the demo checkpoints shipped inside the package."""
    return Path(__file__).resolve().parents[1] / "zoo"


def recipe_dir(recipe_name: str, root: Path | None = None) -> Path:
    """The folder holding ``recipe_name``'s checkpoints (under ``root``, default :func:`checkpoint_dir`)."""
    return (root if root is not None else checkpoint_dir()) / recipe_name


def run_name(scale: int, preset: str, overrides: tuple[str, ...] | list[str] = (), seed: int = 0) -> str:
    """The folder of a training run: ``x4-smoke``, ``x4-paper-dp.mu=1_dp.beta=1.3``, ``x4-smoke-seed1``."""
    parts = [f"x{scale}", preset]
    if overrides:
        short = [o[len("loss.") :] if o.startswith("loss.") else o for o in overrides]
        parts.append(re.sub(r"[^A-Za-z0-9_.=+-]", "-", "_".join(short)))
    if seed:
        parts.append(f"seed{seed}")
    return "-".join(parts)


def step_of(path: Path) -> int:
    """The training step in a checkpoint's file name (its last run of digits), or -1."""
    digits = re.findall(r"\d+", path.stem)
    return int(digits[-1]) if digits else -1


def step_file(step: int) -> str:
    return f"step_{step:07d}.pt"


def _scale_of_run(path: Path, folder: Path) -> int | None:
    """The scale named by a run folder between ``folder`` and ``path`` (``x4-smoke``), or None."""
    for part in path.relative_to(folder).parts[:-1]:
        m = _RUN.match(part)
        if m:
            return int(m[1])
    return None


def newest_file(files: list[Path]) -> Path | None:
    """The file with the highest step in its name, then the latest modification time; None for none."""
    if not files:
        return None
    return max(files, key=lambda p: (step_of(p), p.stat().st_mtime, str(p)))


def checkpoint_files(folder: Path) -> list[Path]:
    """The ``*.pt`` files under ``folder`` (recursively); hidden temporary files are skipped."""
    if not folder.is_dir():
        return []
    return [p for p in folder.rglob("*.pt") if p.is_file() and not p.name.startswith(".")]


def _is_sweep(path: Path, folder: Path) -> bool:
    """True inside a run folder of a run with overrides (``x4-paper-dp.mu=1``)."""
    return any(
        _RUN.match(part) and not _PLAIN_RUN.match(part) for part in path.relative_to(folder).parts[:-1]
    )


def find_latest(recipe_name: str, scale: int | None = None, root: Path | None = None) -> Path | None:
    """The newest ``*.pt`` under the recipe's folder: highest step in the name, then latest mtime.

    With ``scale``, files inside a run folder of another scale (``x2-paper/``) are skipped; files
    outside run folders are kept (their scale is checked when they are loaded). Runs of the recipe
    as registered are preferred to runs with ``--set`` overrides (a sweep's variants are evaluated
    by their folder: ``--models checkpoints/esrgan-dp/x4-paper-dp.mu=1``).
    """
    folder = recipe_dir(recipe_name, root)
    files = checkpoint_files(folder)
    if scale is not None:
        files = [p for p in files if _scale_of_run(p, folder) in (None, scale)]
    plain = [p for p in files if not _is_sweep(p, folder)]
    return newest_file(plain or files)


def find_in_zoo(recipe_name: str, scale: int) -> Path | None:
    """The shipped demo checkpoint of ``recipe_name`` at ``scale`` (``zoo/<recipe>-x<scale>-*.pt``)."""
    files = sorted(zoo_dir().glob(f"{recipe_name}-x{scale}-*.pt"))
    return files[-1] if files else None


# --------------------------------------------------------------------------- reading and writing


def save_checkpoint(obj: dict[str, Any], path: Path) -> None:
    """``torch.save`` to a hidden temporary file in the same folder, then rename: a kill at any moment
    leaves either the old file or the new one, never a truncated one.

    The file gets the permissions the umask gives (0644 under the usual 022). A checkpoint that
    carries a ``label`` must have a safe one (:func:`check_label`). A full disk or any other write
    failure is a one-line :class:`SrbenchError` naming ``path``; the temporary file is removed and
    whatever ``path`` held before is untouched.
    """
    path = Path(path)
    if "label" in obj:
        check_label(obj["label"], f"checkpoint {path}")
    import torch

    write_atomic(path, lambda f: torch.save(obj, f), "write the checkpoint", fsync=True)


def check_writable(path: Path, what: str, *, folder: bool = False) -> None:
    """Refuse, before any work, a ``path`` that cannot be written: a file (or with ``folder``, a
    folder) under a file, in a read-only folder, or below a missing folder that cannot be created.

    Nothing is created: a temporary file is made and removed in the nearest existing folder on the
    way to ``path``. ``what`` names the option in the one-line error (``--export``).
    """
    path = Path(path)
    if folder and path.exists() and not path.is_dir():
        raise SrbenchError(f"{what} {path}: is a file, not a folder")
    if not folder and path.is_dir():
        raise SrbenchError(f"{what} {path}: is a folder; give a file name such as {path / 'model.pt'}")
    probe = path if folder else path.parent
    while not probe.exists() and probe != probe.parent:
        if probe.is_symlink():
            raise SrbenchError(f"{what} {path}: {probe} is a dangling symbolic link")
        probe = probe.parent
    if not probe.is_dir():
        raise SrbenchError(f"{what} {path}: {probe} is a file, not a folder")
    try:
        fd, tmp = tempfile.mkstemp(dir=probe, prefix=".srbench-write-test.", suffix=".tmp")
    except OSError as e:
        reason = "the disk is full" if e.errno in (errno.ENOSPC, errno.EDQUOT) else e.strerror or str(e)
        raise SrbenchError(f"{what} {path}: cannot write in {probe} ({reason})") from None
    os.close(fd)
    os.unlink(tmp)


def check_label(label: object, where: str) -> str:
    """``label`` when it is safe as a folder name (it names the model's SR images): the project's one
    name rule, :func:`srbench_eval.names.safe_name`; else a one-line :class:`SrbenchError`."""
    return safe_name("label", label, where)


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`; one-line errors for anything else.

    Only the file and its ``format`` are checked here (a reader may want one field of a partial
    file); :func:`info`, :func:`load_generator`, :func:`export_generator` and resuming check every
    field they read."""
    path = Path(path)
    if not path.is_file():
        raise SrbenchError(f"{path}: no such checkpoint file")

    try:
        ckpt = quiet_load(path, map_location)
    except Exception as e:  # noqa: BLE001 - unpickling raises many kinds
        raise SrbenchError(f"{path}: cannot read the checkpoint ({load_problem(e)})") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        found = ckpt.get("format") if isinstance(ckpt, dict) else type(ckpt).__name__
        raise SrbenchError(
            f"{path}: not a srbench-eval checkpoint (format {found!r}, expected {FORMAT!r}); "
            f"checkpoints come from 'srbench-eval train'"
        )
    return ckpt


def quiet_load(path: Path, map_location: str | torch.device = "cpu") -> Any:
    """``torch.load(path, weights_only=True)`` with torch's warnings silenced (a pickle protocol it
    did not expect, ...): a file it refuses is one line (:func:`load_problem`), not warnings first."""
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.load(path, map_location=map_location, weights_only=True)


_ADVICE = re.compile(r"\s*(Please use|Check the|WeightsUnpickler error|In PyTorch|.*weights_only).*$", re.S)


def load_problem(e: Exception) -> str:
    """One line for why ``torch.load(weights_only=True)`` failed (its messages span many lines and
    suggest ``weights_only=False`` or allow-listing globals, which this tool never does: a pickle
    could run code)."""
    text = str(e).strip()
    if "WeightsUnpickler error:" in text:
        after = text.split("WeightsUnpickler error:", 1)[1].splitlines()
        detail = next((x.strip() for x in after if x.strip() and not x.startswith("Check the")), "")
        return f"not plain data, refused by the safe loader: {_ADVICE.sub('', detail)}"
    first = next((x.strip() for x in text.splitlines() if x.strip()), "")
    return f"{type(e).__name__}: {_ADVICE.sub('', first)}".rstrip(": ")


_load_problem = load_problem  # the name older callers use


def state_dict_problem(e: BaseException) -> str:
    """One line for why ``load_state_dict`` refused a state dict: torch lists every mismatched
    tensor on its own line (30 lines for a network of another size); the first one, and how many
    more."""
    lines = [line.strip() for line in str(e).strip().splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].startswith("Error(s) in loading state_dict"):
        items = [x for part in lines[1:] for x in re.split(r"(?<=\.)\s+(?=[A-Z])", part) if x]
        more = f" and {len(items) - 1} more" if len(items) > 1 else ""
        return f"{items[0].rstrip('.')}{more}"
    return f"{type(e).__name__}: {lines[0]}" if lines else type(e).__name__


def build_from_state_dict(
    path: Path, arch: str, build: Callable[[dict[str, Any]], T], state: dict[str, Any]
) -> T:
    """``build(state)`` for a network of architecture ``arch`` that our own code builds (spandrel does
    not know it); a state dict that does not fit is one line naming the file and the first mismatch."""
    try:
        return build(state)
    except (RuntimeError, ValueError, KeyError) as e:
        raise SrbenchError(
            f"{path}: {arch}-like state dict that does not load ({state_dict_problem(e)})"
        ) from None


@dataclass(frozen=True)
class CheckpointInfo:
    """What a checkpoint says about itself (everything but the tensors)."""

    path: Path
    recipe: dict[str, Any]
    label: str
    preset: str
    scale: int
    step: int
    iterations: int
    arch: dict[str, Any]
    kind: str
    ema: bool

    @property
    def display_label(self) -> str:
        """The table column: the recipe label, with the preset unless it is ``paper`` (``srcnn (smoke)``)
        and the steps trained of planned when stopped early (``srcnn (smoke, step 1600 of 2000)``)."""
        return display_label(self.label, self.preset, self.step, self.iterations)

    def qualified(self, label: str) -> str:
        """A user's ``LABEL=file.pt`` with what the checkpoint is appended (``mine (smoke)``), unless the
        label already says it."""
        suffix = display_label("", self.preset, self.step, self.iterations).strip()
        return label if not suffix or label.endswith(suffix) else f"{label} {suffix}"

    def provenance(self, sha256: str, source: str) -> dict[str, Any]:
        return {
            "kind": "checkpoint",
            "source": source,
            "path": str(self.path.resolve()),
            "sha256": sha256,
            "step": self.step,
            "iterations": self.iterations,
            "preset": self.preset,
            "scale": self.scale,
            "size": self.arch,
            "weights": "ema" if self.ema else "generator",
            "label": self.label,
            "recipe": self.recipe,
        }


def display_label(label: str, preset: str, step: int | None = None, iterations: int | None = None) -> str:
    """``srcnn (smoke)``; ``srcnn (smoke, step 1600 of 2000)`` for a run stopped at step 1600 of 2000;
    ``esrgan`` (paper preset, finished), ``esrgan (step 1600 of 400000)`` (paper preset, stopped)."""
    parts = [] if preset == "paper" else [preset]
    if step is not None and iterations and step < iterations:
        parts.append(f"step {step} of {iterations}")
    return f"{label} ({', '.join(parts)})" if parts else label


def info(ckpt: dict[str, Any], path: Path) -> CheckpointInfo:
    """What the checkpoint ``ckpt`` read from ``path`` says about itself; its fields are checked first
    (:func:`~srbench_eval.models.checkpoint_fields.check_fields`: one line naming file and field)."""
    check_fields(ckpt, path)
    return CheckpointInfo(
        path=Path(path),
        recipe=ckpt["recipe"],
        label=ckpt["label"],
        preset=ckpt["preset"],
        scale=int(ckpt["scale"]),
        step=int(ckpt["step"]),
        iterations=int(ckpt.get("iterations", ckpt["step"])),
        arch=ckpt["arch"],
        kind=ckpt.get("kind", "training"),
        ema=ckpt.get("generator_ema") is not None,
    )


def generator_state(ckpt: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The weights to evaluate: the EMA weights when the run kept them, else the trained ones; float32."""
    state = ckpt.get("generator_ema") or ckpt["generator"]
    return {k: v.float() if v.is_floating_point() else v for k, v in state.items()}


def load_generator(
    path: Path,
    scale: int,
    *,
    recipe_name: str | None = None,
    arch: dict[str, Any] | None = None,
    device: str | torch.device = "cpu",
) -> tuple[torch.nn.Module, CheckpointInfo]:
    """Build the checkpoint's generator at ``scale`` and load its weights (EMA when present).

    ``recipe_name``/``arch`` state what the caller expects (``--models esrgan`` expects an esrgan
    checkpoint; a run initialised from rrdb expects rrdb's architecture and size): a checkpoint of
    another recipe, architecture, size or scale is a one-line :class:`SrbenchError`.
    """

    ckpt = load_checkpoint(path)
    meta = info(ckpt, path)
    if recipe_name is not None and meta.recipe.get("name") != recipe_name:
        raise SrbenchError(
            f"{path}: a checkpoint of recipe {meta.recipe.get('name')}, not {recipe_name}; "
            f"put it under the right name or pass it as --weights {meta.recipe.get('name')}=PATH"
        )
    if meta.scale != scale:
        raise SrbenchError(f"{path}: trained for x{meta.scale}, not x{scale}; use a x{scale} checkpoint")
    if arch is not None and (arch["name"], arch.get("params", {})) != (
        meta.arch["name"],
        meta.arch.get("params", {}),
    ):
        raise SrbenchError(
            f"{path}: architecture {_describe(meta.arch)} does not match the expected {_describe(arch)}"
        )
    try:
        net = build_generator(Recipe.from_dict(meta.recipe), scale)
    except (KeyError, TypeError, ValueError, AttributeError, SrbenchError) as e:
        raise field_error(path, "recipe", f"is not a valid recipe ({type(e).__name__}: {e})") from None
    try:
        net.load_state_dict(generator_state(ckpt))
    except RuntimeError as e:
        detail = state_dict_problem(e)
        raise SrbenchError(f"{path}: weights do not fit {_describe(meta.arch)} x{scale} ({detail})") from None
    return net.to(device).eval(), meta


def _describe(arch: dict[str, Any]) -> str:
    params = ", ".join(f"{k}={v}" for k, v in sorted(arch.get("params", {}).items()))
    return f"{arch['name']}({params})"


def export_generator(src: Path, dst: Path, *, half: bool = True) -> Path:
    """Write the evaluated generator weights of ``src`` with its metadata (no optimiser or RNG state),
    in float16 when ``half`` (the shipped demo models): ``kind`` becomes ``generator``.

    The source is first loaded as :func:`load_generator` would load it, so a checkpoint whose
    recipe or weights do not build a generator is refused (one line) rather than exported.
    """
    ckpt = load_checkpoint(src)
    load_generator(src, info(ckpt, src).scale)
    state = generator_state(ckpt)
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    keep = ("recipe", "label", "preset", "scale", "arch", "step", "iterations", "finished", "config")
    out = {k: ckpt[k] for k in keep if k in ckpt}
    out.update(
        format=FORMAT,
        kind="generator",
        generator=state,
        dtype="float16" if half else "float32",
        val=ckpt.get("val"),
        exported_from={"file": src.name, "sha256": sha256_file(src)},
        init=ckpt.get("init"),
    )
    save_checkpoint(out, dst)
    return dst
