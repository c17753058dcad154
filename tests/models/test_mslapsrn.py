"""MS-LapSRN (TPAMI 2018) from the authors' MatConvNet files: the hand-built network against the
authors' own graph run layer by layer by the generic DagNN runner, the loader's checks, and Set5
under the ``lapsrn`` protocol (skipped without ../shared). LapSRN x8 loads through the DagNN format."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import torch

from srbench_eval.data.pairs import make_pair
from srbench_eval.errors import SrbenchError
from srbench_eval.metrics.fidelity import psnr
from srbench_eval.models.archs.mslapsrn import FixedScale, MSLapSRN
from srbench_eval.models.feeding import model_input, model_output
from srbench_eval.models.published import build as published
from srbench_eval.models.published import formats
from srbench_eval.models.published.mslapsrn_mat import load_mslapsrn
from srbench_eval.protocol import resolve
from tests.conftest import SHARED

WEIGHTS = SHARED / "oracles" / "weights"
SET5 = SHARED / "benchmarks" / "Set5" / "HR"
requires_weights = pytest.mark.skipif(not WEIGHTS.is_dir(), reason=f"{WEIGHTS} is absent (published weights)")
requires_set5 = pytest.mark.skipif(not SET5.is_dir(), reason=f"{SET5} is absent (benchmark HR images)")
D5R2 = WEIGHTS / "mslapsrn" / "MSLapSRN_D5R2.mat"
D5R8 = WEIGHTS / "mslapsrn" / "MSLapSRN_D5R8.mat"


def _authors_graph(path: Path, scale: int) -> torch.nn.Module:
    """The file's own ``x{scale}SR_*`` layers (losses dropped) run by the generic DagNN runner."""
    d = scipy.io.loadmat(str(path))
    net = d["net"][0, 0]
    layers = net["layers"]
    keep = np.array([str(layer["name"][0]).startswith(f"x{scale}SR_") for layer in layers.ravel()])
    net["layers"] = layers[:, keep] if layers.shape[0] == 1 else layers[keep]
    dag, found = formats._dagnn(d, path)
    assert found == scale
    return dag.eval()


@requires_weights
@pytest.mark.parametrize(("path", "scale"), [(D5R2, 2), (D5R2, 8), (D5R8, 4)])
def test_network_equals_the_authors_graph(path: Path, scale: int) -> None:
    net = load_mslapsrn(path)
    y = torch.rand(1, 1, 11, 14, generator=torch.Generator().manual_seed(scale))
    with torch.no_grad():
        ours, theirs = net(y, scale), _authors_graph(path, scale)(y)
    assert ours.shape == (1, 1, 11 * scale, 14 * scale)
    torch.testing.assert_close(ours, theirs, rtol=0, atol=2e-6)


@requires_weights
def test_loader_reads_depth_recursions_and_every_parameter() -> None:
    net = load_mslapsrn(D5R8)
    assert (net.depth, net.recursions) == (5, 8)
    params = scipy.io.loadmat(str(D5R8))["net"][0, 0]["params"].ravel()
    assert sum(p.numel() for p in net.parameters()) == sum(np.asarray(p["value"]).size for p in params)
    assert load_mslapsrn(D5R2).recursions == 2


