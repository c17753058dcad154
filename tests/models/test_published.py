"""Published models: the registry, loading by format, the authors' pipelines against the papers'
numbers, released-checkpoint loading through spandrel, and fetching from a loopback server."""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from srbench_eval.color import rgb_to_ycbcr_unit
from srbench_eval.digests import sha256_file
from srbench_eval.errors import SrbenchError
from srbench_eval.models.archs.rrdbnet import RRDBNet
from srbench_eval.models.loading import resolve_model
from srbench_eval.models.published import build as published
from srbench_eval.models.published.formats import load_network
from tests.conftest import SHARED, SHARED_BENCHMARKS, requires_shared

WEIGHTS = SHARED / "oracles" / "weights"
requires_weights = pytest.mark.skipif(not WEIGHTS.is_dir(), reason=f"{WEIGHTS} is absent (published weights)")


# --------------------------------------------------------------------------- registry


def test_registry_entries_are_complete() -> None:
    reg = published.registry()
    for key in (
        "srcnn-955",
        "srcnn-915",
        "fsrcnn",
        "vdsr",
        "lapsrn",
        "esrgan",
        "rrdb-psnr",
        "realesrgan-x4plus",
    ):
        assert key in reg
    for e in reg.values():
        assert e.name.endswith("@pub") and e.citation and e.protocol and e.scales
        assert e.channels in ("y", "rgb") and e.format in ("matlab", "dagnn", "mslapsrn", "pytorch", "sftgan")
        for s in e.scales:
            f = e.file_for(s)
            assert not f.path.startswith("/") and ".." not in f.path
            assert f.sha256 is None or len(f.sha256) == 64
    assert published.get("srcnn-955@pub").published_score("Set5", 3).psnr == 32.75


def test_every_printed_number_is_well_formed_sourced_and_on_a_known_protocol() -> None:
    """Every score row of the packaged registry: a dataset of datasets.yaml, one of the entry's
    scales, PSNR in dB and SSIM in (0, 1], a source saying where it was read, the protocol it was
    measured with; rows printed by another paper name that paper; entries without numbers say why."""
    from srbench_eval.data.datasets.registry import registry as dataset_registry
    from srbench_eval.protocol import PROFILES

    for e in published.registry().values():
        assert e.scores or e.scores_source, f"{e.name}: no numbers and no word on why"
        for s in e.scores:
            assert s.dataset in dataset_registry(), (e.name, s)
            assert s.scale in e.scales and 10 < s.psnr < 60 and (s.ssim is None or 0 < s.ssim <= 1)
            assert s.protocol in PROFILES and len(s.source) > 20, (e.name, s)
            assert s.by or s.source == e.scores_source
    srcnn = published.get("srcnn-955@pub")
    own, borrowed = srcnn.published_score("Set14", 2), srcnn.published_score("BSD100", 2)
    assert (own.by, own.psnr, own.ssim) == ("", 32.45, 0.9067)  # SRCNN's own table, compared first
    vdsr_eval = [r for r in srcnn.scores if (r.dataset, r.scale, r.by[:4]) == ("set14", 2, "VDSR")]
    assert [(r.psnr, r.ssim) for r in vdsr_eval] == [(32.42, 0.9063)]  # the VDSR paper's evaluation
    assert borrowed.by.startswith("VDSR") and (borrowed.psnr, borrowed.ssim, borrowed.protocol) == (
        31.36,
        0.8879,
        "srcnn",
    )
    assert published.paper_value("vdsr@pub", "Urban100", 4, "ssim") == 0.7524
    assert published.paper_value("fsrcnn@pub", "BSD100", 2, "psnr") is None  # its paper printed none
    text = published.scores_text(srcnn)
    assert text.startswith("set5 x2 36.66/.9542")
    assert "; by VDSR (Kim et al., CVPR 2016), protocol srcnn: set5 x2 36.66/.9542" in text
    assert "set14 x4 27.49/.7503, bsd100 x2 31.36/.8879" in text


