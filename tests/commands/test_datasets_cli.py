"""`srbench-eval datasets list|download|verify|manifest` through the console entry point."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from srbench_eval.cli import main
from srbench_eval.data.datasets.manifest import pixel_hash
from srbench_eval.data.io.images import write_image
from tests.data import conftest as data_fixtures
from tests.data.conftest import HttpMirror, Toy, make_tar

# the dataset fixtures of tests/data, made available here
srbench_env = data_fixtures.srbench_env
http_mirror = data_fixtures.http_mirror
toy = data_fixtures.toy

pytestmark = pytest.mark.usefixtures("srbench_env")


def test_list_shows_every_dataset(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["datasets", "list"]) == 0
    out = capsys.readouterr().out
    for name in ("set5", "set14", "bsd100", "urban100", "manga109", "div2k-train", "div2k-valid", "demo"):
        assert f"\n{name} " in out
    assert "absent" in out and "scikit-image" in out


def test_download_list_and_verify(
    toy: Toy, http_mirror: HttpMirror, capsys: pytest.CaptureFixture[str]
) -> None:
    make_tar(http_mirror.root / "toy.tar", toy.files())
    assert main(["datasets", "download", "toy", "--mirror", http_mirror.url, "--strict"]) == 0
    assert "toy: 3 images, manifest ok (cache " in capsys.readouterr().out
    assert main(["datasets", "list"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("toy "))
    assert "cache " in line and line.endswith("; manifest ok")
    assert main(["datasets", "verify", "toy", "demo", "--strict"]) == 0
    out = capsys.readouterr().out
    assert "toy: 3 images, manifest ok" in out and "demo: 5 images, manifest ok" in out


def test_verify_strict_fails_on_wrong_pixels(
    toy: Toy, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = toy.write_folder(tmp_path / "mirror" / "Toy" / "HR")
    write_image(folder / "beta.png", 255 - toy.images["beta"])
    args = ["datasets", "verify", "toy", "--mirror", str(tmp_path / "mirror")]
    assert main(args) == 0
    assert "differs from manifest: 1 images (pixels differ: beta)" in capsys.readouterr().out
    assert main([*args, "--strict"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: toy: differs from datasets.yaml") and err.count("\n") == 1


def test_unknown_name_and_missing_dataset(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["datasets", "verify", "set05"]) == 2
    assert "did you mean 'set5'?" in capsys.readouterr().err
    assert main(["datasets", "download", "urban100"]) == 2
    err = capsys.readouterr().err
    assert "urban100 is not available" in err and "--datasets demo" in err and err.count("\n") == 1


def test_manifest_block(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    img = np.arange(13 * 14 * 3, dtype=np.uint8).reshape(13, 14, 3)
    write_image(tmp_path / "0801.png", img)
    assert main(["datasets", "manifest", str(tmp_path)]) == 0
    block = yaml.safe_load(capsys.readouterr().out)
    assert block == {"manifest": {"0801": str(pixel_hash(img))}}
