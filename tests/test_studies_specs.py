"""The shipped study specs as runnable studies: `studies list`, the spec's members and overrides
(``--preset paper`` schedule, the user's ``--set``), `study SPEC` end to end on CPU with the
published cells beside the measured ones (Table 5 with ``esrgan@pub`` from a mirror), and
``--plan --estimate``."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from srbench_eval.cli import cli
from srbench_eval.digests import sha256_file
from srbench_eval.errors import SrbenchError
from srbench_eval.models.archs.rrdbnet import RRDBNet
from srbench_eval.models.published import registry as published
from srbench_eval.papers import load, load_spec, paper_train_overrides, spec_names
from srbench_eval.studies.estimate import estimate, needed_files, render_estimate
from srbench_eval.studies.specs import (
    SpecOptions,
    folder_name,
    spec_plan_commands,
    spec_study,
    trained_members,
)
from tests.conftest import SHARED_BENCHMARKS, requires_shared
from tests.models.test_published import _new_layout
from tests.test_train import make_images

TINY = ("arch.num_feat=4", "arch.num_block=1", "arch.num_grow_ch=4")


def invoke(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(cli, list(args), standalone_mode=False, catch_exceptions=True)
    if res.exception is not None and not isinstance(res.exception, SrbenchError):
        raise res.exception
    return (0 if res.exception is None else 2), res.output + (
        "" if res.exception is None else str(res.exception)
    )


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_images(tmp_path_factory.mktemp("spec_hr"), n=2, size=(64, 72))


# --------------------------------------------------------------------------- specs as members


def test_studies_list_shows_every_spec_with_its_members() -> None:
    code, out = invoke("studies", "list")
    assert code == 0
    for name in spec_names():
        assert f"{name}: {load_spec(name).title}" in out
    assert (
        "  mu=0.5" in out and "train srgan-dp --set loss.dp.mu=0.5 loss.dp.beta=1.3 (paper row mu=0.5)" in out
    )
    assert "esrgan@pub" in out and "ready model esrgan@pub (paper row esrgan)" in out
    assert "printed only: enhancenet, srgan" in out
    assert (
        "ready model drn-l@pub (paper row drn)" in out
        and "ready model esrgan-plus@pub (paper row esrgan+)" in out
        and "ready model sftgan@pub (paper row sftgan)" in out
    )


def test_members_take_the_paper_schedule_then_the_users_then_their_own_overrides() -> None:
    spec = load_spec("dp-table1")
    study = spec_study(spec, SpecOptions(preset="paper", seeds=(0, 4), overrides=("arch.num_feat=8",)))
    members = trained_members(spec, study)
    assert [(m.variant, m.seed) for m in members][:3] == [("mu=inf", 0), ("mu=inf", 4), ("mu=0.2", 0)]
    mu02 = members[2]
    schedule = paper_train_overrides(spec, "srgan-dp")
    assert "train.milestones=50000,100000,200000,300000" in schedule and not any("lr=" in o for o in schedule)
    assert mu02.overrides == (*schedule, "arch.num_feat=8", "loss.dp.mu=0.2", "loss.dp.beta=1.3")
    smoke = trained_members(spec, spec_study(spec, SpecOptions()))
    assert smoke[3].overrides == ("loss.dp.mu=0.2", "loss.dp.beta=1.3") and smoke[3].seed == 0
    assert folder_name(load_spec("dp-table2").members[0]) == "beta_(1,3)"
    plus = spec_study(spec, SpecOptions(overrides=("train.milestones=2+4", "train.lr=1e+3")))
    assert plus.overrides == ("train.milestones=2,4", "train.lr=1e+3")  # '+' lists, as in a sweep


def test_plan_lists_stages_members_and_ready_models(tmp_path: Path) -> None:
    spec = load_spec("dp-table5")
    study = spec_study(spec, SpecOptions(preset="paper", seeds=(0, 1), mirror="/m"))
    lines = spec_plan_commands(spec, study, tmp_path)
    assert len(lines) == 2 + 2 + 5  # rrdb per seed, esrgan-dp per seed, bicubic and the four @pub
    first = shlex.split(lines[0])
    assert first[:4] == ["srbench-eval", "train", "--model", "rrdb"] and "--preset" in first
    member = lines[2].split(" && ")
    assert "--model esrgan-dp" in member[0]
    assert all(f"--set {o}" in member[0] for o in paper_train_overrides(spec, "esrgan-dp"))
    assert str(tmp_path / "init" / "rrdb" / "seed0") in member[0]  # starts from the first stage
    assert "--weights" in member[1] and "--protocol-set crop_border=4" in member[1]
    assert lines[-4].startswith("srbench-eval run --models esrgan@pub") and "--mirror /m" in lines[-4]
    assert lines[-3].startswith("srbench-eval run --models drn-l@pub")
    assert lines[-1].startswith("srbench-eval run --models sftgan@pub")
    needs = {f.name: f for f in needed_files(spec, study)}
    assert {"div2k-train", "set5", "urban100", "vgg19", "resnet50", "alexnet", "esrgan@pub"} <= set(needs)
    assert "800 images" in needs["div2k-train"].size and "3.5 GB" in needs["div2k-train"].size
    assert needs["vgg19"].used_by == needs["resnet50"].used_by == "loss dp"
    assert needs["alexnet"].used_by == "metric lpips"
    assert needs["drn-l@pub"].source == "mirror only (weights/drn/DRNL4x.pt)"
    assert needs["sftgan@pub"].source == "mirror only (weights/sftgan/SFTGAN_torch.pth)"
    seg = needs["sftgan@pub OutdoorSceneSeg_bic.pth"]  # its segmentation network: a second file
    assert (
        seg.source == "mirror only (weights/sftgan/OutdoorSceneSeg_bic.pth)" and seg.used_by == "sftgan@pub"
    )
    assert needs["vgg19"].size.endswith("MB (float32 parameters)") or "cached" in needs["vgg19"].size


def test_spec_options_a_spec_fixes_are_refused() -> None:
    code, out = invoke("study", "dp-table1", "--metrics", "psnr", "--plan")
    assert code == 2 and "--metrics: a study spec fixes it" in out
    code, out = invoke("study", "--recipes", "srcnn", "--estimate")
    assert code == 2 and "--estimate needs a study spec" in out
    code, out = invoke("study", "dp-table5", "--estimate")
    assert code == 2 and "--estimate goes with --plan" in out
    code, out = invoke("study", "dp-table1", "--jobs", "2")
    assert code == 2 and "--jobs: a spec's members are trained one at a time" in out
    code, out = invoke("study", "dp-tabel1")
    assert code == 2 and "unknown study spec (or study file) 'dp-tabel1': did you mean 'dp-table1'?" in out


def test_estimate_measures_each_distinct_cost_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The seven members of Table 1 are two costs (srgan, srgan-dp: mu and beta move no FLOP)
    plus the first stage; each member's hours = s/iteration x the paper's 400k x seeds."""
    from srbench_eval.studies import estimate as module

    calls = []

    def fake(study: object, member: object, n: int) -> tuple[float, int, int, int, str]:
        calls.append(member)
        return 0.5 * len(calls), 16, 128, 400_000, "cpu"

    monkeypatch.setattr(module, "_time_iterations", fake)
    spec = load_spec("dp-table1")
    rows = estimate(spec, spec_study(spec, SpecOptions()), timed=1)
    assert [m.recipe for m in calls] == ["srresnet", "srgan", "srgan-dp"]
    assert [r.label for r in rows] == ["first stage srresnet", *(m.label for m in spec.members)]
    assert {r.seconds_per_iteration for r in rows[2:]} == {1.5}
    assert rows[1].hours == pytest.approx(1.0 * 400_000 * 3 / 3600)
    assert "| total |" in "\n".join(render_estimate(rows))