_ENTRY = """
models:
  m:
    title: t
    citation: c
    format: pytorch
    architecture: a
    input: {channels: rgb, range: [0, 1], upsampled: false}
    protocol: matlab
    scales: [2, 4]
    files: [{scale: all, path: m/m.pth, sha256: null, urls: []}]
    published:
PUBLISHED
"""


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ("      source: s\n      scores: [[set5, 2, 36.6]]", r"score row \['set5', 2, 36.6\]: use \[dataset"),
        ("      source: s\n      scores: [[set5, 2, 36.6, 1.5]]", "ssim in \\(0, 1\\] or null"),
        ("      source: s\n      scores: [[set5, 2, 366, 0.9]]", "psnr dB"),
        ("      source: s\n      scores: [[set5, 3, 36.6, 0.9]]", r"x3 is not among its scales \[2, 4\]"),
        ("      scores: [[set5, 2, 36.6, 0.9]]", "m: scores without a source"),
        ("      source: s\n      protocol: srccn\n      scores: []", "did you mean 'srcnn'"),
        (
            "      source: s\n      scores: [[set5, 2, 36.6, 0.9], [Set5, 2, 36.7, 0.9]]",
            "listed twice",
        ),
        ("      source: s\n      also: [{source: s2, scores: [[set5, 2, 36.6, 0.9]]}]", "needs 'by'"),
        (
            "      source: s\n      also: [{by: P, protocol: nope, scores: []}]",
            r"protocol of published.yaml: m \(by P\)",
        ),
    ],
)
def test_malformed_printed_numbers_are_one_line_errors(block: str, message: str) -> None:
    with pytest.raises(SrbenchError, match=message) as info:
        published.load_registry(_ENTRY.replace("PUBLISHED", block))
    assert "\n" not in str(info.value) and "published.yaml: m" in str(info.value)


def test_unknown_published_name_and_scale_are_one_line_errors() -> None:
    with pytest.raises(SrbenchError, match="did you mean 'srcnn-955@pub'"):
        published.get("srcnn-995@pub")
    with pytest.raises(SrbenchError, match="published scales: x2, x4"):
        published.get("lapsrn@pub").file_for(3)


@requires_weights
def test_registry_hashes_match_the_oracle_files() -> None:
    for e in published.registry().values():
        for f in e.files:
            if (WEIGHTS / f.path).is_file():
                assert sha256_file(WEIGHTS / f.path) == f.sha256, f.path


# --------------------------------------------------------------------------- formats


def test_unknown_format_lists_the_supported_ones(tmp_path: Path) -> None:
    bad = tmp_path / "model.onnx"
    bad.write_bytes(b"\0")
    with pytest.raises(
        SrbenchError, match=r"unknown weights format '.onnx'; supported: matlab .*dagnn .*pytorch"
    ):
        load_network(bad, 4)


def _mirror(tmp_path: Path, datasets: tuple[str, ...] = ("Set5",)) -> Path:
    """A mirror folder as an air-gapped node has it: ``<name>/HR`` and ``weights/<registry path>``
    (symbolic links to ../shared)."""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for name in datasets:
        (mirror / name).symlink_to(SHARED_BENCHMARKS / name, target_is_directory=True)
    (mirror / "weights").symlink_to(WEIGHTS, target_is_directory=True)
    return mirror


