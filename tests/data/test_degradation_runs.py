"""BD, DN and LR-given runs end to end on Set5 (issue 22's acceptance): RDN Table 3's Bicubic cells
under the ``rdn-bddn`` profile, RDN's released LR files as a paired dataset (through a loopback mirror
folder), and RDN's released BD/DN SR images re-scored against its logs per image."""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import pytest

from srbench_eval.errors import SrbenchError
from srbench_eval.evaluation import RunConfig
from srbench_eval.evaluation.loop import run_evaluation
from srbench_eval.reports.tables import build_table
from tests.conftest import SHARED, SHARED_BENCHMARKS

ORACLES = SHARED / "oracles"
pytestmark = pytest.mark.skipif(
    not (ORACLES / "lr" / "rdn-bd").is_dir() or not SHARED_BENCHMARKS.is_dir(),
    reason=f"{ORACLES} or {SHARED_BENCHMARKS} is absent (RDN's files, the HR mirror)",
)
PUBLISHED_BD_PSNR = {"set5": 28.78, "set14": 26.38, "bsd100": 26.33, "urban100": 23.52}  # RDN Table 3
PUBLISHED_DN_PSNR_SET5 = 24.01


def _run(tmp: Path, name: str, **kw: object):  # noqa: ANN202
    config = RunConfig(**{"models": ("bicubic",), "scale": 3, "metrics": ("psnr", "ssim"), **kw})  # type: ignore[arg-type]
    summary = run_evaluation(config, tmp / name, progress=False)
    rows = list(csv.DictReader((tmp / name / "results.csv").open()))
    return summary, {(r["dataset"], r["image"], r["metric"]): float(r["value"]) for r in rows}


def _mean(summary, dataset: str, metric: str = "psnr") -> float:  # noqa: ANN001
    return next(e.value for e in summary.entries if (e.dataset, e.metric) == (dataset, metric))


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A loopback mirror: Set5's HR and RDN's BD/DN LR files in their repository layout."""
    root = tmp_path_factory.mktemp("mirror")
    shutil.copytree(SHARED_BENCHMARKS / "Set5" / "HR", root / "Set5" / "HR")
    for kind in ("BD", "DN"):
        src = ORACLES / "lr" / f"rdn-{kind.lower()}" / "Set5" / "x3"
        shutil.copytree(src, root / "RDN_TestCode" / "LR" / f"LR{kind}" / "Set5" / "x3")
    return root


def test_bd_and_dn_on_set5_and_the_released_pairs(tmp_path: Path, mirror: Path) -> None:
    common = {"protocol": "rdn-bddn", "mirror": str(mirror)}
    bd, bd_rows = _run(tmp_path, "bd", datasets=("set5",), degradation="bd", **common)
    assert abs(_mean(bd, "set5") - PUBLISHED_BD_PSNR["set5"]) < 0.02
    assert bd.provenance["protocol"]["lr_source"] == "bd"
    given, given_rows = _run(tmp_path, "given", datasets=("rdn-bd-set5",), degradation="given", **common)
    # RDN's released BD files are our BD LR pixel for pixel: every per-image value is the same.
    assert {(i, m): v for (_, i, m), v in given_rows.items()} == {
        (i, m): v for (_, i, m), v in bd_rows.items()
    }
    dn, _ = _run(tmp_path, "dn", datasets=("rdn-dn-set5",), degradation="given", **common)
    assert abs(_mean(dn, "rdn-dn-set5") - PUBLISHED_DN_PSNR_SET5) < 0.02
    made, _ = _run(tmp_path, "dn-made", datasets=("set5",), degradation="dn", **common)
    assert abs(_mean(made, "set5") - PUBLISHED_DN_PSNR_SET5) < 0.02
    with pytest.raises(SrbenchError, match="protocol lr_source \\(bd vs dn\\)"):
        build_table([bd, made])
    assert len(build_table([bd, made], allow_mixed=True).notes) >= 2
    with pytest.raises(SrbenchError, match="dataset rdn-bd-set5 provides no LR images at x4"):
        _run(tmp_path, "x4", datasets=("rdn-bd-set5",), degradation="given", mirror=str(mirror), scale=4)
    with pytest.raises(SrbenchError, match="dataset set5 .* has no LR images for --degradation given"):
        _run(tmp_path, "hr-only", datasets=("set5",), degradation="given", mirror=str(mirror))


@pytest.mark.parametrize("kind", ["BD", "DN"])
def test_rdn_released_sr_rescored_equals_its_log(tmp_path: Path, mirror: Path, kind: str) -> None:
    logs = json.loads((ORACLES / "published_sr" / "rdn_bd_dn_logs.json").read_text())[f"RDN-{kind}/Set5/x3"]
    folder = ORACLES / "published_sr" / f"RDN-{kind}" / "x3"
    lr = mirror / "RDN_TestCode" / "LR" / f"LR{kind}" / "Set5"
    _, rows = _run(
        tmp_path,
        kind,
        models=(f"RDN={folder}",),
        datasets=(f"rdn{kind}={mirror / 'Set5' / 'HR'}::{lr}",),
        degradation="given",
    )
    assert len(rows) == 10
    for (_, image, metric), value in rows.items():
        assert value == pytest.approx(logs[image][metric], abs=1e-4)


@pytest.mark.parametrize(
    "name",
    [
        "set14",
        pytest.param("bsd100", marks=pytest.mark.slow),
        pytest.param("urban100", marks=pytest.mark.slow),
    ],
)
def test_bd_bicubic_rows_of_rdn_table_3(tmp_path: Path, name: str) -> None:
    """The other BD cells; BSD100 and Urban100 (about 2 minutes of NumPy blur) only with
    ``SRBENCH_ACCEPTANCE=1`` (their values: README "Degradations")."""
    if name != "set14" and os.environ.get("SRBENCH_ACCEPTANCE") != "1":
        pytest.skip("set SRBENCH_ACCEPTANCE=1 to run the BSD100/Urban100 BD cells (about 2 minutes)")
    bd, _ = _run(
        tmp_path, "bd", datasets=(name,), degradation="bd", protocol="rdn-bddn", mirror=str(SHARED_BENCHMARKS)
    )
    assert abs(_mean(bd, name) - PUBLISHED_BD_PSNR[name]) < 0.02