@pytest.mark.slow
def test_estimate_times_real_iterations_on_this_device() -> None:
    spec = load_spec("fdl")
    study = spec_study(spec, SpecOptions(device="cpu", seeds=(0,), batch_size=1, hr_patch=32))
    rows = estimate(spec, study, timed=1)
    assert [r.recipe for r in rows] == ["srcnn", "srcnn-fdl", "lapsrn", "lapsrn-fdl"]
    assert all(r.seconds_per_iteration > 0 and r.device == "cpu" and r.hr_patch == 32 for r in rows)
    assert rows[0].hours == pytest.approx(rows[0].seconds_per_iteration * rows[0].iterations / 3600)
    assert "On the CPU only 1 iteration(s)" in "\n".join(render_estimate(rows))


# --------------------------------------------------------------------------- end to end


def _esrgan_mirror(root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A mirror folder with Set5 and a stand-in ESRGAN release (a small RRDBNet in BasicSR's key
    layout) under its registry path, its SHA-256 pinned as a user pins an unpublished hash."""
    mirror = root / "mirror"
    mirror.mkdir()
    (mirror / "Set5").symlink_to(SHARED_BENCHMARKS / "Set5", target_is_directory=True)
    rel = published.get("esrgan@pub").file_for(4).path
    path = mirror / "weights" / rel
    path.parent.mkdir(parents=True)
    torch.manual_seed(0)
    torch.save(
        {"params_ema": _new_layout(RRDBNet(4, num_feat=8, num_block=1, num_grow_ch=32).state_dict())}, path
    )
    monkeypatch.setenv("SRBENCH_PIN_ESRGAN_X4", sha256_file(path))
    from spandrel.architectures.ESRGAN import ESRGAN  # nESRGAN+'s layout; DRN's file stays absent

    plus = mirror / "weights" / published.get("esrgan-plus@pub").file_for(4).path
    plus.parent.mkdir(parents=True)
    torch.save(ESRGAN(num_filters=8, num_blocks=1, plus=True).state_dict(), plus)
    monkeypatch.setenv("SRBENCH_PIN_ESRGAN_PLUS_X4", sha256_file(plus))
    return mirror


@requires_shared
def test_dp_table5_end_to_end_with_esrgan_from_a_mirror(
    images: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stand_in_weights: Callable[..., Path]
) -> None:
    stand_in_weights("vgg19", "resnet50", "alexnet")
    mirror = _esrgan_mirror(tmp_path, monkeypatch)
    out = tmp_path / "t5"
    args = ["study", "dp-table5", "--preset", "smoke", "--iterations", "2", "--datasets", "set5"]
    args += ["--seeds", "0,1", "--data", str(images), "--batch-size", "2", "--device", "cpu"]
    args += ["--mirror", str(mirror), "--out", str(out), "--quiet"]
    code, text = invoke(*args)
    assert code == 0, text
    assert "first stage rrdb seed 0: trained 2 iterations" in text and "esrgan@pub: evaluated" in text
    assert "esrgan-plus@pub: evaluated" in text
    assert "drn-l@pub: weights file drn/DRNL4x.pt in neither the weights cache nor a mirror as " in text
    table = (out / "table.md").read_text()
    t5 = load("dp_loss").table("table5")
    summary = json.loads((out / "summary.json").read_text())
    means = {(s["variant"], s["dataset"], s["metric"]): s for s in summary["summaries"]}
    rows = (
        ("bicubic", "bicubic"),
        ("esrgan", "esrgan@pub"),
        ("esrgan+", "esrgan-plus@pub"),
        ("esrgan-dp", "esrgan-dp"),
    )
    for row, label in rows:
        cell = t5.row(row).cell("set5", "psnr")
        s = means[(label, "set5", "psnr")]
        assert f"{cell.text} → {s['mean']:.2f}" in table
        assert (s["std"] is None) == (label != "esrgan-dp")  # ready members: one value
    assert "| DRN [37] | drn-l@pub: weights absent, printed only | 29.95 / 0.8522 / 0.1964 |" in table
    assert "| SFTGAN [23] | sftgan@pub: weights absent, printed only |" in table
    assert "- drn-l@pub: not evaluated, weights file drn/DRNL4x.pt in neither the weights cache" in table
    assert "- sftgan@pub: not evaluated, weights file sftgan/SFTGAN_torch.pth in neither" in table
    assert summary["weights_absent"].keys() == {"drn-l@pub", "sftgan@pub"} and "Unfinished" not in table
    assert "ESRGAN-DP" in table and "reproduced" in table or "not measured" in table
    assert summary["claims"] and all(":" in c for c in summary["claims"])
    assert "| esrgan-dp | esrgan@pub | set5 | lpips | 10 |" in table  # 2 seeds x 5 images, paired
    assert "Protocol of the paper's bicubic row" in table
    code, again = invoke(*args)  # resumable: every member finished before
    assert code == 0 and "finished before, skipped" in again and "evaluated before, skipped" in again
    code, other = invoke(*[a if a != "0,1" else "1" for a in args])  # one seed
    assert code == 2 and "other options (seeds)" in other


@pytest.mark.slow
@requires_shared
@pytest.mark.parametrize("name", [n for n in spec_names() if n != "dp-table5"])
def test_every_spec_runs_end_to_end_on_cpu(
    name: str, images: Path, tmp_path: Path, stand_in_weights: Callable[..., Path]
) -> None:
    from tests.conftest import STAND_IN_BUILDERS

    stand_in_weights(
        *(k for k in ("vgg19", "resnet50", "alexnet", "inception-fid") if k in STAND_IN_BUILDERS)
    )
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "Set5").symlink_to(SHARED_BENCHMARKS / "Set5", target_is_directory=True)
    args = ["study", name, "--iterations", "1", "--datasets", "set5", "--seeds", "1", "--data", str(images)]
    args += ["--batch-size", "2", "--device", "cpu", "--mirror", str(mirror), "--out", str(tmp_path / "s")]
    code, text = invoke(*args, "--quiet")
    assert code == 0, text
    table = (tmp_path / "s" / "table.md").read_text()
    spec = load_spec(name)
    assert all(m.label in table for m in spec.members)
    assert "Unfinished" not in table
    if spec.paper is not None:
        assert "→" in table
