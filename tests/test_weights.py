"""The weights registry: real file names and URLs, require/fetch/verify, the per-process network cache."""

from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path

import pytest
import torch

from srbench_eval import weights
from srbench_eval.digests import sha256_file_memo
from srbench_eval.errors import SrbenchError


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty TORCH_HOME; stand-ins not allowed."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv(weights.ALLOW_STAND_INS_ENV, raising=False)
    return tmp_path


def local_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str, data: bytes, prefix: str | None = None
):
    """Point ``key``'s URL at a local file (file:// goes through torch.hub's real downloader)."""
    src = tmp_path / "source.bin"
    src.write_bytes(data)
    real = hashlib.sha256(data).hexdigest()[:8]
    entry = dataclasses.replace(weights.get(key), url=src.as_uri(), sha256_prefix=prefix or real)
    monkeypatch.setitem(weights.WEIGHTS, key, entry)
    return entry


def test_names_and_urls_are_the_libraries_own() -> None:
    from pytorch_fid.inception import FID_WEIGHTS_URL
    from torchvision.models import AlexNet_Weights, ResNet50_Weights, VGG16_Weights, VGG19_Weights

    expected = {
        "alexnet": AlexNet_Weights.IMAGENET1K_V1.url,  # what lpips' pretrained=True resolves to
        "vgg16": VGG16_Weights.IMAGENET1K_V1.url,
        "vgg19": VGG19_Weights.IMAGENET1K_V1.url,
        "resnet50": ResNet50_Weights.IMAGENET1K_V1.url,
        "inception-fid": FID_WEIGHTS_URL,
    }
    for key, url in expected.items():
        w = weights.get(key)
        assert w.url == url and url.endswith("/" + w.filename) and w.sha256_prefix in w.filename


def test_keys_for() -> None:
    assert weights.keys_for(["lpips"]) == ["alexnet"]
    assert weights.keys_for(["fid", "fid-patch"]) == ["inception-fid"]
    assert weights.keys_for(["metric lpips-vgg", "vgg19"]) == ["vgg16", "vgg19"]
    assert weights.keys_for([]) == list(weights.WEIGHTS)
    with pytest.raises(SrbenchError, match="did you mean 'lpips'"):
        weights.keys_for(["lpip"])


def test_checkpoint_dir_follows_torch_home(home: Path) -> None:
    assert weights.checkpoint_dir() == home / "torch" / "hub" / "checkpoints"


def test_status_and_require(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert weights.status("vgg19").state == "missing"
    with pytest.raises(SrbenchError, match=r"loss vgg needs the weights file vgg19-dcbb9e9d\.pth"):
        weights.require("vgg19", "loss vgg")
    path = weights.path_of("vgg19")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not the published weights")
    assert weights.status("vgg19").state == "mismatch"
    with pytest.raises(SrbenchError, match="not the published"):
        weights.require("vgg19", "loss vgg")
    monkeypatch.setenv(weights.ALLOW_STAND_INS_ENV, "1")
    assert weights.require("vgg19", "loss vgg") == path
    assert "vgg19" in weights.stand_ins_used()


def test_hash_memo_sees_changed_files(home: Path) -> None:
    f = home / "f.bin"
    f.write_bytes(b"a")
    assert sha256_file_memo(f) == hashlib.sha256(b"a").hexdigest()
    f.write_bytes(b"bb")
    assert sha256_file_memo(f) == hashlib.sha256(b"bb").hexdigest()


def test_fetch_through_torch_hub(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    local_source(home, monkeypatch, "resnet50", b"published bytes")
    weights.path_of("resnet50").parent.mkdir(parents=True)
    weights.path_of("resnet50").write_bytes(b"a stand-in")  # a non-genuine file is replaced
    s = weights.fetch("resnet50", progress=False)
    assert s.ok and s.path.read_bytes() == b"published bytes"
    assert weights.fetch("resnet50", progress=False).ok  # present: nothing to do


def test_fetch_errors_are_one_line(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    local_source(home, monkeypatch, "alexnet", b"payload", prefix="00000000")
    with pytest.raises(SrbenchError, match="SHA-256 prefix check"):
        weights.fetch("alexnet", progress=False)
    assert not weights.path_of("alexnet").exists()
    entry = dataclasses.replace(weights.get("alexnet"), url=(home / "nowhere.pth").as_uri())
    monkeypatch.setitem(weights.WEIGHTS, "alexnet", entry)
    with pytest.raises(SrbenchError) as e:
        weights.fetch("alexnet", progress=False)
    assert "cannot download" in str(e.value) and "nowhere.pth" in str(e.value) and "\n" not in str(e.value)


def test_load_network_once_per_device_and_file(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(weights.ALLOW_STAND_INS_ENV, "1")
    path = weights.path_of("resnet50")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"x")
    built: list[int] = []

    def build() -> torch.nn.Module:
        built.append(1)
        return torch.nn.Linear(2, 2)

    a = weights.load_network("test-net", "resnet50", "test", "cpu", build)
    assert weights.load_network("test-net", "resnet50", "test", torch.device("cpu"), build) is a
    assert len(built) == 1 and not a.training and not any(p.requires_grad for p in a.parameters())
    path.write_bytes(b"yy")  # another file: loaded afresh
    os.utime(path, ns=(1, 1))
    assert weights.load_network("test-net", "resnet50", "test", "cpu", build) is not a
    path.unlink()
    with pytest.raises(SrbenchError, match="test needs the weights file"):
        weights.load_network("test-net", "resnet50", "test", "cpu", build)
