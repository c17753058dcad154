"""`srbench-eval study` on tiny models: sweeps, resume of a half-finished study, the statistics
against SciPy, --plan commands that the CLI runs, and the ESRGAN trio with stand-in weights."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from scipy import stats as scipy_stats

from srbench_eval.cli import cli
from srbench_eval.errors import SrbenchError
from srbench_eval.runs.results import ImageValue
from srbench_eval.studies import (
    Member,
    Study,
    expand_overrides,
    members,
    paired_comparisons,
    parse_seeds,
    run_study,
    seed_summaries,
    train_config,
)
from srbench_eval.training import train
from srbench_eval.training.logs import read_log
from tests.test_train import TINY_RRDB, TINY_SRCNN, make_images


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_images(tmp_path_factory.mktemp("study_hr"), n=3, size=(32, 36))


def tiny_study(images: Path, **fields: object) -> Study:
    base: dict[str, object] = dict(
        recipes=("srcnn", "srcnn-fdl"),
        seeds=(0, 1),
        data=str(images),
        iterations=2,
        batch_size=2,
        hr_patch=16,
        overrides=TINY_SRCNN,
        device="cpu",
        datasets=(str(images),),
        bicubic=False,
    )
    base.update(fields)
    return Study(**base)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- sweeps


def test_sweep_expands_every_combination_in_order() -> None:
    assert expand_overrides([]) == [()]
    assert expand_overrides(["loss.dp.mu=0.5,1,5"]) == [
        ("loss.dp.mu=0.5",),
        ("loss.dp.mu=1",),
        ("loss.dp.mu=5",),
    ]
    assert expand_overrides(["a.b=1,2", "train.lr=1e-4"]) == [
        ("a.b=1", "train.lr=1e-4"),
        ("a.b=2", "train.lr=1e-4"),
    ]
    assert len(expand_overrides(["a.b=1,2", "c.d=3,4,5"])) == 6
    # list values inside a sweep: items joined by '+'; an exponent's '+' stays
    assert expand_overrides(["train.milestones=2+4,3+6", "train.lr=1e+3"]) == [
        ("train.milestones=2,4", "train.lr=1e+3"),
        ("train.milestones=3,6", "train.lr=1e+3"),
    ]
    with pytest.raises(SrbenchError, match="expected PATH=VALUE"):
        expand_overrides(["loss.dp.mu=1,,2"])


def test_members_one_per_variant_and_seed(images: Path) -> None:
    study = tiny_study(images, recipes=("esrgan-dp",), overrides=("loss.dp.mu=0.5,1",), seeds=(0, 3))
    got = [(m.variant, m.seed) for m in members(study)]
    assert got == [
        ("esrgan-dp[dp.mu=0.5]", 0),
        ("esrgan-dp[dp.mu=0.5]", 3),
        ("esrgan-dp[dp.mu=1]", 0),
        ("esrgan-dp[dp.mu=1]", 3),
    ]
    assert parse_seeds("3") == (0, 1, 2) and parse_seeds("0,4") == (0, 4) and parse_seeds(2) == (0, 1)
    with pytest.raises(SrbenchError, match="override 'loss.dp.nope=1'"):
        members(tiny_study(images, recipes=("esrgan-dp",), overrides=("loss.dp.nope=1",)))


# --------------------------------------------------------------------------- statistics


def _rows(variant: str, seed: int, values: list[float], dataset: str = "d") -> list[ImageValue]:
    return [ImageValue(variant, dataset, 4, f"i{k}", "psnr", v) for k, v in enumerate(values)]


def test_statistics_against_scipy() -> None:
    rng = np.random.default_rng(3)
    ref = {s: rng.normal(30, 1, 8) for s in range(3)}
    other = {s: ref[s] + rng.normal(0.2, 0.3, 8) for s in range(3)}
    rows = {("a", s): _rows("a", s, list(ref[s])) for s in range(3)}
    rows |= {("b", s): _rows("b", s, list(other[s])) for s in range(3)}
    summaries = seed_summaries(rows, ["a", "b"])
    b = next(x for x in summaries if x.variant == "b")
    per_seed = [other[s].mean() for s in range(3)]
    assert b.per_seed == pytest.approx(dict(enumerate(per_seed)))
    assert b.mean == pytest.approx(np.mean(per_seed)) and b.std == pytest.approx(scipy_stats.tstd(per_seed))
    (c,) = paired_comparisons(rows, ["a", "b"])
    diffs = np.concatenate([other[s] - ref[s] for s in range(3)])
    assert c.model == "b" and c.reference == "a" and c.n == 24
    assert c.mean_diff == pytest.approx(diffs.mean())
    assert c.p_wilcoxon == pytest.approx(scipy_stats.wilcoxon(diffs).pvalue)
    ci = scipy_stats.bootstrap((diffs,), np.mean, method="percentile", n_resamples=20000, random_state=1)
    assert c.ci_low == pytest.approx(ci.confidence_interval.low, abs=0.02)
    assert c.ci_high == pytest.approx(ci.confidence_interval.high, abs=0.02)
    assert c.ci_low < diffs.mean() < c.ci_high


def test_paired_uses_only_seeds_both_finished() -> None:
    rows = {("a", 0): _rows("a", 0, [1.0, 2.0]), ("a", 1): _rows("a", 1, [1.0, 2.0])}
    rows[("b", 1)] = _rows("b", 1, [2.0, 4.0])
    (c,) = paired_comparisons(rows, ["a", "b"])
    assert c.n == 2 and c.mean_diff == pytest.approx(1.5)


# --------------------------------------------------------------------------- running a study


def test_half_finished_study_resumes_and_skips(images: Path, tmp_path: Path) -> None:
    study = tiny_study(images, iterations=4, save_every=1)
    root = tmp_path / "study"
    # a member killed after step 2 (its checkpoint and log stay, as after kill -9 between saves)
    killed = Member("srcnn-fdl", TINY_SRCNN, 1, members(study)[3].variant)
    assert members(study)[3] == killed
    stopped = train(replace(train_config(study, killed, killed.folder(root) / "checkpoints"), stop_after=2))
    assert not stopped.finished and stopped.step == 2
    lines: list[str] = []
    result = run_study(study, root, echo=lines.append)
    assert len(lines) == 4 and all("trained 4 iterations and evaluated" in line for line in lines)
    events = [r["event"] for r in read_log(stopped.run_dir, "event")]
    assert events[:2] == ["start", "stop"] and "resume" in events and events[-1] == "end"
    assert not result.missing and len(result.comparisons) == 2  # psnr and ssim against srcnn
    table = (root / "table.md").read_text()
    assert "| srcnn-fdl[arch.num_feat=4,arch.num_feat2=4] |" in table and "seed 1" in table
    summary = json.loads((root / "summary.json").read_text())
    assert summary["comparisons"][0]["n"] == 2 * 3  # seeds x images
    assert (root / "per_seed.csv").read_text().count(
        "\n"
    ) == 1 + 2 * 2 * 2  # header + variant x seed x metric
    # run again: everything finished is skipped, nothing retrained
    stamp = {p: p.stat().st_mtime_ns for p in root.rglob("*.pt")}
    again: list[str] = []
    run_study(study, root, echo=again.append)
    assert again == ["4 member(s) finished before: skipped"]
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*.pt")} == stamp
    # another study in the same folder is refused, naming the difference
    with pytest.raises(SrbenchError, match="holds another study .*iterations"):
        run_study(tiny_study(images, iterations=5), root)


def test_plan_commands_run_through_the_cli(images: Path, tmp_path: Path) -> None:
    """--plan prints one train && run line per member; running them and then the study command on
    the folder writes the table without training again."""
    root = tmp_path / "study"
    args = ["study", "--recipes", "srcnn,srcnn-fdl", "--seeds", "2", "--data", str(images)]
    args += ["--iterations", "2", "--batch-size", "2", "--patch", "16", "--device", "cpu"]
    args += ["--datasets", str(images), "--out", str(root), "--quiet"]
    for o in TINY_SRCNN:
        args += ["--set", o]
    out = CliRunner().invoke(cli, [*args, "--plan"])
    assert out.exit_code == 0, out.output
    lines = [line for line in out.output.splitlines() if not line.startswith("#")]
    assert len(lines) == 4
    for line in lines:
        train_part, run_part = line.split(" && ")
        t, r = shlex.split(train_part), shlex.split(run_part)
        assert t[:2] == ["srbench-eval", "train"] and "--resume" in t and "--seed" in t
        assert r[:2] == ["srbench-eval", "run"] and r[r.index("--out") + 1].endswith("/run")
        for part in (t, r):
            res = CliRunner().invoke(cli, part[1:])
            assert res.exit_code == 0, res.output
    done = CliRunner().invoke(cli, ["study", str(root / "study.json"), "--quiet"])
    assert done.exit_code == 0, done.output
    assert "4 member(s) finished before: skipped" in done.output
    assert (
        "| srcnn-fdl[arch.num_feat=4,arch.num_feat2=4] | srcnn[arch.num_feat=4,arch.num_feat2=4] |"
        in done.output
    )
    assert CliRunner().invoke(cli, [*args, "--plan"]).output.startswith("# afterwards")


def test_study_file_and_bad_input(images: Path, tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text("recipes: [srcnn]\nseeds: 1\nnope: 2\n")
    res = CliRunner().invoke(cli, ["study", str(tmp_path / "s.yaml"), "--plan"], standalone_mode=False)
    assert isinstance(res.exception, SrbenchError) and "unknown study field 'nope'" in str(res.exception)
    with pytest.raises(SrbenchError, match="recipe is listed twice"):
        tiny_study(images, recipes=("srcnn", "srcnn")).check()


def test_esrgan_trio_end_to_end(images: Path, tmp_path: Path, stand_in_weights: Callable[..., Path]) -> None:
    """esrgan vs esrgan-vr vs esrgan-dp: the first stage (rrdb) trained once per seed, every member
    starting from it, then evaluated and compared with esrgan."""
    stand_in_weights("vgg19", "resnet50")
    hr = make_images(tmp_path / "hr64", n=2, size=(64, 72))
    study = tiny_study(
        hr,
        recipes=("esrgan", "esrgan-vr", "esrgan-dp"),
        seeds=(0,),
        iterations=1,
        hr_patch=None,
        overrides=TINY_RRDB,
        datasets=(str(hr),),
    )
    lines: list[str] = []
    result = run_study(study, tmp_path / "study", echo=lines.append)
    assert lines[0] == "first stage rrdb seed 0: trained 1 iterations"
    assert len(lines) == 4 and not result.missing
    assert {c.model.split("[")[0] for c in result.comparisons} == {"esrgan-vr", "esrgan-dp"}
    member = members(study)[2]
    from srbench_eval.models import checkpoints as ckpts

    ckpt = ckpts.load_checkpoint(next((member.folder(tmp_path / "study") / "checkpoints").rglob("*.pt")))
    assert ckpt["init"]["recipe"] == "rrdb"


def test_rrdb_vs_rrdb_sog(images: Path, tmp_path: Path) -> None:
    study = tiny_study(images, recipes=("rrdb", "rrdb-sog"), seeds=(0,), iterations=1, overrides=TINY_RRDB)
    result = run_study(study, tmp_path / "study", echo=lambda line: None)
    assert not result.missing
    assert [c.model for c in result.comparisons] == ["rrdb-sog[" + ",".join(TINY_RRDB) + "]"] * 2


def test_pairs_choose_the_references() -> None:
    rows = {(v, 0): _rows(v, 0, [1.0, 2.0, 3.0]) for v in ("a", "b", "c", "d")}
    rows[("d", 0)] = _rows("d", 0, [2.0, 3.0, 4.5])
    got = paired_comparisons(rows, ["a", "b", "c", "d"], [("b", "a"), ("d", "c")])
    assert [(c.model, c.reference) for c in got] == [("b", "a"), ("d", "c")]
    assert got[1].mean_diff == pytest.approx(7 / 6)
    with pytest.raises(SrbenchError, match="use RECIPE:REFERENCE"):
        Study(recipes=("srcnn", "lapsrn"), pairs=("srcnn:rrdb",)).check()
