"""The comparison models of the DP paper's Table 5 registered as published models: DRN (our
architecture under the release's key names, srbench_eval/models/archs/drn.py) and nESRGAN+
(spandrel's ESRGAN with ``plus``), each loaded from a stand-in file of the release's layout, served
by a mirror once its hash is pinned."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from srbench_eval.digests import sha256_file
from srbench_eval.errors import SrbenchError
from srbench_eval.models.archs.drn import DRN, from_state_dict, is_drn_state_dict
from srbench_eval.models.published import build as published
from srbench_eval.models.published.formats import load_network


@pytest.mark.parametrize(
    ("scale", "n_feats", "n_blocks", "millions"),
    [(4, 16, 30, 4.8), (8, 8, 30, 5.4), (4, 20, 40, 9.8), (8, 10, 36, 10.0)],
)
def test_drn_sizes_have_the_parameter_counts_the_release_prints(
    scale: int, n_feats: int, n_blocks: int, millions: float
) -> None:
    """guoyongcs/DRN's README: DRN-S x4 4.8M, x8 5.4M; DRN-L x4 9.8M, x8 10.0M parameters (its
    templates: 30x16, 30x8, 40x20, 36x10)."""
    count = sum(p.numel() for p in DRN(scale, n_feats, n_blocks).parameters())
    assert round(count / 1e6, 1) == millions


def test_drn_key_names_and_shapes_are_the_releases() -> None:
    """DRN-S x4 (F = 16, two phases): the key names the release's code gives each layer, with the
    channel counts of each phase (16, 32, 64) and of the concatenations."""
    sd = DRN(4, 16, 30).state_dict()
    expected = {
        "sub_mean.weight": (3, 3, 1, 1),
        "head.weight": (16, 3, 3, 3),
        "down.0.dual_module.0.0.weight": (16, 16, 3, 3),  # stride 2, no bias
        "down.0.dual_module.1.weight": (32, 16, 3, 3),
        "down.1.dual_module.1.weight": (64, 32, 3, 3),
        "up_blocks.0.0.body.0.weight": (64, 64, 3, 3),
        "up_blocks.0.0.body.3.conv_du.0.weight": (4, 64, 1, 1),  # channel attention, reduction 16
        "up_blocks.0.30.0.weight": (256, 64, 3, 3),  # x2 pixel-shuffle upsampler
        "up_blocks.0.31.weight": (32, 64, 1, 1),
        "up_blocks.1.29.body.2.weight": (64, 64, 3, 3),  # 32 up + 32 skip
        "up_blocks.1.31.weight": (16, 64, 1, 1),
        "tail.0.weight": (3, 64, 3, 3),
        "tail.2.weight": (3, 32, 3, 3),
    }
    assert {k: tuple(sd[k].shape) for k in expected} == expected
    assert "down.0.dual_module.0.0.bias" not in sd and "tail.2.bias" in sd
    assert is_drn_state_dict(sd)


def test_drn_works_in_0_255_with_the_stored_mean_shift() -> None:
    """rgb_range 255: the mean shift's stored bias is in grey levels. With every convolution zero
    but the mean shifts (identity, bias -/+ 255 * mean), the output is the mean colour / 255."""
    net = DRN(4, 4, 1)
    with torch.no_grad():
        for p in net.parameters():
            p.zero_()
        mean = torch.tensor([0.4488, 0.4371, 0.4040])
        for conv, sign in ((net.sub_mean, -1), (net.add_mean, 1)):
            conv.weight.copy_(torch.eye(3).view(3, 3, 1, 1))
            conv.bias.copy_(sign * 255 * mean)
        levels = net.forward_levels(torch.rand(1, 3, 6, 5))
        out = net(torch.rand(1, 3, 6, 5))
    assert [tuple(x.shape[-2:]) for x in levels] == [(6, 5), (12, 10), (24, 20)]  # 1/4, 1/2, 1
    assert torch.allclose(out, mean.view(1, 3, 1, 1).expand(1, 3, 24, 20))
    assert torch.allclose(levels[0], 255 * mean.view(1, 3, 1, 1).expand(1, 3, 6, 5))


@pytest.mark.parametrize("scale", [4, 8])
def test_drn_release_layout_loads_by_format_and_refuses_another_scale(tmp_path: Path, scale: int) -> None:
    torch.manual_seed(0)
    net = DRN(scale, 4, 2).eval()
    path = tmp_path / f"DRNS{scale}x.pt"
    torch.save(net.state_dict(), path)  # the release saves the bare state dict
    loaded = load_network(path, scale)
    assert (loaded.architecture, loaded.scale, loaded.channels) == ("DRN", scale, "rgb")
    x = torch.rand(1, 3, 5, 7)
    with torch.no_grad():
        assert torch.equal(loaded.module(x), net(x))
    with pytest.raises(SrbenchError, match=f"upscales x{scale}, not --scale 2"):
        load_network(path, 2)
    broken = {k: v for k, v in net.state_dict().items() if k != "tail.1.bias"}
    torch.save(broken, tmp_path / "broken.pt")
    with pytest.raises(SrbenchError, match="DRN-like state dict that does not load"):
        load_network(tmp_path / "broken.pt")
    assert isinstance(from_state_dict(net.state_dict()), DRN)


def _serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, scale: int, src: Path) -> Path:
    """Put ``src`` in a mirror folder under ``name``'s registry path, offline, hash pinned."""
    entry = published.get(name)
    f = entry.file_for(scale)
    assert not f.urls and f.sha256 is None and f.sha256_prefix is None  # mirror-only, pinned on install
    mirrored = tmp_path / "mirror" / "weights" / f.path
    mirrored.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(src, mirrored)
    monkeypatch.setenv("SRBENCH_DATA", str(tmp_path / "cache"))
    monkeypatch.setenv("SRBENCH_OFFLINE", "1")
    with pytest.raises(SrbenchError, match="no published SHA-256"):
        published.build(name, scale, mirror=str(tmp_path / "mirror"))
    monkeypatch.setenv(f"SRBENCH_PIN_{entry.key.upper().replace('-', '_')}_X{scale}", sha256_file(src))
    return tmp_path / "mirror"


