"""Fault injection on `srbench-eval study` (issue 27): a hand-edited ``study.json``, conflicting
sweeps, ``--out`` over a finished run, two studies on one folder, workers outliving their parent,
absurd seed counts, and the one-seed table cell (issue 25).

Every case runs the real command line on tiny images and a tiny SRCNN and checks the exit status,
the one-line message, that no traceback is printed, and what is on disk afterwards (a finished
study or run byte-identical; for the worker cases, the process table and the temporary files).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from srbench_eval.cli import main
from srbench_eval.studies import Study, run_study
from srbench_eval.studies.workers import locked
from tests.faults.test_train_faults import assert_one_line_error, cli
from tests.test_train import TINY_SRCNN, make_images

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_images(tmp_path_factory.mktemp("study_faults_hr"), n=2, size=(32, 36))


@pytest.fixture(scope="module")
def finished(images: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One finished study: srcnn, one seed, two iterations, with its bicubic run."""
    study = Study(
        recipes=("srcnn",),
        seeds=(0,),
        data=str(images),
        iterations=2,
        batch_size=2,
        hr_patch=16,
        overrides=TINY_SRCNN,
        device="cpu",
        datasets=(str(images),),
    )
    root = tmp_path_factory.mktemp("study_faults") / "study"
    run_study(study, root, echo=lambda line: None)
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def copy_study(finished: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(finished, tmp_path / "study"))


def edit_study(root: Path, **fields: object) -> dict[str, bytes]:
    """Set ``fields`` in ``root/study.json``; the snapshot of the folder after the edit."""
    path = root / "study.json"
    doc = json.loads(path.read_text())
    doc.update(fields)
    path.write_text(json.dumps(doc, indent=2) + "\n")
    return snapshot(root)


def tiny_args(images: Path, out: Path, *extra: str) -> list[str]:
    args = ["study", "--recipes", "srcnn", "--seeds", "1", "--data", str(images), "--iterations", "2"]
    args += ["--batch-size", "2", "--patch", "16", "--device", "cpu", "--datasets", str(images)]
    args += ["--out", str(out), "--quiet"]
    return args + [a for o in TINY_SRCNN for a in ("--set", o)] + list(extra)


# --------------------------------------------------------------------------- 1: study.json edited


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("scale", 2),
        ("iterations", 3),
        ("preset", "paper"),
        ("protocol", "basicsr"),
        ("metrics", ["psnr"]),
        ("batch_size", 4),
    ],
)
def test_edited_study_json_never_relabels_finished_members(
    finished: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], field: str, value: object
) -> None:
    root = copy_study(finished, tmp_path)
    before = edit_study(root, **{field: value})
    rc, output = cli(capsys, ["study", str(root / "study.json"), "--quiet"])
    line = assert_one_line_error(rc, output, f"study field '{field}'", "restore")
    assert "finished before" not in output, line
    assert snapshot(root) == before


