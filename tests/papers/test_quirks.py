"""The DP paper's bicubic row under other conventions (srbench_eval/papers/dp_loss_quirks.yaml, written
by benchmarks/dp_bicubic_quirks.py): the stored values are validated when loaded, Set5 is recomputed,
and the footnote says which convention each printed cell is consistent with."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest
import yaml

from srbench_eval.errors import SrbenchError
from srbench_eval.papers import load
from srbench_eval.papers.quirks import QUIRKS_FILE, closest, consistent, footnote, load_quirks, parse_quirks
from tests.conftest import SHARED_BENCHMARKS, requires_shared

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "dp_bicubic_quirks.py"


def _script():  # noqa: ANN202 (the benchmark script as a module)
    sys.path.insert(0, str(BENCHMARK.parent))
    spec = importlib.util.spec_from_file_location("dp_bicubic_quirks", BENCHMARK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_stored_quirks_cover_every_candidate_of_the_script() -> None:
    quirks = load_quirks()
    script = _script()
    expected = [(n, tuple(s)) for n, s in script.candidates()] + [("matlab", ("crop_border=4",))] * 2
    assert [(c.protocol, c.sets) for c in quirks.candidates][: len(expected) - 2] == expected[:-2]
    assert [c.channels for c in quirks.candidates].count("rgb") == 2
    assert quirks.candidates[0].label == "matlab (crop_border=4)"  # the protocol the paper states
    row = load("dp_loss").table("table5").row("bicubic")
    assert set(quirks.candidates[0].values) == set(row.cells)


def test_footnote_names_the_consistent_conventions_or_the_closest() -> None:
    quirks = load_quirks()
    row = load("dp_loss").table("table5").row("bicubic")
    lines = footnote(quirks)
    assert lines[0].startswith("Protocol of the paper's bicubic row (table5)")
    for dataset in row.cells:
        line = next(x for x in lines if x.startswith(f"- {dataset}:"))
        for metric in ("psnr", "ssim"):
            cell = row.cell(dataset, metric)
            found = consistent(quirks, cell, dataset, metric)
            if found:
                assert f"consistent with {', '.join(found)}" in line
            else:
                best, diff = closest(quirks, cell, dataset, metric)
                assert f"closest {best.label}: {diff:+.{cell.decimals}f}" in line
    stated = quirks.candidates[0].values["set5"]["psnr"]
    assert round(stated, 2) != 26.69 and "stated protocol" in lines[1]  # the observation


@requires_shared
def test_set5_values_recomputed(tmp_path: Path) -> None:
    script = _script()
    quirks = load_quirks()
    stated = script.measure("matlab", ("crop_border=4",), SHARED_BENCHMARKS, ("set5",))
    rgb = script.measure_rgb(4, SHARED_BENCHMARKS, ("set5",))
    stored_rgb = next(c for c in quirks.candidates if c.channels == "rgb" and c.sets == ("crop_border=4",))
    for metric in ("psnr", "ssim"):
        assert stated.values["set5"][metric] == pytest.approx(
            quirks.candidates[0].values["set5"][metric], abs=1e-6
        )
        assert rgb.values["set5"][metric] == pytest.approx(stored_rgb.values["set5"][metric], abs=1e-6)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d.update(format="x"), "format: not srbench-eval-paper-quirks/1"),
        (lambda d: d["candidates"][0].update(protocol="nope"), "candidates[0]: unknown protocol 'nope'"),
        (lambda d: d["candidates"][1]["values"].pop("set5"), "candidates[1]: measures other datasets"),
        (lambda d: d["candidates"][0]["values"]["set5"].update(psnr="x"), "values.set5: expected numbers"),
        (lambda d: d["candidates"][0].update(channels="bgr"), "channels: 'bgr' is not y or rgb"),
    ],
)
def test_malformed_quirks_are_one_line_errors(edit, message: str) -> None:  # noqa: ANN001
    data = yaml.safe_load(QUIRKS_FILE.read_text())
    edit(data)
    with pytest.raises(SrbenchError, match=re.escape(message)) as e:
        parse_quirks(data, "quirks.yaml")
    assert str(e.value).startswith("quirks.yaml: ") and "\n" not in str(e.value)