@pytest.mark.parametrize("key", ["drn-s", "drn-l"])
def test_drn_published_entries_build_from_a_mirror(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    torch.manual_seed(0)
    src = tmp_path / "standin.pt"
    torch.save(DRN(4, 4, 1).state_dict(), src)
    mirror = _serve(tmp_path, monkeypatch, f"{key}@pub", 4, src)
    model = published.build(f"{key}@pub", 4, mirror=str(mirror))
    assert (model.provenance["architecture"], model.provenance["sha256"]) == ("DRN", sha256_file(src))
    assert model.upscale(torch.rand(1, 3, 6, 7)).shape == (1, 3, 24, 28)
    assert published.get(f"{key}@pub").scales == (4, 8)


def test_esrgan_plus_release_layout_loads_through_spandrel_from_a_mirror(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """nESRGAN+'s file: ESRGAN's old key layout (``model.1.sub.N.RDBk``) with the ``conv1x1``
    residual convolutions of ESRGAN+; spandrel's ESRGAN with ``plus=True`` is the stand-in."""
    from spandrel.architectures.ESRGAN import ESRGAN

    torch.manual_seed(0)
    net = ESRGAN(num_filters=8, num_blocks=1, scale=4, plus=True).eval()
    src = tmp_path / "nESRGANplus.pth"
    torch.save(net.state_dict(), src)
    assert any(".conv1x1." in k for k in net.state_dict())
    loaded = load_network(src, 4)
    assert (loaded.architecture, loaded.scale) == ("ESRGAN", 4)
    x = torch.rand(1, 3, 6, 5)
    with torch.no_grad():
        assert torch.allclose(loaded.module(x), net(x).clamp(0, 1), atol=1e-6)
    mirror = _serve(tmp_path, monkeypatch, "esrgan-plus@pub", 4, src)
    model = published.build("esrgan-plus@pub", 4, mirror=str(mirror))
    assert model.provenance["architecture"] == "ESRGAN" and model.provenance["sha256"] == sha256_file(src)
