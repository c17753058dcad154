"""`srbench-eval weights list|fetch|verify`."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest

from srbench_eval import weights
from srbench_eval.cli import main


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv(weights.ALLOW_STAND_INS_ENV, raising=False)
    return tmp_path


def test_list_names_every_file(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["weights", "list"]) == 0
    out = capsys.readouterr().out
    assert str(weights.checkpoint_dir()) in out
    for w in weights.WEIGHTS.values():
        assert w.filename in out and w.url in out and w.sha256_prefix in out
    assert out.count("MISSING") == len(weights.WEIGHTS)


def test_list_one_metric(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["weights", "list", "fid"]) == 0
    out = capsys.readouterr().out
    assert "pt_inception-2015-12-05-6726825d.pth" in out and "alexnet" not in out


def test_verify_fails_without_traceback(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["weights", "verify", "lpips"]) == 2
    captured = capsys.readouterr()
    assert "alexnet: missing" in captured.out
    err = captured.err.strip()
    assert err.startswith("error: 1 weights file(s) not usable: alexnet (missing)") and "Traceback" not in err


def test_fetch_then_verify(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    src = home / "alexnet.pth"
    src.write_bytes(b"the published alexnet, say")
    entry = dataclasses.replace(
        weights.get("alexnet"),
        url=src.as_uri(),
        sha256_prefix=hashlib.sha256(src.read_bytes()).hexdigest()[:8],
    )
    monkeypatch.setitem(weights.WEIGHTS, "alexnet", entry)
    assert main(["weights", "fetch", "--quiet", "lpips"]) == 0
    assert "alexnet: fetched" in capsys.readouterr().out
    assert main(["weights", "verify", "alexnet"]) == 0
    assert "alexnet: ok" in capsys.readouterr().out
    assert main(["weights", "fetch", "alexnet"]) == 0
    assert "alexnet: present" in capsys.readouterr().out


def test_fetch_offline_is_one_line(home: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    entry = dataclasses.replace(weights.get("vgg16"), url=(home / "absent.pth").as_uri())
    monkeypatch.setitem(weights.WEIGHTS, "vgg16", entry)
    assert main(["weights", "fetch", "--quiet", "vgg16"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot download") and err.count("\n") == 1


def test_unknown_name(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["weights", "list", "inception"]) == 2
    assert "unknown weights or metric/loss 'inception'" in capsys.readouterr().err
