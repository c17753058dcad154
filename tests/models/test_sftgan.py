"""SFTGAN (xinntao/SFTGAN, CVPR 2018) as ``sftgan@pub``: the generator of ``SFTGAN_torch.pth`` and the
OutdoorSceneSeg network of ``OutdoorSceneSeg_bic.pth`` under the release's key names and shapes (the
lists below are transcribed from the authors' ``architectures.py`` and BasicSR's Torch-to-PyTorch
conversion script, which names every segmentation key), the segmentation input as
``test_segmentation.py`` makes it, and ``run --models sftgan@pub`` from a mirror of stand-in files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from srbench_eval.digests import sha256_file
from srbench_eval.errors import SrbenchError
from srbench_eval.models.archs.outdoor_seg import CLASSES, OutdoorSceneSeg, network_input, segment
from srbench_eval.models.archs.sftgan import SFTGAN, SFTLayer, SFTNet
from srbench_eval.models.published import build as published
from srbench_eval.models.published.formats import load_network

SFT_CONVS = ("SFT_scale_conv0", "SFT_scale_conv1", "SFT_shift_conv0", "SFT_shift_conv1")


def _sft_keys(prefix: str) -> list[str]:
    return [f"{prefix}.{c}.{p}" for c in SFT_CONVS for p in ("weight", "bias")]


def _conv_keys(prefix: str) -> list[str]:
    return [f"{prefix}.weight", f"{prefix}.bias"]


def test_generator_keys_and_shapes_are_sftgan_torch_pth() -> None:
    """``SFT_Net_torch``: conv0; 16 ``ResBlock_SFT_torch`` (sft0, conv0, sft1, conv1); an SFT layer and
    a conv; ``HR_branch`` convs at 1, 4, 6, 8 (nearest up-samplings at 0, 3); ``CondNet`` convs at 0,
    2, 4, 6, 8. 350 tensors."""
    expected = _conv_keys("conv0")
    for i in range(16):
        b = f"sft_branch.{i}"
        expected += _sft_keys(f"{b}.sft0") + _conv_keys(f"{b}.conv0") + _sft_keys(f"{b}.sft1")
        expected += _conv_keys(f"{b}.conv1")
    expected += _sft_keys("sft_branch.16") + _conv_keys("sft_branch.17")
    expected += [k for i in (1, 4, 6, 8) for k in _conv_keys(f"HR_branch.{i}")]
    expected += [k for i in (0, 2, 4, 6, 8) for k in _conv_keys(f"CondNet.{i}")]
    sd = SFTNet().state_dict()
    assert list(sd) == expected and len(expected) == 350
    shapes = {
        "conv0.weight": (64, 3, 3, 3),
        "sft_branch.0.sft0.SFT_scale_conv0.weight": (32, 32, 1, 1),
        "sft_branch.15.sft1.SFT_shift_conv1.weight": (64, 32, 1, 1),
        "sft_branch.15.conv1.weight": (64, 64, 3, 3),
        "sft_branch.16.SFT_scale_conv1.bias": (64,),
        "sft_branch.17.weight": (64, 64, 3, 3),
        "HR_branch.1.weight": (64, 64, 3, 3),
        "HR_branch.8.weight": (3, 64, 3, 3),
        "CondNet.0.weight": (128, 8, 4, 4),  # 4x4, stride 4: the HR-size maps to the LR grid
        "CondNet.6.weight": (128, 128, 1, 1),
        "CondNet.8.weight": (32, 128, 1, 1),
    }
    assert {k: tuple(sd[k].shape) for k in shapes} == shapes


def _convbn_keys(conv: str, bn: str) -> list[str]:
    return [f"{conv}.weight"] + [f"{bn}.{p}" for p in ("weight", "bias", "running_mean", "running_var")]


def test_segmentation_keys_and_shapes_are_outdoorsceneseg_bic_pth() -> None:
    """BasicSR's conversion of ``OutdoorSceneSeg_bic_iter_30000.t7``: ConvBN at feature.0/1, 3/4,
    6/7; Res131 blocks feature.10-42 (res.0/1, res.3/4, res.6/7; proj.0/1 at 10, 13, 17, 40); ConvBN
    at 43/44; the class conv feature.47 (weight, bias); the grouped deconv (no bias)."""
    expected = [k for c in (0, 3, 6) for k in _convbn_keys(f"feature.{c}", f"feature.{c + 1}")]
    for b in range(10, 43):
        f = f"feature.{b}"
        expected += [k for c in (0, 3, 6) for k in _convbn_keys(f"{f}.res.{c}", f"{f}.res.{c + 1}")]
        if b in (10, 13, 17, 40):
            expected += _convbn_keys(f"{f}.proj.0", f"{f}.proj.1")
    expected += _convbn_keys("feature.43", "feature.44") + _conv_keys("feature.47") + ["deconv.weight"]
    with torch.device("meta"):
        sd = OutdoorSceneSeg().state_dict()
    assert [k for k in sd if not k.endswith("num_batches_tracked")] == expected
    shapes = {
        "feature.0.weight": (64, 3, 3, 3),  # stride 2
        "feature.6.weight": (128, 64, 3, 3),
        "feature.10.proj.0.weight": (256, 128, 1, 1),
        "feature.13.res.3.weight": (128, 128, 3, 3),  # stride 2
        "feature.17.res.6.weight": (1024, 256, 1, 1),
        "feature.39.res.3.weight": (256, 256, 3, 3),  # dilation 2
        "feature.40.proj.1.running_var": (2048,),
        "feature.42.res.0.weight": (512, 2048, 1, 1),
        "feature.43.weight": (512, 2048, 3, 3),
        "feature.47.weight": (len(CLASSES), 512, 1, 1),
        "deconv.weight": (8, 1, 16, 16),  # one 16x16 kernel per class, stride 8
    }
    assert {k: tuple(sd[k].shape) for k in shapes} == shapes
    net = OutdoorSceneSeg(16)
    dilations = {i: net.feature[i].res[3].dilation for i in (12, 16, 17, 39, 40, 42)}
    assert dilations == {12: (1, 1), 16: (1, 1), 17: (2, 2), 39: (2, 2), 40: (4, 4), 42: (4, 4)}


def test_segmentation_input_is_bgr_255_less_the_imagenet_mean() -> None:
    """RGB (0.2, 0.4, 0.6) -> B, G, R in [0, 255] less (103.939, 116.779, 123.68), by hand:
    (153 - 103.939, 102 - 116.779, 51 - 123.68)."""
    up = torch.tensor([0.2, 0.4, 0.6], dtype=torch.float64).view(1, 3, 1, 1).expand(1, 3, 2, 3)
    got = network_input(up)
    want = torch.tensor([49.061, -14.779, -72.68], dtype=torch.float64).view(1, 3, 1, 1).expand(1, 3, 2, 3)
    assert torch.allclose(got, want, atol=1e-9)


class _Recorder(torch.nn.Module):
    """A segmentation stand-in: records its input, returns one-hot 'sky' of the deconv's size
    (8 * ceil(H / 8))."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen = x
        h, w = (-(-s // 8) * 8 for s in x.shape[-2:])
        out = torch.zeros(x.shape[0], len(CLASSES), h, w, dtype=x.dtype)
        out[:, CLASSES.index("sky")] = 1.0
        return out


def test_sftgan_feeds_the_segmentation_the_bicubic_x4_image_and_the_generator_hr_size_maps() -> None:
    """A constant LR image of odd height (5 x 6): the segmentation network sees the x4 bicubic image
    (constant too) in BGR [0, 255] less the mean, 20 x 24; its maps (24 x 24 from the deconv) are cut
    to 20 x 24 for the generator, whose output is clamped to [0, 1]."""
    torch.manual_seed(0)
    recorder = _Recorder()
    net = SFTGAN(SFTNet(8, 4, 8, 1), recorder)  # type: ignore[arg-type]
    lr = torch.tensor([0.2, 0.4, 0.6]).view(1, 3, 1, 1).expand(1, 3, 5, 6).contiguous()
    probs = net.probabilities(lr)
    assert tuple(recorder.seen.shape) == (1, 3, 20, 24)
    assert torch.allclose(recorder.seen[0, :, 7, 9], torch.tensor([49.061, -14.779, -72.68]), atol=1e-4)
    assert tuple(probs.shape) == (1, 8, 20, 24) and bool((probs[:, 1] == 1).all())
    with torch.no_grad():
        out = net(lr)
        raw = net.generator(lr, probs)
    assert tuple(out.shape) == (1, 3, 20, 24) and torch.equal(out, raw.clamp(0, 1))


def test_sft_layer_is_the_torch_models_scale_without_plus_one() -> None:
    """The paper's Torch SFT: ``f * gamma + beta`` (the PyTorch-trained variant has ``gamma + 1``)."""
    layer = SFTLayer(2, 2)
    with torch.no_grad():
        for p in layer.parameters():
            p.zero_()
        layer.SFT_scale_conv1.bias.fill_(2.0)
        layer.SFT_shift_conv1.bias.fill_(3.0)
    f = torch.rand(1, 2, 3, 3)
    assert torch.allclose(layer(f, torch.rand(1, 2, 3, 3)), 2 * f + 3)


def test_segmentation_of_zero_logits_is_uniform_at_the_input_size() -> None:
    """Softmax over the 8 classes: with every parameter zero, 1/8 each, at the input size (also
    for a side that is not a multiple of 8, cut back from the deconv's)."""
    net = OutdoorSceneSeg(16).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.zero_()
        up = torch.rand(1, 3, 20, 24)
        probs = segment(net, up)
    assert tuple(probs.shape) == (1, 8, 20, 24)
    assert torch.allclose(probs, torch.full_like(probs, 0.125))


def _stand_ins(folder: Path, drop_counters: bool = False) -> tuple[Path, Path, SFTGAN]:
    """Tiny generator and segmentation files under the release's names and key layout."""
    torch.manual_seed(0)
    gen, seg = SFTNet(8, 4, 8, 2).eval(), OutdoorSceneSeg(16).eval()
    folder.mkdir(parents=True, exist_ok=True)
    gen_path, seg_path = folder / "SFTGAN_torch.pth", folder / "OutdoorSceneSeg_bic.pth"
    torch.save(gen.state_dict(), gen_path)
    sd = seg.state_dict()
    if drop_counters:  # the 2018 file predates BatchNorm's num_batches_tracked
        sd = {k: v for k, v in sd.items() if not k.endswith("num_batches_tracked")}
    torch.save(sd, seg_path)
    return gen_path, seg_path, SFTGAN(gen, seg).eval()


def test_release_layout_loads_by_format_sftgan(tmp_path: Path) -> None:
    gen_path, seg_path, net = _stand_ins(tmp_path, drop_counters=True)
    loaded = load_network(gen_path, 4, "sftgan", {"segmentation": str(seg_path)})
    assert (loaded.scale, loaded.channels, loaded.upsampled_input) == (4, "rgb", False)
    x = torch.rand(1, 3, 7, 6)
    with torch.no_grad():
        assert torch.equal(loaded.module(x), net(x))
    with pytest.raises(SrbenchError, match="upscales x4, not --scale 2"):
        load_network(gen_path, 2, "sftgan", {"segmentation": str(seg_path)})
    with pytest.raises(SrbenchError, match="needs its segmentation network as well"):
        load_network(gen_path, 4, "sftgan")
    with pytest.raises(SrbenchError, match="not SFTGAN's OutdoorSceneSeg network"):
        load_network(gen_path, 4, "sftgan", {"segmentation": str(gen_path)})
    with pytest.raises(
        SrbenchError, match="one of SFTGAN's two networks; it runs with the other as sftgan@pub"
    ):
        load_network(gen_path, 4)  # a bare .pth: detected, not handed to spandrel
    broken = {k: v for k, v in torch.load(gen_path).items() if k != "CondNet.8.bias"}
    torch.save(broken, tmp_path / "broken.pth")
    with pytest.raises(SrbenchError, match="SFTGAN-like state dict that does not load"):
        load_network(tmp_path / "broken.pth", 4, "sftgan", {"segmentation": str(seg_path)})


def _mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, with_seg: bool = True) -> tuple[Path, dict]:
    """A mirror folder holding stand-ins under the registry's paths, offline; hashes pinned as a user
    pins unpublished ones (generator: SRBENCH_PIN_SFTGAN_X4, segmentation: SRBENCH_PIN_SFTGAN)."""
    entry = published.get("sftgan@pub")
    assert [(f.scale, f.path) for f in entry.files] == [
        (4, "sftgan/SFTGAN_torch.pth"),
        (None, "sftgan/OutdoorSceneSeg_bic.pth"),
    ]
    assert all(not f.urls and f.sha256 is None and f.sha256_prefix is None for f in entry.files)
    gen_path, seg_path, _ = _stand_ins(tmp_path / "made")
    mirror = tmp_path / "mirror"
    for src, f in zip((gen_path, seg_path), entry.files, strict=True):
        if src == seg_path and not with_seg:
            continue
        (mirror / "weights" / f.path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, mirror / "weights" / f.path)
    monkeypatch.setenv("SRBENCH_DATA", str(tmp_path / "cache"))
    monkeypatch.setenv("SRBENCH_OFFLINE", "1")
    monkeypatch.setenv("SRBENCH_PIN_SFTGAN_X4", sha256_file(gen_path))
    monkeypatch.setenv("SRBENCH_PIN_SFTGAN", sha256_file(seg_path))
    return mirror, {"gen": sha256_file(gen_path), "seg": sha256_file(seg_path)}


def test_run_sftgan_pub_from_a_mirror_of_stand_in_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``run --models sftgan@pub`` on one tiny image (LR 6 x 5: an odd side) from a mirror folder: both
    files verified against their pins and recorded in the provenance."""
    from srbench_eval.cli import main

    mirror, digests = _mirror(tmp_path, monkeypatch)
    images = tmp_path / "images"
    images.mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (24, 20, 3), dtype=np.uint8)).save(images / "tiny.png")
    out = tmp_path / "run"
    args = ["run", "--models", "sftgan@pub", "--scale", "4", "--datasets", str(images), "--metrics", "psnr"]
    assert main([*args, "--mirror", str(mirror), "--device", "cpu", "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    (psnr,) = [e["value"] for e in summary["results"] if e["model"] == "sftgan@pub"]
    assert np.isfinite(psnr) and psnr > 0
    prov = summary["provenance"]["models"]["sftgan@pub"]
    assert prov["sha256"] == digests["gen"] and prov["format"] == "sftgan"
    assert prov["companions"]["sftgan/OutdoorSceneSeg_bic.pth"]["sha256"] == digests["seg"]


def test_sftgan_pub_without_its_segmentation_file_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mirror, _ = _mirror(tmp_path, monkeypatch, with_seg=False)
    with pytest.raises(
        SrbenchError, match=r"sftgan@pub: weights file sftgan/OutdoorSceneSeg_bic.pth not found"
    ):
        published.build("sftgan@pub", 4, mirror=str(mirror))
    monkeypatch.delenv("SRBENCH_PIN_SFTGAN")
    mirror, _ = _mirror(tmp_path / "again", monkeypatch)
    monkeypatch.delenv("SRBENCH_PIN_SFTGAN")
    with pytest.raises(SrbenchError, match=r"no published SHA-256 for sftgan .*SRBENCH_PIN_SFTGAN="):
        published.build("sftgan@pub", 4, mirror=str(mirror))


def test_dp_table5_says_which_sftgan_file_is_absent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The study's absent-weights line checks both files: with the generator in the mirror and the
    segmentation file missing, the member is left printed only and the line names the missing file;
    with both, the member is evaluated (no line)."""
    from srbench_eval.papers import load_spec
    from srbench_eval.studies.specs import SpecOptions, spec_study, weights_absent

    spec = load_spec("dp-table5")
    member = next(m for m in spec.members if m.model == "sftgan@pub")
    mirror, _ = _mirror(tmp_path, monkeypatch, with_seg=False)
    why = weights_absent(spec_study(spec, SpecOptions(mirror=str(mirror))), member)
    assert why is not None and why.startswith("weights file sftgan/OutdoorSceneSeg_bic.pth in neither")
    mirror, _ = _mirror(tmp_path / "both", monkeypatch)
    assert weights_absent(spec_study(spec, SpecOptions(mirror=str(mirror))), member) is None


def test_weights_fetch_pins_each_sftgan_file_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``weights fetch sftgan@pub --sha256 GEN --sha256 SEG`` (one per file, 'weights list' order)
    copies both into the cache and records both pins; one --sha256 for two files is refused."""
    from srbench_eval.cli import main

    mirror, digests = _mirror(tmp_path, monkeypatch)
    monkeypatch.delenv("SRBENCH_PIN_SFTGAN_X4")
    monkeypatch.delenv("SRBENCH_PIN_SFTGAN")
    fetch = ["weights", "fetch", "sftgan@pub", "--mirror", str(mirror)]
    assert main([*fetch, "--sha256", digests["gen"]]) == 2
    assert "one --sha256 per file" in capsys.readouterr().err
    assert main([*fetch, "--sha256", digests["seg"], "--sha256", digests["gen"]]) == 2  # the wrong order
    assert "does not match the pinned hash" in capsys.readouterr().err
    assert main([*fetch, "--sha256", digests["gen"], "--sha256", digests["seg"]]) == 0
    capsys.readouterr()
    assert main(["weights", "verify", "sftgan@pub"]) == 0  # both pins were recorded
    out = capsys.readouterr().out
    assert "sftgan@pub x4: ok" in out and "sftgan@pub all scales: ok" in out
    model = published.build("sftgan@pub", 4)  # from the cache, no mirror
    assert model.provenance["companions"]["sftgan/OutdoorSceneSeg_bic.pth"]["sha256"] == digests["seg"]
