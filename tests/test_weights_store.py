"""One weights store: every file a metric, loss or published model needs is found in its cache, then in
a mirror as ``<mirror>/weights/<file>``, and `weights list/fetch/verify` agree; `run` fails early."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
from pathlib import Path

import pytest

from srbench_eval import weights
from srbench_eval.cli import main
from srbench_eval.evaluation import plan as plan_module
from srbench_eval.evaluation.plan import RunConfig, check_early
from tests.conftest import SHARED, requires_shared

PRISTINE = SHARED / "oracles" / "iqa" / "niqe_pris_params.npz"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty TORCH_HOME and data cache; stand-ins not allowed."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("SRBENCH_DATA", str(tmp_path / "data"))
    monkeypatch.delenv(weights.ALLOW_STAND_INS_ENV, raising=False)
    return tmp_path


def _fake_mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A mirror holding a small file for every weights key, each registered with its own prefix."""
    mirror = tmp_path / "mirror"
    (mirror / "weights").mkdir(parents=True)
    for key in list(weights.WEIGHTS):
        data = f"weights of {key}".encode()
        entry = dataclasses.replace(weights.get(key), sha256_prefix=hashlib.sha256(data).hexdigest()[:8])
        monkeypatch.setitem(weights.WEIGHTS, key, entry)
        (mirror / "weights" / entry.filename).write_bytes(data)
    return mirror


def test_every_weights_file_is_found_through_a_mirror_by_run(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mirror = _fake_mirror(tmp_path, monkeypatch)
    metrics = ("psnr", "lpips", "lpips-vgg", "dists", "fid", "fid-patch", "niqe")
    check_early(RunConfig(models=("bicubic",), datasets=("demo",), metrics=metrics, mirror=str(mirror)))
    for key in ("alexnet", "vgg16", "inception-fid", "niqe-pris"):  # copied into the cache, checked
        cached = weights.path_of(key)
        assert cached.read_bytes() == (mirror / "weights" / cached.name).read_bytes() and weights.is_genuine(
            key
        )
    # The losses' backbones: through $SRBENCH_MIRROR, or the mirror a training was given.
    monkeypatch.setenv("SRBENCH_MIRROR", str(mirror))
    assert weights.require("vgg19", "loss vgg") == weights.path_of("vgg19")
    monkeypatch.delenv("SRBENCH_MIRROR")
    with pytest.raises(Exception, match="nor in a mirror as <mirror>/weights/resnet50"):
        weights.require("resnet50", "loss resnet")
    with weights.mirror_in_use(str(mirror)):
        assert weights.require("resnet50", "loss resnet").is_file()


def test_a_wrong_file_in_the_mirror_is_refused(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mirror = _fake_mirror(tmp_path, monkeypatch)
    (mirror / "weights" / weights.get("alexnet").filename).write_bytes(b"truncated")
    assert (
        main(
            [
                "run",
                "--models",
                "bicubic",
                "--datasets",
                "demo",
                "--metrics",
                "lpips",
                "--mirror",
                str(mirror),
            ]
        )
        == 2
    )
    assert not weights.path_of("alexnet").exists()


@pytest.mark.slow
@requires_shared
def test_run_scores_lpips_and_niqe_with_weights_from_a_mirror(
    stand_in_weights, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = stand_in_weights("alexnet") / weights.get("alexnet").filename
    mirror = tmp_path / "mirror"
    (mirror / "weights").mkdir(parents=True)
    (mirror / "weights" / source.name).symlink_to(source)
    shutil.copyfile(PRISTINE, mirror / "weights" / weights.get("niqe-pris").filename)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty"))  # nothing cached
    out = tmp_path / "run"
    argv = ["run", "--quiet", "--models", "bicubic", "--datasets", "demo", "--metrics", "psnr,lpips,niqe"]
    assert main([*argv, "--mirror", str(mirror), "--out", str(out)]) == 0
    assert weights.path_of("alexnet").is_file() and weights.path_of("niqe-pris").is_file()
    assert "LPIPS" in (out / "table.md").read_text() and "NIQE" in (out / "table.md").read_text()


@requires_shared
def test_fetch_from_a_mirror_then_list_and_verify_agree(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mirror = home / "mirror"
    (mirror / "weights").mkdir(parents=True)
    shutil.copyfile(PRISTINE, mirror / "weights" / weights.get("niqe-pris").filename)
    assert main(["weights", "verify", "niqe"]) == 2
    err = capsys.readouterr().err
    assert (
        "weights fetch" in err
        and str(weights.checkpoint_dir()) in err
        and "<mirror>/weights/<file name>" in err
    )
    assert main(["weights", "fetch", "niqe-pris", "--mirror", str(mirror)]) == 0
    assert main(["weights", "list", "niqe"]) == 0 and "present" in capsys.readouterr().out
    assert main(["weights", "verify", "niqe"]) == 0
    # Published models: fetched from the mirror into the cache, so `weights list` (no mirror) agrees.
    oracles = str(SHARED / "oracles")
    assert main(["weights", "verify", "srcnn-955@pub"]) == 2
    err = capsys.readouterr().err
    assert "weights fetch NAME@pub" in err and str(weights.published_dir()) in err and "hub" not in err
    assert main(["weights", "fetch", "srcnn-955@pub", "--mirror", oracles]) == 0
    capsys.readouterr()
    assert main(["weights", "list", "srcnn-955@pub"]) == 0
    listed = capsys.readouterr().out
    assert listed.count("present") == 3 and "MISSING" not in listed
    assert main(["weights", "verify", "srcnn-955@pub"]) == 0


def test_model_and_device_errors_come_before_any_dataset_is_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from srbench_eval.data.datasets import registry
    from srbench_eval.training.config import TrainConfig, resolve

    def opened(*args: object, **kw: object) -> None:
        raise AssertionError("a dataset was opened before the model error")

    monkeypatch.setattr(registry, "find_images", opened)
    base = ["run", "--datasets", "set5", "--checkpoints", str(tmp_path)]
    assert main([*base, "--models", "esrgan,esrgan-dp,nope", "--scale", "2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "recipes esrgan, esrgan-dp at x2" in err and "unknown model 'nope'" in err
    assert "--model esrgan --scale 2 --set scales=2" in err
    resolve(
        TrainConfig(model="esrgan", preset="smoke", scale=2, overrides=("scales=2",), data="x")
    )  # accepted
    monkeypatch.setattr(plan_module, "gpu_driver_present", lambda: False)
    assert main([*base, "--models", "bicubic", "--device", "cuda"]) == 2
    assert "no CUDA GPU is available" in capsys.readouterr().err