@requires_weights
def test_pyramid_levels_share_weights_across_scales() -> None:
    """The x4 pyramid's first level is the x2 network's output (one parameter set for every level)."""
    net = load_mslapsrn(D5R2)
    y = torch.rand(1, 1, 9, 10, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        levels = net.pyramid(y, 8)
        torch.testing.assert_close(levels[0], net(y, 2), rtol=0, atol=0)
        torch.testing.assert_close(levels[1], net(y, 4), rtol=0, atol=0)
    assert [t.shape[-1] for t in levels] == [20, 40, 80]


@requires_weights
def test_loader_errors_are_one_line(tmp_path: Path) -> None:
    fake = tmp_path / "MSLapSRN_D5R2.mat"
    shutil.copy(D5R2, fake)
    shutil.copy(WEIGHTS / "mslapsrn" / "MSLapSRN_D5R8_opts.mat", tmp_path / "MSLapSRN_D5R2_opts.mat")
    with pytest.raises(SrbenchError, match=r"D5R2 but its _opts.mat says D5R8") as e:
        load_mslapsrn(fake)
    assert "\n" not in str(e.value)
    with pytest.raises(SrbenchError, match=r"LapSRN_x2.mat: no parameter conv1_f; not an MS-LapSRN file"):
        load_mslapsrn(WEIGHTS / "lapsrn" / "LapSRN_x2.mat")
    (tmp_path / "junk.mat").write_bytes(b"not a mat file")
    with pytest.raises(SrbenchError, match="junk.mat: not a readable MATLAB .mat file"):
        load_mslapsrn(tmp_path / "junk.mat")


def test_scales_other_than_2_4_8_are_refused() -> None:
    with pytest.raises(ValueError, match="x2, x4 or x8, not x3"):
        MSLapSRN(1, 1, 4, scale=3)
    net = MSLapSRN(1, 1, 4)
    with pytest.raises(ValueError, match="not x16"):
        net(torch.zeros(1, 1, 4, 4), 16)
    with pytest.raises(ValueError, match=r"takes \(N, 1, h, w\) Y batches"):
        net(torch.zeros(1, 3, 4, 4), 2)


@requires_weights
@requires_set5
def test_set5_butterfly_beats_bicubic_under_the_lapsrn_protocol() -> None:
    """butterfly x4 (the Set5 image bicubic does worst on): a wrong filter layout or skip would
    land far below bicubic; the authors' weights gain several dB (D5R2 for speed)."""
    protocol = resolve("lapsrn")
    pair = make_pair(SET5 / "butterfly.png", 4, protocol, "cpu")
    lr, hr = torch.as_tensor(np.asarray(pair.lr)), torch.as_tensor(np.asarray(pair.hr)).double()
    net = FixedScale(load_mslapsrn(D5R2), 4)
    with torch.no_grad():
        out = net(model_input(protocol, lr).float())
    sr = model_output(protocol, out, lr, 4)
    bicubic = model_output(protocol, model_input(protocol, lr, scale=4, pre_upsampled=True), lr, 4)
    gain = float(psnr(sr, hr, 4)[0] - psnr(bicubic, hr, 4)[0])
    assert 2.5 < gain < 6.0, gain


@requires_weights
def test_lapsrn_x8_is_a_dagnn_of_three_levels() -> None:
    loaded = formats.load_network(WEIGHTS / "lapsrn" / "LapSRN_x8.mat")
    assert (loaded.format, loaded.scale, loaded.channels) == ("dagnn", 8, "y")
    with torch.no_grad():
        assert loaded.module(torch.rand(1, 1, 5, 6)).shape == (1, 1, 40, 48)


@requires_weights
def test_registered_mslapsrn_and_lapsrn_x8_build_from_a_mirror(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``mslapsrn-d5r{2,5,8}@pub`` (format ``mslapsrn``, one file for x2/x4/x8) and ``lapsrn@pub`` x8
    resolve from ``--mirror``, hash-checked; the network is the file's at the asked scale."""
    monkeypatch.setenv("SRBENCH_DATA", str(tmp_path / "cache"))
    monkeypatch.setenv("SRBENCH_OFFLINE", "1")
    mirror = str(SHARED / "oracles")
    model = published.build("mslapsrn-d5r2@pub", 8, mirror=mirror)
    prov = model.provenance
    assert (prov["format"], prov["architecture"], prov["scale"]) == ("mslapsrn", "mslapsrn D5R2", 8)
    y = torch.rand(1, 1, 7, 9, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.testing.assert_close(model.upscale_y(y), load_mslapsrn(D5R2)(y, 8).double(), rtol=0, atol=0)
    for key in ("mslapsrn-d5r5@pub", "mslapsrn-d5r8@pub"):
        assert published.get(key).file_for(4).path.startswith("mslapsrn/MSLapSRN_D5R")
    x8 = published.build("lapsrn@pub", 8, mirror=mirror)
    assert (x8.provenance["format"], x8.scale) == ("dagnn", 8)
    with pytest.raises(SrbenchError, match="no x2.5 model"):
        published.build("mslapsrn-d5r8@pub", 2.5, mirror=mirror)  # type: ignore[arg-type]
    x3 = published.build("mslapsrn-d5r2@pub", 3, mirror=mirror)
    assert x3.provenance["architecture"] == "mslapsrn D5R2 (x4 pyramid, bicubic to x3)"


@requires_weights
def test_mslapsrn_file_loads_by_label_and_truncated_mat_is_one_line(tmp_path: Path) -> None:
    """A ``LABEL=MSLapSRN_D5R2.mat`` file is recognised by its ``x2SR_*`` graph; a truncated ``.mat``
    (scipy's ``MatReadError``) is a one-line error naming the file, whatever the format."""
    loaded = formats.load_network(D5R2, 4)
    assert (loaded.format, loaded.scale, loaded.channels) == ("mslapsrn", 4, "y")
    with pytest.raises(SrbenchError, match="MS-LapSRN's test code takes integer scales x2 to x8, not x9"):
        formats.load_network(D5R2, 9)
    cut = tmp_path / "MSLapSRN_D5R2.mat"
    data = D5R2.read_bytes()
    for size, fmt in ((100, None), (100, "mslapsrn"), (len(data) // 2, None), (len(data) // 2, "mslapsrn")):
        cut.write_bytes(data[:size])
        with pytest.raises(SrbenchError, match="MSLapSRN_D5R2.mat: not a readable MATLAB .mat file") as e:
            formats.load_network(cut, 4, fmt)
        assert "\n" not in str(e.value)