@requires_shared
@requires_weights
def test_run_srcnn_protocol_reproduces_the_papers_set5_x3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The acceptance command at Set5 x3: ``run --protocol srcnn`` with the weights served from a
    mirror reproduces the published PSNR within 0.02 dB and SSIM within 0.002 (the papers print
    2 and 4 decimals); ``table --published`` shows each paper's number beside ours."""
    from srbench_eval.cli import main

    monkeypatch.setenv("SRBENCH_DATA", str(tmp_path / "cache"))
    monkeypatch.setenv("SRBENCH_OFFLINE", "1")
    models = "bicubic,srcnn-955@pub,fsrcnn@pub,vdsr@pub"
    args = ["run", "--models", models, "--protocol", "srcnn", "--scale", "3", "--datasets", "set5"]
    out = tmp_path / "run"
    assert main([*args, "--mirror", str(_mirror(tmp_path)), "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    got = {(e["model"], e["metric"]): e["value"] for e in summary["results"]}
    papers = {"bicubic": (30.39, 0.8682), "srcnn-955@pub": (32.75, 0.9090)}
    papers |= {"fsrcnn@pub": (33.16, 0.9140), "vdsr@pub": (33.66, 0.9213)}
    for model, (psnr, ssim) in papers.items():
        assert got[(model, "psnr")] == pytest.approx(psnr, abs=0.02), model
        assert got[(model, "ssim")] == pytest.approx(ssim, abs=0.002), model
    for model in ("srcnn-955@pub", "fsrcnn@pub", "vdsr@pub"):
        prov = summary["provenance"]["models"][model]
        assert prov["file"].startswith(str(tmp_path / "mirror")) or "cache" in prov["file"]
    capsys.readouterr()
    assert main(["table", str(out), "--published"]) == 0
    text = capsys.readouterr().out
    assert f"32.75 → {got[('srcnn-955@pub', 'psnr')]:.3f}" in text
    assert f"0.9140 → {got[('fsrcnn@pub', 'ssim')]:.5f}" in text


@requires_weights
def test_dagnn_lapsrn_detects_its_scale_and_refuses_another(tmp_path: Path) -> None:
    net = load_network(WEIGHTS / "lapsrn" / "LapSRN_x2.mat")
    assert (net.format, net.scale, net.channels) == ("dagnn", 2, "y")
    out = net.module(torch.rand(1, 1, 10, 12))
    assert out.shape == (1, 1, 20, 24)
    with pytest.raises(SrbenchError, match="upscales x2, not --scale 4"):
        load_network(WEIGHTS / "lapsrn" / "LapSRN_x2.mat", 4)


@requires_weights
def test_srcnn_matlab_kernels_are_correlations_in_column_major_order() -> None:
    """conv1 of SRCNN.m: imfilter(im, reshape(w(:, i), 9, 9), 'same', 'replicate'), checked on one
    impulse: correlation puts the kernel flipped around the impulse, column-major reshape."""
    import scipy.io

    w = scipy.io.loadmat(str(WEIGHTS / "srcnn-955-imagenet" / "x3.mat"))["weights_conv1"][:, 0]
    net = load_network(WEIGHTS / "srcnn-955-imagenet" / "x3.mat", 3).module
    x = torch.zeros(1, 1, 21, 21, dtype=torch.float32)
    x[0, 0, 10, 10] = 1.0
    conv1 = torch.nn.functional.conv2d(torch.nn.functional.pad(x, (4, 4, 4, 4)), net.conv1.weight[:1])
    k = w.reshape(9, 9, order="F")  # k[r, c] = w[r + 9 c]
    np.testing.assert_allclose(conv1[0, 0, 6:15, 6:15].detach().numpy(), k[::-1, ::-1], rtol=1e-6)


# --------------------------------------------------------------------------- Y-channel model in RGB runs


@requires_weights
def test_y_channel_model_takes_chroma_from_bicubic() -> None:
    e = published.get("srcnn-955@pub")
    loaded = load_network(WEIGHTS / e.file_for(3).path, 3, e.format)
    model = published.as_model(e.name, loaded, {})
    grey = torch.full((1, 3, 12, 12), 0.5)  # R = G = B: Cb = Cr = 128/255 everywhere
    out = model.upscale(grey)
    assert out.shape == (1, 3, 36, 36)
    ycc = rgb_to_ycbcr_unit(out)
    torch.testing.assert_close(ycc[:, 1:], torch.full_like(ycc[:, 1:], 128 / 255), atol=1e-6, rtol=0)
    assert model.upscale(grey[:, :1]).shape == (1, 1, 36, 36)


# --------------------------------------------------------------------------- released PyTorch checkpoints


def _new_layout(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Our RRDBNet keys -> BasicSR / Real-ESRGAN keys (``body.0.rdb1.conv1``, ``conv_up1``)."""
    out = {}
    for k, v in sd.items():
        parts = k.split(".")
        if parts[0] == "body" and parts[2] == "rdbs":
            k = f"body.{parts[1]}.rdb{int(parts[3]) + 1}.conv{int(parts[5]) + 1}.{parts[6]}"
        elif parts[0] == "conv_up":
            k = f"conv_up{int(parts[1]) + 1}.{parts[2]}"
        out[k] = v
    return out


def _old_layout(sd: dict[str, torch.Tensor], num_block: int) -> dict[str, torch.Tensor]:
    """BasicSR keys -> the original ESRGAN repository's (``model.1.sub.0.RDB1.conv1.0``)."""
    fixed = {"conv_first": "model.0", "conv_body": f"model.1.sub.{num_block}", "conv_up1": "model.3"}
    fixed |= {"conv_up2": "model.6", "conv_hr": "model.8", "conv_last": "model.10"}
    out = {}
    for k, v in _new_layout(sd).items():
        name, _, kind = k.rpartition(".")
        if name in fixed:
            out[f"{fixed[name]}.{kind}"] = v
        else:
            _, b, rdb, conv = name.split(".")
            out[f"model.1.sub.{b}.{rdb.upper()}.{conv}.0.{kind}"] = v
    return out


@pytest.fixture(scope="module")
def rrdb() -> RRDBNet:
    torch.manual_seed(0)
    return RRDBNet(scale=4, num_feat=16, num_block=2, num_grow_ch=32).eval()  # official growth 32


@pytest.mark.parametrize("layout", ["esrgan-old", "basicsr-new", "realesrgan-params-ema", "rrdb-psnr-params"])
def test_official_rrdb_layouts_load_through_label_file(tmp_path: Path, rrdb: RRDBNet, layout: str) -> None:
    sd = rrdb.state_dict()
    if layout == "esrgan-old":
        obj: object = _old_layout(sd, 2)
    elif layout == "basicsr-new":
        obj = _new_layout(sd)
    elif layout == "realesrgan-params-ema":
        obj = {"params_ema": _new_layout(sd)}
    else:
        obj = {"params": _new_layout(sd)}
    path = tmp_path / f"{layout}.pth"
    torch.save(obj, path)
    model = resolve_model(f"mine={path}", 4, torch.device("cpu"))
    assert model.name == "mine"
    prov = model.provenance
    assert (prov["architecture"], prov["scale"], prov["channels"]) == ("ESRGAN", 4, "rgb")
    assert prov["parameters"] == sum(p.numel() for p in rrdb.parameters())
    assert prov["sha256"] == sha256_file(path)
    lr = torch.rand(1, 3, 9, 11)
    with torch.no_grad():
        expected = rrdb(lr)
        assert ((expected > 0) & (expected < 1)).float().mean() > 0.2  # the clamp leaves enough to compare
        torch.testing.assert_close(model.network.net(lr), expected, rtol=0, atol=1e-6)  # spandrel's RRDBNet
        torch.testing.assert_close(model.upscale(lr), expected.clamp(0, 1), rtol=0, atol=1e-6)
    with pytest.raises(SrbenchError, match="upscales x4, not --scale 2"):
        resolve_model(f"mine={path}", 2, torch.device("cpu"))


def test_unrecognised_state_dict_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "odd.pth"
    torch.save({"foo.weight": torch.zeros(3)}, path)
    with pytest.raises(SrbenchError, match="spandrel does not recognise"):
        resolve_model(f"odd={path}", 4, torch.device("cpu"))


# --------------------------------------------------------------------------- fetching, mirrors, hashes


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()


@requires_weights
def test_published_model_from_a_loopback_mirror_url_and_folder(
    served: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, root = served
    rel = published.get("srcnn-955@pub").file_for(3).path
    (root / "weights" / rel).parent.mkdir(parents=True)
    shutil.copy(WEIGHTS / rel, root / "weights" / rel)
    monkeypatch.setenv("SRBENCH_DATA", str(tmp_path / "cache"))
    monkeypatch.setenv("SRBENCH_OFFLINE", "1")  # no public URL: only the mirror may serve it
    model = published.build("srcnn-955@pub", 3, mirror=url)
    assert model.provenance["sha256"] == published.get("srcnn-955@pub").file_for(3).sha256
    assert (tmp_path / "cache" / "weights" / rel).is_file()  # cached: a second build needs no mirror
    published.build("srcnn-955@pub", 3)
    folder_model = published.build("fsrcnn@pub", 2, mirror=str(SHARED / "oracles"))  # <mirror>/weights/<path>
    assert folder_model.provenance["file"].startswith(
        str((SHARED / "oracles").resolve())
    )  # ../shared may be a link


@requires_weights
def test_a_file_whose_hash_differs_is_refused_and_not_kept(
    served: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, root = served
    rel = published.get("srcnn-955@pub").file_for(3).path
    (root / "weights" / rel).parent.mkdir(parents=True)
    data = bytearray((WEIGHTS / rel).read_bytes())
    data[-1] ^= 1
    (root / "weights" / rel).write_bytes(bytes(data))
    monkeypatch.setenv("SRBENCH_DATA", str(tmp_path / "cache"))
    monkeypatch.setenv("SRBENCH_OFFLINE", "1")
    with pytest.raises(SrbenchError, match="does not match the sha256 hash .* refusing"):
        published.build("srcnn-955@pub", 3, mirror=url)
    assert not (tmp_path / "cache" / "weights" / rel).exists()


def test_a_file_without_any_published_hash_needs_a_pin(
    served: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rrdb: RRDBNet
) -> None:
    url, root = served
    e = published.get("realesrgan-x4plus@pub")
    rel = e.file_for(4).path
    standin = root / "weights" / rel
    standin.parent.mkdir(parents=True)
    torch.save({"params_ema": _new_layout(rrdb.state_dict())}, standin)
    monkeypatch.setenv("SRBENCH_DATA", str(tmp_path / "cache"))
    monkeypatch.setenv("SRBENCH_OFFLINE", "1")
    with pytest.raises(SrbenchError, match="no published SHA-256 .* SRBENCH_PIN_REALESRGAN_X4PLUS_X4="):
        published.build(e.name, 4, mirror=url)
    monkeypatch.setenv("SRBENCH_PIN_REALESRGAN_X4PLUS_X4", sha256_file(standin))
    model = published.build(e.name, 4, mirror=url)
    assert model.provenance["architecture"] == "ESRGAN"
    lr = torch.rand(1, 3, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(model.upscale(lr), rrdb(lr).clamp(0, 1), rtol=0, atol=1e-6)


# --------------------------------------------------------------------------- CLI


def test_weights_cli_fetches_pins_and_verifies_published_files(
    served: tuple[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    rrdb: RRDBNet,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from srbench_eval.cli import main

    url, root = served
    rel = published.get("realesrgan-x4plus@pub").file_for(4).path
    (root / "weights" / rel).parent.mkdir(parents=True)
    torch.save({"params_ema": _new_layout(rrdb.state_dict())}, root / "weights" / rel)
    digest = sha256_file(root / "weights" / rel)
    monkeypatch.setenv("SRBENCH_DATA", str(tmp_path / "cache"))
    monkeypatch.setenv("SRBENCH_OFFLINE", "1")

    def cli(*args: str) -> tuple[int, str]:
        rc = main(list(args))
        out = capsys.readouterr()
        return rc, out.out + out.err

    rc, out = cli("weights", "verify", "realesrgan-x4plus@pub", "--mirror", url)
    assert rc == 2 and "missing" in out
    rc, out = cli("weights", "fetch", "realesrgan-x4plus@pub", "--mirror", url)
    errors = [line for line in out.splitlines() if line.startswith("error:")]
    assert rc == 2 and len(errors) == 1 and "no published SHA-256" in errors[0]
    assert not (tmp_path / "cache" / "weights" / rel).exists()
    rc, out = cli("weights", "fetch", "realesrgan-x4plus@pub", "--mirror", url, "--sha256", digest)
    assert rc == 0, out
    rc, out = cli("weights", "verify", "realesrgan-x4plus@pub")  # the pin was recorded
    assert rc == 0 and ": ok" in out
    rc, out = cli("weights", "list", "realesrgan-x4plus@pub")
    assert "present" in out and "pinned" in out
    rc, out = cli("models", "list")
    assert rc == 0 and "srcnn-955@pub" in out and "32.75/.9090" in out


@pytest.mark.parametrize(("scale", "feats"), [(4, 16), (3, 8)])
def test_edsr_pytorch_layout_loads_and_runs_as_its_authors_code(
    tmp_path: Path, scale: int, feats: int
) -> None:
    """EDSR-PyTorch keys (``sub_mean``, ``head.0``, ``body.N.body.0``, ``tail.0.0``, ``tail.1``) in
    [0, 255] with the mean shift stored as 1x1 convolutions; checked against a direct computation."""
    from srbench_eval.models.archs.edsr import EDSR

    torch.manual_seed(1)
    ref = EDSR(scale, n_resblocks=2, n_feats=feats, res_scale=1.0).eval()
    mean = torch.tensor([0.4488, 0.4371, 0.4040]) * 255
    with torch.no_grad():
        for conv, sign in ((ref.sub_mean, -1), (ref.add_mean, 1)):
            conv.weight.copy_(torch.eye(3)[:, :, None, None])
            conv.bias.copy_(sign * mean)
    path = tmp_path / f"edsr_baseline_x{scale}.pt"
    torch.save(ref.state_dict(), path)
    model = resolve_model(f"edsr={path}", scale, torch.device("cpu"))
    assert (model.provenance["architecture"], model.provenance["scale"]) == ("EDSR", scale)
    lr = torch.rand(1, 3, 6, 7)
    with torch.no_grad():
        x = ref.head(lr * 255 - mean[:, None, None])
        expected = (ref.tail(x + ref.body(x)) + mean[:, None, None]) / 255
        torch.testing.assert_close(model.upscale(lr), expected, rtol=1e-5, atol=1e-5)
    with pytest.raises(SrbenchError, match=f"upscales x{scale}, not --scale 2"):
        resolve_model(f"edsr={path}", 2, torch.device("cpu"))


# --------------------------------------------------------------------------- Python API


def _tiny_bicubic_net(scale: int = 2) -> torch.nn.Module:
    from srbench_eval.models.archs.bicubic import Bicubic

    return Bicubic(scale)


def test_python_api_and_factory_spec_score_like_the_cli(tmp_path: Path) -> None:
    """A network handed over as an object, through ``LABEL=package.module:factory`` and as the
    built-in bicubic gives the same numbers (tiny generated images, no ../shared needed)."""
    import srbench_eval

    hr_dir = tmp_path / "tiny"
    hr_dir.mkdir()
    rng = np.random.default_rng(0)
    from srbench_eval.data.io.images import write_image

    for i in range(2):
        write_image(hr_dir / f"im{i}.png", rng.integers(0, 256, (24, 20, 3), dtype=np.uint8))
    summary = srbench_eval.evaluate(_tiny_bicubic_net(2), scale=2, datasets=[str(hr_dir)], out=tmp_path / "a")
    ours = {(e.model, e.metric): e.value for e in summary.entries}
    from srbench_eval.evaluation import RunConfig, run_evaluation

    spec = f"viafactory={__name__}:_tiny_bicubic_net"
    cfg = RunConfig(models=("bicubic", spec), scale=2, datasets=(str(hr_dir),))
    cli = {(e.model, e.metric): e.value for e in run_evaluation(cfg, tmp_path / "b", progress=False).entries}
    assert ours[("model", "psnr")] == pytest.approx(cli[("viafactory", "psnr")], abs=1e-9)
    assert abs(ours[("model", "psnr")] - cli[("bicubic", "psnr")]) < 0.2  # float bicubic vs uint8 passes
    assert summary.provenance["models"]["model"]["kind"] == "python"
    with pytest.raises(SrbenchError, match="has no attribute nothing"):
        resolve_model(f"x={__name__}:nothing", 2, torch.device("cpu"))


@requires_shared
@requires_weights
def test_run_resolves_published_models_from_a_mirror_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``run --models bicubic,srcnn-915@pub`` with the file served by ``--mirror`` (default
    protocol: RGB LR, Y through the network, Cb/Cr bicubic); the provenance names the file."""
    from srbench_eval.evaluation import RunConfig, run_evaluation

    monkeypatch.setenv("SRBENCH_DATA", str(tmp_path / "cache"))
    monkeypatch.setenv("SRBENCH_OFFLINE", "1")
    cfg = RunConfig(
        mirror=str(SHARED / "oracles"),
        models=("bicubic", "srcnn-915@pub"),
        scale=3,
        datasets=(str(SHARED_BENCHMARKS / "Set5" / "HR"),),
    )
    summary = run_evaluation(cfg, tmp_path / "run", progress=False)
    psnr = {e.model: e.value for e in summary.entries if e.metric == "psnr"}
    assert psnr["srcnn-915@pub"] > psnr["bicubic"] + 1.5
    prov = summary.provenance["models"]["srcnn-915@pub"]
    assert prov["sha256"] == published.get("srcnn-915@pub").file_for(3).sha256
    assert (prov["architecture"], prov["parameters"]) == ("srcnn-9-1-5", 8129)


def test_table_published_puts_each_paper_number_beside_the_measured_cell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from srbench_eval.cli import main
    from srbench_eval.reports.layouts import mark_published
    from srbench_eval.reports.tables import build_table
    from srbench_eval.runs.results import Summary, SummaryEntry

    entries = [
        SummaryEntry("srcnn-955@pub", "Set5", 3, "psnr", 32.7488, 5),
        SummaryEntry("srcnn-955@pub", "Set5", 3, "ssim", 0.90901, 5),
        SummaryEntry("srcnn-955@pub", "SunHays80", 3, "psnr", 29.0, 80),  # printed by nobody
        SummaryEntry("bicubic", "Set5", 3, "psnr", 30.39, 5),
    ]
    info = {"psnr": {"label": "PSNR", "higher_is_better": True, "decimals": 2}}
    info["ssim"] = {"label": "SSIM", "higher_is_better": True, "decimals": 4}
    summary = Summary(entries, info, {}, {"protocol": "srcnn"})
    table = mark_published(build_table([summary]), [summary])
    cells = {(r.dataset, r.metric): [c.text for c in r.cells] for r in table.rows}
    assert table.models == ("srcnn-955@pub", "bicubic")
    assert cells[("Set5", "psnr")] == ["32.75 → 32.749", "30.39"]
    assert cells[("Set5", "ssim")] == ["0.9090 → 0.90901", "–"]
    assert cells[("SunHays80", "psnr")] == ["29.00", "–"]
    assert not any("its paper used" in n for n in table.notes)
    (tmp_path / "run").mkdir()
    other = Summary(entries, info, {}, {"protocol": "matlab"})
    (tmp_path / "run" / "summary.json").write_text(other.to_json())
    assert main(["table", str(tmp_path / "run"), "--published"]) == 0
    out = capsys.readouterr().out
    assert (
        "32.75 → 32.749" in out and "srcnn-955@pub: its paper used protocol srcnn; these runs: matlab" in out
    )
    assert main(["table", str(tmp_path / "run")]) == 0
    assert "→" not in capsys.readouterr().out


def test_table_published_says_whose_number_a_borrowed_cell_is() -> None:
    """SRCNN on BSD100 was printed by the VDSR paper, not SRCNN's: the cell still shows it, and the
    note names that paper (and its protocol when the runs used another one)."""
    from srbench_eval.reports.layouts import mark_published
    from srbench_eval.reports.tables import build_table
    from srbench_eval.runs.results import Summary, SummaryEntry

    entries = [
        SummaryEntry("srcnn-955@pub", "BSD100", 2, "psnr", 31.3712, 100),
        SummaryEntry("srcnn-955@pub", "Set5", 2, "psnr", 36.656, 5),
    ]
    info = {"psnr": {"label": "PSNR", "higher_is_better": True, "decimals": 2}}
    same = Summary(entries, info, {}, {"protocol": "srcnn"})
    table = mark_published(build_table([same]), [same])
    cells = {r.dataset: r.cells[0].text for r in table.rows}
    assert cells == {"BSD100": "31.36 → 31.371", "Set5": "36.66 → 36.656"}
    assert "srcnn-955@pub: BSD100 x2 is the number printed by VDSR (Kim et al., CVPR 2016)" in table.notes
    other = Summary(entries, info, {}, {"protocol": "matlab"})
    notes = mark_published(build_table([other]), [other]).notes
    assert (
        "srcnn-955@pub: BSD100 x2 as printed by VDSR (Kim et al., CVPR 2016) used protocol srcnn; "
        "these runs: matlab" in notes
    )
    assert "srcnn-955@pub: its paper used protocol srcnn; these runs: matlab" in notes


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("arch", ["RCAN", "HAT"])
def test_rcan_and_hat_official_layouts_load_through_label_file_and_a_mirror(
    tmp_path: Path, arch: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stand-ins under the official key names (RCAN: the bare state dict its code saves; HAT: the
    BasicSR ``params_ema`` dict), built with spandrel's own classes at a tiny size: detected, scale
    read from the file, refused at another scale, output of the right shape. The registry lists
    both as mirror-only files (Google Drive / Dropbox releases): served from a mirror folder once
    their hash is pinned."""
    torch.manual_seed(0)
    if arch == "RCAN":
        from spandrel.architectures.RCAN import RCAN

        net = RCAN(scale=2, n_resgroups=1, n_resblocks=1, n_feats=16, reduction=4)
        path = tmp_path / "RCAN_BIX2.pt"
        torch.save(net.state_dict(), path)
    else:
        from spandrel.architectures.HAT import HAT

        net = HAT(
            upscale=2, embed_dim=12, depths=(1,), num_heads=(2,), window_size=4, squeeze_factor=3, num_feat=16
        )
        path = tmp_path / "HAT_SRx2.pth"
        torch.save({"params_ema": net.state_dict()}, path)
    model = resolve_model(f"standin={path}", 2, torch.device("cpu"))
    assert (model.provenance["architecture"], model.provenance["scale"]) == (arch, 2)
    assert model.upscale(torch.rand(1, 3, 9, 11)).shape == (1, 3, 18, 22)
    with pytest.raises(SrbenchError, match="scale"):
        resolve_model(f"standin={path}", 4, torch.device("cpu"))
    entry = published.get(f"{arch.lower()}@pub")
    assert all(not f.urls and f.sha256 is None for f in entry.files) and entry.scales == (2, 3, 4)
    mirrored = tmp_path / "mirror" / "weights" / entry.file_for(2).path
    mirrored.parent.mkdir(parents=True)
    shutil.copy(path, mirrored)
    monkeypatch.setenv("SRBENCH_DATA", str(tmp_path / "cache"))
    monkeypatch.setenv("SRBENCH_OFFLINE", "1")
    monkeypatch.setenv(f"SRBENCH_PIN_{arch}_X2", sha256_file(path))
    built = published.build(entry.name, 2, mirror=str(tmp_path / "mirror"))
    assert (built.provenance["architecture"], built.provenance["sha256"]) == (arch, sha256_file(path))


def _write_dagnn(path: Path, blocks: list[tuple[str, str, list[str], str, list[str]]], params: dict) -> None:
    """A minimal ``dagnn.DagNN.saveobj`` struct: layers (name, type, inputs, output, params)."""
    import scipy.io

    def cell(items: list[str]) -> np.ndarray:
        c = np.empty((1, len(items)), dtype=object)
        for i, v in enumerate(items):
            c[0, i] = v
        return c

    ldt = [("name", "O"), ("type", "O"), ("inputs", "O"), ("outputs", "O"), ("params", "O"), ("block", "O")]
    layers = np.zeros((1, len(blocks)), dtype=ldt)
    for i, (name, typ, inputs, output, pnames) in enumerate(blocks):
        block = np.zeros((1, 1), dtype=[("pad", "O"), ("stride", "O"), ("leak", "O")])
        block[0, 0] = (np.array([[1, 1, 1, 1]]), np.array([[1, 1]]), np.array([[0.0]]))
        layers[0, i] = (name, typ, cell(inputs), cell([output]), cell(pnames), block)
    pdt = [("name", "O"), ("value", "O")]
    prm = np.zeros((1, len(params)), dtype=pdt)
    for i, (k, v) in enumerate(params.items()):
        prm[0, i] = (k, v)
    net = np.zeros((1, 1), dtype=[("layers", "O"), ("params", "O"), ("vars", "O"), ("meta", "O")])
    net[0, 0] = (layers, prm, np.zeros((1, 0)), np.zeros((0, 0)))
    scipy.io.savemat(str(path), {"net": net})


def test_dagnn_graph_runs_generically_and_refuses_unsupported_blocks(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    f = rng.standard_normal((3, 3, 1, 2)).astype(np.float32)
    params = {"c_f": f, "c_b": np.zeros((1, 2), np.float32)}
    good = tmp_path / "good.mat"
    _write_dagnn(
        good, [("c", "dagnn.Conv", ["LR"], "x", ["c_f", "c_b"]), ("r", "dagnn.ReLU", ["x"], "y", [])], params
    )
    net = load_network(good, fmt="dagnn")
    x = torch.rand(1, 1, 6, 5)
    w = torch.from_numpy(f.transpose(3, 2, 0, 1).copy())
    torch.testing.assert_close(net.module(x), torch.relu(torch.nn.functional.conv2d(x, w, padding=1)))
    bad = tmp_path / "bad.mat"
    blocks = [("c", "dagnn.Conv", ["LR"], "x", ["c_f", "c_b"]), ("bn", "dagnn.BatchNorm", ["x"], "y", [])]
    blocks.append(("r", "dagnn.ReLU", ["y"], "z", []))
    _write_dagnn(bad, blocks, params)
    with pytest.raises(SrbenchError, match=r"unsupported DagNN block bn \(dagnn.BatchNorm\); supported"):
        load_network(bad)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_swinir_official_layout_loads_and_pads_odd_sizes(tmp_path: Path) -> None:
    """A SwinIR stand-in under the official key names (``{"params": ...}`` as the release stores
    it), built with spandrel's own SwinIR class: detected, scale read, window padding handled."""
    from spandrel.architectures.SwinIR import SwinIR

    torch.manual_seed(0)
    net = SwinIR(
        upscale=4,
        img_size=16,
        window_size=8,
        embed_dim=12,
        depths=[2],
        num_heads=[2],
        mlp_ratio=2,
        upsampler="pixelshuffle",
        resi_connection="1conv",
    )
    path = tmp_path / "001_classicalSR_DF2K_s64w8_SwinIR-M_x4.pth"
    torch.save({"params": net.state_dict()}, path)
    model = resolve_model(f"swinir={path}", 4, torch.device("cpu"))
    assert (model.provenance["architecture"], model.provenance["scale"]) == ("SwinIR", 4)
    assert model.upscale(torch.rand(1, 3, 9, 11)).shape == (1, 3, 36, 44)
