"""The training loop's pieces: two identical seeded runs write identical checkpoints and logs, the
logging interval's means, and the progress shown (one line per log interval when stderr is not a
terminal, a bar when it is, nothing with ``progress=False``)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
import torch

from srbench_eval.models import checkpoints as ckpts
from srbench_eval.ranks import DistEnv
from srbench_eval.training import TrainConfig, train
from srbench_eval.training import progress as progress_module
from srbench_eval.training.progress import Interval, Progress, stderr_is_terminal
from tests.test_train import GAN_NO_VGG, TINY_SRCNN, _states_equal, make_images

TIMING = ("it_per_s", "img_per_s")


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_images(tmp_path_factory.mktemp("loop_hr"))


def _config(images: Path, root: Path, **fields: object) -> TrainConfig:
    base: dict[str, object] = dict(
        model="srcnn",
        preset="smoke",
        data=str(images),
        val=str(images),
        iterations=4,
        batch_size=2,
        hr_patch=16,
        checkpoints=str(root),
        log_every=2,
        progress=False,
        overrides=TINY_SRCNN,
    )
    base.update(fields)
    return TrainConfig(**base)  # type: ignore[arg-type]


def _log_without_timing(run_dir: Path) -> list[dict]:
    """The records of ``log.jsonl`` without the throughput and the checkpoint paths (run folders)."""
    records = [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k not in (*TIMING, "checkpoint")} for r in records]


def test_two_identical_seeded_runs_write_identical_checkpoints_and_logs(images: Path, tmp_path: Path) -> None:
    """ESRGAN's G/D alternation with EMA, LR milestones and periodic checkpoints, twice on the CPU."""
    fields = dict(
        model="esrgan", overrides=GAN_NO_VGG, init="none", ema=0.9, val="none", hr_patch=32, save_every=2
    )
    a = train(_config(images, tmp_path / "a", **fields))
    b = train(_config(images, tmp_path / "b", **fields))
    names = sorted(p.name for p in a.run_dir.glob("*.pt"))
    assert names == sorted(p.name for p in b.run_dir.glob("*.pt")) == ["step_0000002.pt", "step_0000004.pt"]
    for name in names:
        ca, cb = ckpts.load_checkpoint(a.run_dir / name), ckpts.load_checkpoint(b.run_dir / name)
        for key in ("generator", "generator_ema", "discriminator", "optimizers", "schedulers", "rng"):
            _states_equal({key: ca[key]}, {key: cb[key]})
        assert ca["step"] == cb["step"] and ca["data"] == cb["data"]
    log_a, log_b = _log_without_timing(a.run_dir), _log_without_timing(b.run_dir)
    assert [r["step"] for r in log_a if r["kind"] == "train"] == [2, 4]
    assert log_a == log_b


def test_a_run_piped_prints_one_progress_line_per_log_interval(
    images: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 25: with stderr not a terminal (a pipe, a CI log) the bar gives way to lines."""
    result = train(_config(images, tmp_path / "c", iterations=5, val="none", progress=True))
    err = capsys.readouterr().err
    assert "\r" not in err  # no bar redrawn in the log
    lines = err.splitlines()
    pattern = re.escape(result.label) + r": step (\d+)/5 \(\d+%\) loss \S+ pixel \S+ "
    pattern += r"\| \d+\.\d\d it/s, ETA \d+:\d\d:\d\d"
    steps = [int(m.group(1)) for m in (re.fullmatch(pattern, line) for line in lines) if m]
    assert steps == [2, 4, 5] and len(lines) == 3, err


def test_no_progress_prints_nothing(images: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train(_config(images, tmp_path / "d", iterations=2, val="none", progress=False))
    assert capsys.readouterr().err == ""


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_the_bar_is_drawn_and_no_line_printed() -> None:
    term = _Terminal()
    assert stderr_is_terminal(term) and not stderr_is_terminal(io.StringIO())
    shown = Progress("srcnn", 0, 4, enabled=True, stream=term)
    assert not shown.lines
    shown.update()
    shown.update()
    shown.interval(2, {"loss": 0.5, "pixel": 0.5}, None, 3.0)
    shown.close()
    out = term.getvalue()
    assert "srcnn" in out and "2/4" in out and "ETA" not in out


def test_the_eta_is_the_remaining_steps_at_the_pace_since_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """Resumed at step 4 of 20, 10 s for 2 steps: 14 steps left take 70 s."""
    clock = iter([100.0, 110.0])
    monkeypatch.setattr(progress_module.time, "perf_counter", lambda: next(clock))
    out = io.StringIO()
    shown = Progress("rrdb", 4, 20, enabled=True, stream=out)
    shown.interval(6, {"loss": 0.25, "dp.zeta": 1.5, "dp.other": 2.0}, {"psnr": 30.123}, 0.2)
    shown.close()
    assert (
        out.getvalue() == "rrdb: step 6/20 (30%) loss 0.25 dp.zeta 1.5 psnr 30.12 | 0.20 it/s, ETA 0:01:10\n"
    )


def test_the_interval_means_its_steps_and_keeps_a_non_finite_flag() -> None:
    interval = Interval(0, torch.zeros((), dtype=torch.bool))
    interval.add({"loss": torch.tensor(1.0), "pixel": torch.tensor(4.0)}, torch.tensor(False))
    interval.add({"loss": torch.tensor(3.0), "pixel": torch.tensor(2.0)}, torch.tensor(True))
    interval.add({"loss": torch.tensor(2.0), "pixel": torch.tensor(0.0)}, torch.tensor(False))
    assert interval.steps == 3 and interval.means(DistEnv()) == {"loss": 2.0, "pixel": 2.0}
    assert bool(interval.bad)
    interval.restart(3)
    assert interval.since == 3 and interval.steps == 0 and interval.sums == {} and bool(interval.bad)
