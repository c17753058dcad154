"""A BD run's columns and footnote name the degradation (issue 22): ``bicubic (BD)``; a bicubic (BI)
run's table reads as before; a BI+BD merge needs ``--allow-mixed`` and marks the BD group. The runs
are on a tiny fake copy of Manga109 in a local mirror folder (the registered ``manga109`` entry: no
copy of the real set is in ../shared, so RDN's published BD cell 25.46 is not measured here)."""

from __future__ import annotations

import numpy as np
import pytest

from srbench_eval.data.io.images import write_image
from srbench_eval.errors import SrbenchError
from srbench_eval.evaluation import RunConfig
from srbench_eval.evaluation.loop import run_evaluation
from srbench_eval.reports.tables import build_table, column_model, group_of, to_markdown
from srbench_eval.runs.results import Summary


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Summary]:
    root = tmp_path_factory.mktemp("manga")
    hr = root / "mirror" / "Manga109" / "HR"  # a mirror_dirs entry of manga109
    hr.mkdir(parents=True)
    rng = np.random.default_rng(109)
    for name in ("AisazuNihaIrarenai", "YouchienBoueigumi"):
        field = np.kron(rng.integers(0, 256, (13, 17, 3)), np.ones((6, 6, 1)))[:75, :99]
        write_image(hr / f"{name}.png", field.astype(np.uint8))
    out = {}
    for kind in ("bi", "bd", "dn"):
        config = RunConfig(
            models=("bicubic",),
            datasets=("manga109",),
            scale=3,
            metrics=("psnr", "ssim"),
            protocol="rdn-bddn",
            degradation=kind,
            mirror=str(root / "mirror"),
        )
        out[kind] = run_evaluation(config, root / kind, progress=False)
    return out


def test_a_bd_run_on_a_local_manga109_copy(runs: dict[str, Summary]) -> None:
    bd, bi = runs["bd"], runs["bi"]
    assert bd.provenance["datasets"]["manga109"]["location"].startswith("mirror ")
    assert bd.provenance["protocol"]["lr_source"] == "bd"
    values = {(s, e.metric): e.value for s, run in runs.items() for e in run.entries}
    assert all(np.isfinite(v) for v in values.values())
    assert values[("bd", "psnr")] != values[("bi", "psnr")]  # another LR, another number
    assert {e.n_samples for e in bd.entries} == {2} and {e.n_samples for e in bi.entries} == {2}


def test_columns_and_footnotes_name_the_degradation(runs: dict[str, Summary]) -> None:
    bi = build_table([runs["bi"]])
    assert (
        bi.models == ("bicubic",) and "(BD)" not in to_markdown(bi) and "degradation" not in to_markdown(bi)
    )
    bd = build_table([runs["bd"]])
    assert bd.models == ("bicubic (BD)",)
    text = to_markdown(bd)
    assert "bicubic (BD)" in text and "degradation BD (Gaussian blur sigma 1.6" in text
    assert build_table([runs["dn"]]).models == ("bicubic (DN)",)
    with pytest.raises(SrbenchError, match=r"protocol lr_source \(bi vs bd\)"):
        build_table([runs["bi"], runs["bd"]])
    mixed = build_table([runs["bi"], runs["bd"]], allow_mixed=True, order=("bicubic",))
    assert mixed.models == ("bicubic", "bicubic (BD)¹")
    assert [group_of(m) for m in mixed.models] == [0, 1]
    assert [column_model(m) for m in mixed.models] == ["bicubic", "bicubic"]
    assert any(
        n.startswith("¹ protocol rdn-bddn[lr_source=bd]") and "degradation BD" in n for n in mixed.notes
    )


def test_reference_finds_the_columns_of_a_bd_run(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    """``table --reference bicubic`` on a BD run: the columns read ``bicubic (BD)``, the comparison is by
    model name (either spelling is accepted) and its marks land on the tagged columns."""
    from srbench_eval.cli import main

    out = tmp_path / "bd"
    argv = ["run", "--quiet", "--models", "bicubic,srcnn", "--datasets", "demo", "--scale", "4"]
    assert main([*argv, "--degradation", "bd", "--protocol", "rdn-bddn", "--out", str(out)]) == 0
    capsys.readouterr()
    for reference in ("bicubic", "bicubic (BD)"):
        assert main(["table", str(out), "--reference", reference]) == 0
        text = capsys.readouterr().out
        assert "srcnn (smoke) (BD)" in text and "not significantly different from bicubic at" in text
        assert text.count("<sup>ns</sup>") == 2  # srcnn's PSNR and SSIM: too few demo images to tell
    assert main(["table", str(out), "--reference", "bicubik"]) == 2