def test_edited_datasets_and_data_are_refused(
    finished: Path, images: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = make_images(tmp_path / "other", n=2, size=(32, 36))
    for field, value in (("datasets", [str(other)]), ("data", str(other))):
        root = copy_study(finished, tmp_path / field)
        before = edit_study(root, **{field: value})
        rc, output = cli(capsys, ["study", str(root), "--quiet"])
        assert_one_line_error(rc, output, f"study field '{field}'")
        assert snapshot(root) == before


def test_pruned_checkpoints_are_verified_from_the_run_record(
    finished: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Checkpoints deleted after the evaluation (to save space): the run's record of the checkpoint
    it evaluated is checked instead; unchanged, the study is skipped; edited, the field is named."""
    root = copy_study(finished, tmp_path)
    for ckpt in root.rglob("*.pt"):
        ckpt.unlink()
    rc, output = cli(capsys, ["study", str(root), "--quiet"])
    assert rc == 0 and "1 member(s) finished before: skipped" in output, output
    before = edit_study(root, iterations=3)
    rc, output = cli(capsys, ["study", str(root), "--quiet"])
    assert_one_line_error(rc, output, "study field 'iterations'", "summary.json")
    assert snapshot(root) == before


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("scale", "four", "'four'"),
        ("scale", 1, "scale"),
        ("iterations", -5, "-5"),
        ("iterations", 2.5, "2.5"),
        ("preset", "huge", "'huge'"),
        ("protocol", "nosuch", "nosuch"),
        ("data", None, "'data'"),
        ("device", "tpu", "'tpu'"),
        ("bicubic", "yes", "'bicubic'"),
        ("seeds", [0, "x"], "seeds"),
        ("metrics", ["nosuch"], "nosuch"),
        ("overrides", ["arch.nope=1"], "arch.nope"),
    ],
)
def test_invalid_study_json_values_are_refused(
    finished: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    field: str,
    value: object,
    named: str,
) -> None:
    root = copy_study(finished, tmp_path)
    before = edit_study(root, **{field: value})
    rc, output = cli(capsys, ["study", str(root / "study.json"), "--quiet"])
    assert_one_line_error(rc, output, named)
    assert snapshot(root) == before


def test_unchanged_study_reruns_and_the_one_seed_cell(
    finished: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The untouched copy (moved: other absolute paths) is verified and skipped; one seed prints the
    mean alone, marked "(1 seed)" (issue 25: not ``21.11 +- -``)."""
    root = copy_study(finished, tmp_path)
    members = {k: v for k, v in snapshot(root).items() if k.startswith("members/")}
    rc, output = cli(capsys, ["study", str(root), "--quiet"])
    assert rc == 0, output
    assert "1 member(s) finished before: skipped" in output
    assert {k: v for k, v in snapshot(root).items() if k.startswith("members/")} == members
    table = (root / "table.md").read_text()
    assert "+- -" not in table and " (1 seed) | " in table


# --------------------------------------------------------------------------- 2: sweeps


@pytest.mark.parametrize(
    ("sets", "named"),
    [
        (["train.lr=1e-2,1e-3", "train.lr=1e-1"], "both set train.lr"),
        (["train.lr=1e-4,0.0001"], "'1e-4' and '0.0001'"),
        (["train.milestones=2+4,2+4.0"], "'2,4' and '2,4.0'"),
    ],
)
def test_conflicting_or_equal_sweeps_are_refused(
    images: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], sets: list[str], named: str
) -> None:
    out = tmp_path / "st"
    extra = [a for s in sets for a in ("--set", s)]
    rc, output = cli(capsys, [*tiny_args(images, out, *extra), "--plan"])
    assert_one_line_error(rc, output, named)
    assert not out.exists()


# --------------------------------------------------------------------------- 3: --out over a finished run


@pytest.fixture(scope="module")
def finished_run(images: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("study_faults_run") / "run"
    argv = ["run", "--quiet", "--models", "bicubic", "--datasets", str(images), "--out", str(out)]
    assert main(argv) == 0
    return out


def test_no_command_overwrites_a_finished_run_or_study(
    finished: Path,
    finished_run: Path,
    images: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    study = copy_study(finished, tmp_path)
    before = {p: snapshot(p) for p in (finished_run, study)}
    cases = [
        (tiny_args(images, finished_run), "a finished run"),
        ([*tiny_args(images, finished_run), "--plan"], "a finished run"),
        (tiny_args(images, study / "bicubic"), "a finished run"),
        (["report", str(finished_run), "--out", str(study)], "finished run or study folder"),
        (["figures", str(finished_run), "--out", str(finished_run)], "finished run or study folder"),
        (["table", str(finished_run), "--out", str(finished_run / "table.md")], "not overwritten"),
        (["table", str(finished_run), "--out", str(study / "summary.json")], "not overwritten"),
        (
            ["compare", str(finished_run), "--reference", "bicubic", "--out", str(study / "table.md")],
            "inside the finished run or study",
        ),
        (
            ["check", "--baseline", str(finished_run / "summary.json"), "--update", str(finished_run)],
            "inside",
        ),
        (
            ["check", "--baseline", str(study / "summary.json"), "--update", str(finished_run)],
            "not a srbench",
        ),
    ]
    for argv, named in cases:
        rc, output = cli(capsys, argv)
        assert_one_line_error(rc, output, named)
    for path, files in before.items():
        assert snapshot(path) == files, path
    # a new baseline file is still written, and rewritten
    baseline = tmp_path / "base.json"
    for _ in range(2):
        assert cli(capsys, ["check", "--baseline", str(baseline), "--update", str(finished_run)])[0] == 0


# --------------------------------------------------------------------------- 4: lock and workers


def test_second_study_on_a_locked_folder_is_refused(
    finished: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copy_study(finished, tmp_path)
    before = snapshot(root)
    with locked(root):  # as a first `study` holds it while it runs
        rc, output = cli(capsys, ["study", str(root), "--quiet"])
        assert_one_line_error(rc, output, "another srbench-eval study is running", str(root))
        rc, output = cli(capsys, ["study", str(root), "--quiet", "--plan"])
        assert_one_line_error(rc, output, "another srbench-eval study is running")
    assert snapshot(root) == before
    assert cli(capsys, ["study", str(root), "--quiet"])[0] == 0  # released


def session_processes(sid: int) -> list[int]:
    """Live (not zombie) processes of session ``sid``, from the process table."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        if fields[0] != "Z" and int(fields[3]) == sid:
            out.append(int(stat.parent.name))
    return out


def study_args(images: Path, out: Path) -> list[str]:
    """A two-member study with ``--jobs 2``, long enough to be stopped."""
    argv = tiny_args(images, out, "--jobs", "2")
    argv[argv.index("--iterations") + 1] = "100000"
    argv[argv.index("--recipes") + 1] = "srcnn,srcnn-fdl"
    return argv


def start_study(images: Path, out: Path) -> subprocess.Popen[bytes]:
    """:func:`study_args` in a process of its own session."""
    argv = study_args(images, out)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "srbench_eval.cli", *argv],
        env=env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def wait_for_workers(proc: subprocess.Popen[bytes], out: Path, timeout: float = 120.0) -> None:
    """Until both members write their training logs (the workers are training)."""
    deadline = time.monotonic() + timeout
    while len(list(out.glob("members/*/seed0/checkpoints/*/*/log.jsonl"))) < 2:
        assert proc.poll() is None, proc.communicate()[0].decode()
        assert time.monotonic() < deadline, "the workers did not start"
        time.sleep(0.5)
    assert len(session_processes(proc.pid)) >= 3  # the parent and two workers


def wait_until_gone(sid: int, timeout: float) -> float:
    start = time.monotonic()
    while session_processes(sid):
        assert time.monotonic() - start < timeout, f"orphans: {session_processes(sid)}"
        time.sleep(0.2)
    return time.monotonic() - start


def temporary_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".srbench")]


def killpg_left(proc: subprocess.Popen[bytes]) -> None:
    if session_processes(proc.pid):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_stop_with_their_parent_and_the_folder_is_locked(
    images: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two ``study --jobs 2`` at once (they share the wait for the workers to start): the same
    command again on the first one's folder is refused while it runs; then SIGTERM to the first
    parent (exit 143, workers gone within seconds) and SIGKILL to the second (workers gone, their
    logs no longer growing); no temporary file is left."""
    a_out, b_out = tmp_path / "a", tmp_path / "b"
    a, b = start_study(images, a_out), start_study(images, b_out)
    try:
        wait_for_workers(a, a_out)
        wait_for_workers(b, b_out)
        rc, output = cli(capsys, study_args(images, a_out))
        assert_one_line_error(rc, output, "another srbench-eval study is running", str(a_out))
        os.kill(a.pid, signal.SIGTERM)
        os.kill(b.pid, signal.SIGKILL)
        assert a.wait(timeout=15) == 128 + signal.SIGTERM
        b.wait(timeout=10)
        wait_until_gone(a.pid, timeout=10)
        wait_until_gone(b.pid, timeout=15)
        logs = {p: p.stat().st_size for p in b_out.glob("members/*/seed0/checkpoints/*/*/log.jsonl")}
        time.sleep(1.0)
        assert {p: p.stat().st_size for p in logs} == logs
    finally:
        killpg_left(a)
        killpg_left(b)
    assert temporary_files(a_out) == [] and temporary_files(b_out) == []


# --------------------------------------------------------------------------- bounds


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (["--seeds", "1000000"], "--seeds 1000000"),
        (["--seeds", ",".join(map(str, range(101)))], "at most 100"),
        (
            ["--seeds", "100", "--set", "train.lr=" + ",".join(f"{k}e-4" for k in range(1, 12))],
            "1100 members",
        ),
    ],
)
def test_seed_and_member_counts_are_bounded(
    images: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], named: str
) -> None:
    out = tmp_path / "st"
    argv = tiny_args(images, out, "--plan")
    argv[argv.index("--seeds") : argv.index("--seeds") + 2] = []
    start = time.monotonic()
    rc, output = cli(capsys, [*argv, *extra])
    assert_one_line_error(rc, output, named)
    assert time.monotonic() - start < 5 and not out.exists()


def test_missing_loss_and_metric_weights_stop_a_study_before_it_trains(
    images: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A spec whose members need VGG19/ResNet-50 (loss dp) and AlexNet (metric lpips), on a machine
    with none of them: one line naming every missing file and the fetch command, before any first
    stage or member trains (the study once trained its rrdb stages, then stopped at VGG19)."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty-torch-home"))
    monkeypatch.delenv("SRBENCH_MIRROR", raising=False)
    out = tmp_path / "study"
    argv = ["study", "dp-table5", "--preset", "smoke", "--iterations", "2", "--datasets", str(images)]
    line = assert_one_line_error(*cli(capsys, [*argv, "--out", str(out)]), "vgg19-dcbb9e9d.pth (loss dp)")
    assert "resnet50-0676ba61.pth (loss dp)" in line and "alexnet-owt-7be5be79.pth (metric lpips)" in line
    assert "'srbench-eval weights fetch alexnet vgg19 resnet50'" in line
    assert not list(out.rglob("*.pt")) and not (out / "init").exists() and not (out / "members").exists()
