"""`srbench-eval metrics`: the facts of every registered metric, case-insensitive names."""

from __future__ import annotations

from click.testing import CliRunner

from srbench_eval.cli import main
from srbench_eval.commands.metrics import metrics
from srbench_eval.metrics import get_metric, metric_names


def test_lists_every_metric_with_its_facts() -> None:
    result = CliRunner().invoke(metrics, [])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines() if line.strip()}
    for name in metric_names():
        cls = get_metric(name)
        line = lines[name]
        assert cls.label in line and ("higher" if cls.higher_is_better else "lower") in line
        assert ("per-image" if cls.per_image else "per-set") in line and cls.reference_impl in line
    assert "no-ref" in lines["niqe"] and "niqe_pris_params.npz" in lines["niqe"]
    assert " Y " in lines["ifc"] and " RGB " in lines["dists"] and "vgg16-397923af.pth" in lines["dists"]
    assert "pi:" in result.output and "not been ported" in result.output


def test_names_are_case_insensitive_and_unknown_or_missing_ones_are_errors(capsys) -> None:
    result = CliRunner().invoke(metrics, ["MS-SSIM", "Ifc"])
    assert result.exit_code == 0
    assert [line.split()[0] for line in result.output.splitlines()[2:]] == ["ms-ssim", "ifc"]
    assert main(["metrics", "ms-sim"]) == 2
    assert "did you mean 'ms-ssim'" in capsys.readouterr().err
    assert main(["metrics", "PI"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: metric 'PI' is not provided") and err.count("\n") == 1
