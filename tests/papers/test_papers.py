"""The papers' data files and study specs: every published value against the transcription in
../shared/papers, the cross-table equalities, refusal of malformed files, cell_text and check_claims
on hand-made measured values, and the specs against the recipe and published-model registries."""

from __future__ import annotations

import copy
import importlib.resources
import json
import math
import re
from pathlib import Path
from typing import Any

import pytest

from srbench_eval.errors import SrbenchError
from srbench_eval.models.published.registry import get as get_published
from srbench_eval.models.recipes.named import apply_overrides, get_recipe
from srbench_eval.papers import (
    cell_text,
    check_claims,
    evaluate_claim,
    load,
    load_spec,
    paper_names,
    paper_train_overrides,
    parse_cell,
    parse_paper,
    published_values,
    spec_names,
)
from srbench_eval.papers.loader import load_file
from srbench_eval.papers.specs import SCHEDULE_FIELDS, load_spec_file, parse_spec
from srbench_eval.yamlio import safe_load
from tests.conftest import SHARED

TRANSCRIPTION = SHARED / "papers" / "dp_loss_tables.json"
requires_transcription = pytest.mark.skipif(
    not TRANSCRIPTION.is_file(), reason=f"{TRANSCRIPTION} is absent (the DP paper's transcription)"
)
PACKAGE = importlib.resources.files("srbench_eval.papers")


def _transcription() -> dict[str, Any]:
    with TRANSCRIPTION.open(encoding="utf-8") as f:
        return json.load(f, parse_float=str)


def _raw(name: str) -> dict[str, Any]:
    return safe_load(PACKAGE.joinpath(name).read_text(encoding="utf-8"))


def _refused(data: object, *parts: str, parse: Any = parse_paper, file: str = "dp_loss.yaml") -> str:
    """The one-line error ``parse`` gives for ``data``, checked to name the file and ``parts``."""
    with pytest.raises(SrbenchError) as info:
        parse(data, file)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{file}: "), message
    for part in parts:
        assert part in message, message
    return message


# --------------------------------------------------------------------------- the published values


@requires_transcription
def test_every_value_equals_the_transcription() -> None:
    src, paper = _transcription(), load("dp_loss")
    assert [t["id"] for t in src["tables"]] == [t.id for t in paper.tables]
    compared = 0
    for src_table in src["tables"]:
        table = paper.table(src_table["id"])
        assert table.caption == src_table["caption"]
        ours = {(r.label, r.model): r for r in table.rows}
        assert len(ours) == len(table.rows) == len(src_table["rows"])
        for src_row in src_table["rows"]:
            row = ours[(src_row["label"], src_row.get("model"))]
            assert set(row.cells) == set(src_row["cells"])
            for dataset, metrics in src_row["cells"].items():
                assert set(row.cells[dataset]) == set(metrics), (table.id, row.id, dataset)
                for metric, text in metrics.items():
                    assert row.cell(dataset, metric).text == text, (table.id, row.id, dataset, metric)
                    compared += 1
        printed = src_table["printed_cell_order"].upper()
        assert list(table.metrics) == sorted(table.metrics, key=lambda m: printed.index(m.upper()))
    assert compared == 296


@requires_transcription
def test_protocol_and_schedule_equal_the_transcription() -> None:
    src, paper = _transcription(), load("dp_loss")
    assert paper.protocol["scale"] == src["protocol"]["scale"] == 4
    assert paper.protocol["crop_border"] == src["protocol"]["border_crop"] == 4
    assert paper.protocol["psnr_ssim_channel"] == src["protocol"]["psnr_ssim_channel"]
    assert paper.protocol["test_sets"] == list(src["protocol"]["test_sets"])
    train = paper.training
    assert train["batch_size"] == src["training"]["batch_size"]
    assert train["hr_patch"] == src["training"]["hr_patch_size"]
    assert train["iterations"] == int(src["training"]["iterations"].removesuffix("K")) * 1000
    assert src["training"]["learning_rate"].startswith(train["lr"] + " ")
    steps = re.findall(r"(\d+)k", src["training"]["lr_schedule"])
    assert train["milestones"] == [int(s) * 1000 for s in steps]
    assert train["loss_weights"] == src["training"]["loss_weights"]


@requires_transcription
def test_every_cross_table_equality_is_recorded_and_holds() -> None:
    src, paper = _transcription(), load("dp_loss")
    recorded = {s.transcription for s in paper.same_run}
    assert recorded == set(src["cross_table_checks"]["exact_row_equalities"])
    for entry in paper.same_run:  # the loader checks them too; recheck here independently
        first = paper.row(entry.rows[0])
        for ref in entry.rows[1:]:
            other = paper.row(ref)
            equal = [
                (d, m)
                for d in first.cells
                if d in other.cells and (not entry.datasets or d in entry.datasets)
                for m in first.cells[d]
                if m in other.cells[d]
                and (not entry.metrics or m in entry.metrics)
                and first.cell(d, m).text == other.cell(d, m).text
            ]
            assert len(equal) == entry.cells, (entry.rows[0], ref)
    # The one recorded mismatch: Table 5's SRGAN is not Table 1's mu=inf run (11 of 12 cells differ).
    srgan, mu_inf = paper.row("table5/srgan"), paper.row("table1/mu=inf")
    differ = [(d, m) for d in srgan.cells for m in srgan.cells[d] if srgan.cell(d, m) != mu_inf.cell(d, m)]
    assert len(differ) == 11


def test_every_claim_holds_on_the_published_values() -> None:
    paper = load("dp_loss")
    values = published_values(paper)
    for claim in paper.claims:
        result = evaluate_claim(claim, paper, values)
        assert result.reproduced == result.measured == result.total > 0, result.line
    gain = next(c for c in paper.claims if c.kind == "mean_difference")
    assert "measured -0.01305, published -0.01305" in evaluate_claim(gain, paper, values).line


# --------------------------------------------------------------------------- malformed files


def test_malformed_paper_files_are_refused_in_one_line() -> None:
    good = _raw("dp_loss.yaml")
    parse_paper(good, "dp_loss.yaml")

    data = copy.deepcopy(good)
    del data["tables"][0]["rows"][1]["cells"]["set5"]["lpips"]
    _refused(data, "tables[table1].rows[mu=0.2].cells.set5", "missing metric lpips")

    data = copy.deepcopy(good)
    data["tables"][1]["rows"][3]["cells"]["urban100"]["psnr"] = "24.8g"
    _refused(data, "tables[table2].rows[beta_{4,3}].cells.urban100.psnr", "'24.8g' is not a number")

    data = copy.deepcopy(good)
    data["tables"][0]["rows"][0]["cells"]["set14"]["lpips"] = 0.1239
    _refused(data, "tables[table1].rows[mu=inf].cells.set14.lpips", "write 0.1239 as printed, in quotes")

    data = copy.deepcopy(good)
    data["tables"][2]["rows"][0]["cells"]["set5"]["psnr"] = "27.00"
    _refused(data, "tables[table3].rows[srgan-dp].cells.set5", "metric psnr", "share their columns")

    data = copy.deepcopy(good)
    data["tables"][3]["rows"][0]["cells"]["set5"] = {m: "0.1" for m in ("psnr", "ssim", "lpips")}
    _refused(data, "tables[table4].rows[srgan-dp mu=inf].cells", "dataset set5", "share their columns")

    data = copy.deepcopy(good)
    del data["tables"][4]["rows"][2]["cells"]["bsd100"]
    _refused(data, "tables[table5].rows[enhancenet].cells", "missing dataset bsd100")

    data = copy.deepcopy(good)
    data["tables"][5]["metrics"] = ["psnr", "ssim", "lpipz"]
    _refused(data, "tables[table6].metrics", "'lpipz'", "lpips")

    data = copy.deepcopy(good)
    data["claims"][0]["row"] = "mu=2"
    _refused(data, "claims[t1-mu1-best-fidelity].row", "'mu=2'")

    data = copy.deepcopy(good)
    data["claims"][0]["kind"] = "better"
    _refused(data, "claims[t1-mu1-best-fidelity].kind", "'better'")

    data = copy.deepcopy(good)
    data["tables"][1]["rows"][0]["cells"]["set14"]["ssim"] = "0.7571"
    _refused(data, "same_run[0]", "table1/mu=0.5 and table2/beta_{1,3} differ at set14 ssim")

    data = copy.deepcopy(good)
    data["same_run"][1]["cells"] = 4
    _refused(data, "same_run[1].cells", "share 3 cells, not 4")

    data = copy.deepcopy(good)
    del data["tables"][0]["caption"]
    _refused(data, "tables[table1].caption: missing")


def test_a_broken_file_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("format: srbench-eval-paper/1\ntables: [\n", encoding="utf-8")
    with pytest.raises(SrbenchError, match=r"^broken\.yaml: not valid YAML") as info:
        load_file(path)
    assert "\n" not in str(info.value)
    with pytest.raises(SrbenchError, match="unknown paper 'dp-loss': did you mean 'dp_loss'"):
        load("dp-loss")


# --------------------------------------------------------------------------- cell_text, check_claims


def test_cell_text_uses_the_published_precision() -> None:
    assert cell_text("0.1304", 0.12871, 0.00213) == "0.1304 → 0.1287 (±0.0021)"
    assert cell_text("0.1304", 0.12871) == "0.1304 → 0.1287"
    assert cell_text("26.69", 26.7449, 0.1) == "26.69 → 26.74 (±0.10)"
    assert cell_text("25.40", 25.4) == "25.40 → 25.40"
    assert cell_text("0.1304", None) == "0.1304 → -"
    assert cell_text("0.1304", 0.13, math.nan) == "0.1304 → 0.1300"
    paper = load("dp_loss")
    assert cell_text(paper.row("table2/beta_{4,3}").cell("set5", "lpips"), 0.10404) == "0.1040 → 0.1040"
    assert (parse_cell("0.1040").decimals, parse_cell("26").decimals, parse_cell(25.4).text) == (4, 0, "25.4")


def _line(lines: list[str], start: str) -> str:
    return next(line for line in lines if line.startswith(start))


def test_check_claims_counts_what_the_measured_values_reproduce() -> None:
    paper = load("dp_loss")
    t5 = "ESRGAN-DP LPIPS below ESRGAN on all four sets (Table 5)"
    values = published_values(paper)
    values[("table5", "esrgan-dp", "set14", "lpips")] = 0.1300  # above ESRGAN's 0.1254
    lines = check_claims(paper, values, tables=["table5"])
    assert len(lines) == 3 and _line(lines, t5) == f"{t5}: reproduced 3/4"
    del values[("table5", "esrgan", "urban100", "lpips")]
    assert _line(check_claims(paper, values), t5) == f"{t5}: reproduced 2/3 (1 of 4 not measured)"
    assert _line(check_claims(paper, {}), t5) == f"{t5}: not measured"

    values = published_values(paper)
    values[("table5", "esrgan-dp", "set5", "lpips")] = 0.1200  # above ESRGAN's 0.1080
    values[("table5", "esrgan-dp", "set14", "lpips")] = 0.1300
    gain = "ESRGAN-DP LPIPS lower than ESRGAN by 0.01305 on average over the four sets (Table 5)"
    assert _line(check_claims(paper, values), gain).startswith(f"{gain}: reproduced 1/1 (measured -0.00")
    values[("table5", "esrgan-dp", "bsd100", "lpips")] = 0.1500
    assert _line(check_claims(paper, values), gain).startswith(f"{gain}: reproduced 0/1 (measured +0.00")


def test_best_and_worst_claims_rank_with_ties() -> None:
    paper = load("dp_loss")
    best = "best μ is 0.5: μ=0.5 best LPIPS on all four sets (Table 1)"
    values = published_values(paper)
    values[("table1", "mu=1", "set5", "lpips")] = 0.1052  # ties mu=0.5: both rank 1
    values[("table1", "mu=20", "bsd100", "lpips")] = 0.1391  # better than mu=0.5's 0.1392
    assert _line(check_claims(paper, values), best) == f"{best}: reproduced 3/4"
    values[("table1", "mu=0.2", "urban100", "lpips")] = math.nan  # one row unmeasured: unit not counted
    assert _line(check_claims(paper, values), best) == f"{best}: reproduced 2/3 (1 of 4 not measured)"

    top2 = "β_{3,6} first or second in PSNR and SSIM on all four sets (Table 2)"
    values = published_values(paper)
    values[("table2", "beta_{3,6}", "set5", "psnr")] = 27.20  # below 27.39 and 27.27: third
    assert _line(check_claims(paper, values), top2) == f"{top2}: reproduced 7/8"

    worst = "ESRGAN-DP: μ=∞ worst in PSNR, SSIM and LPIPS on BSD100 (Table 4)"
    values = published_values(paper)
    values[("table4", "esrgan-dp mu=inf", "bsd100", "lpips")] = 0.1403  # ties mu=10: still worst
    values[("table4", "esrgan-dp mu=inf", "bsd100", "psnr")] = 25.36  # above mu=10's 25.35
    assert _line(check_claims(paper, values), worst) == f"{worst}: reproduced 2/3"


# --------------------------------------------------------------------------- study specs

EXPECTED_SPECS = ["dp-table1", "dp-table2", "dp-table3", "dp-table4", "dp-table5", "dp-table6", "fdl", "sog"]


def test_the_specs_and_paper_files_shipped() -> None:
    assert spec_names() == EXPECTED_SPECS
    assert paper_names() == ["dp_loss"]


@pytest.mark.parametrize("name", EXPECTED_SPECS)
def test_spec_recipes_and_overrides_exist_in_the_registries(name: str) -> None:
    spec = load_spec(name)
    for member in spec.members:
        if member.recipe is None:
            assert member.model == "bicubic" or get_published(member.model or "").name == member.model
            continue
        recipe, label = apply_overrides(get_recipe(member.recipe), list(member.overrides))
        assert recipe.overrides == member.overrides and label.startswith(member.recipe)
        train, _ = apply_overrides(recipe, list(paper_train_overrides(spec, member.recipe)))
        for key in SCHEDULE_FIELDS:
            stated = getattr(spec.schedule, key)
            effective = getattr(train.train, key)
            if stated is None or key in spec.schedule.keep_recipe:
                assert effective == getattr(get_recipe(member.recipe).train, key)
            else:
                assert (tuple(effective) if isinstance(stated, tuple) else effective) == stated


def _beta(text: str) -> str:
    """``beta_{3,6}`` -> ``3.6`` (the recipes' spelling)."""
    m, n = re.fullmatch(r"beta_\{(\d),(\d)\}", text).groups()  # type: ignore[union-attr]
    return f"{m}.{n}"


@pytest.mark.parametrize("name", [n for n in EXPECTED_SPECS if n.startswith("dp-")])
def test_dp_spec_members_train_what_their_table_row_states(name: str) -> None:
    spec, paper = load_spec(name), load("dp_loss")
    table = paper.table(spec.table or "")
    assert spec.metrics == table.metrics and spec.datasets == table.datasets
    assert {m.row for m in spec.members} | set(spec.printed_only) == {r.id for r in table.rows}
    assert (spec.protocol_set, spec.scale) == (("crop_border=4", "perceptual_crop=true"), 4)
    for member in spec.members:
        if member.recipe is None:
            continue
        row = table.row(member.row or "")
        recipe, _ = apply_overrides(get_recipe(member.recipe), list(member.overrides))
        kinds = {t.kind for t in recipe.losses}
        mu = row.settings.get("mu")
        if mu is None or math.isinf(mu):  # the VGG loss alone, or Table 6's static VGG + ResNet
            assert "dp" not in kinds
            assert ("resnet" in kinds) == bool(row.settings.get("resnet_loss")), member.label
        else:
            dp = recipe.loss("dp").params
            assert (dp["mu"], dp["beta"]) == (mu, _beta(row.settings["beta"])), member.label


def test_table5_spec_uses_the_released_models_and_prints_the_rest() -> None:
    """ESRGAN, DRN-L, nESRGAN+ and SFTGAN have registered releases; EnhanceNet and SRGAN do not."""
    from srbench_eval.models.published import registry as published

    spec = load_spec("dp-table5")
    assert spec.member("esrgan@pub").row == "esrgan" and spec.member("bicubic").model == "bicubic"
    assert spec.member("drn-l@pub").row == "drn" and spec.member("esrgan-plus@pub").row == "esrgan+"
    assert all(published.get(str(m.model)).scales for m in spec.members if "@pub" in str(m.model))
    assert spec.recipes == ("esrgan-dp",)
    assert spec.member("sftgan@pub").row == "sftgan"
    assert set(spec.printed_only) == {"enhancenet", "srgan"}


def test_specs_without_published_cells_say_so() -> None:
    for name in ("sog", "fdl"):
        spec = load_spec(name)
        assert spec.paper is None and spec.published.startswith("none")
        assert all(m.row is None for m in spec.members) and len(spec.pairs) == 2
    assert load_spec("sog").metrics == ("lpips", "fid")


def test_malformed_specs_are_refused_in_one_line(tmp_path: Path) -> None:
    good = _raw("studies/dp-table1.yaml")
    parse_spec(good, "dp-table1.yaml")

    def refused(data: object, *parts: str) -> None:
        _refused(data, *parts, parse=parse_spec, file="dp-table1.yaml")

    data = copy.deepcopy(good)
    data["members"][1]["recipe"] = "srgan-dq"
    refused(data, "members[mu=0.2].recipe", "'srgan-dq'", "srgan-dp")
    data = copy.deepcopy(good)
    data["members"][1]["row"] = "mu=0.3"
    refused(data, "members[mu=0.2].row", "'mu=0.3'")
    data = copy.deepcopy(good)
    del data["members"][6]
    refused(data, "table row mu=20 is neither a member's row nor printed_only")
    data = copy.deepcopy(good)
    data["members"][2]["set"] = ["loss.dp.mu"]
    refused(data, "members[mu=0.5].set", "'loss.dp.mu' is not PATH=VALUE")
    data = copy.deepcopy(good)
    data["seed"] = [0]
    refused(data, "study spec field 'seed'", "seeds")
    data = copy.deepcopy(good)
    data["preset"]["paper"]["iterations"] = "400K"
    refused(data, "preset.paper.iterations", "'400K' is not an integer")
    data = copy.deepcopy(good)
    data["protocol_set"] = ["crop_border=four"]
    refused(data, "protocol", "crop_border=four")
    data = copy.deepcopy(good)
    data["pairs"] = ["mu=0.5:mu=0.4"]
    refused(data, "pairs", "'mu=0.5:mu=0.4'")

    path = tmp_path / "other-name.yaml"
    path.write_text(json.dumps(good), encoding="utf-8")
    with pytest.raises(SrbenchError, match="^other-name.yaml: name: 'dp-table1' differs"):
        load_spec_file(path)
    with pytest.raises(SrbenchError, match="unknown study spec 'dp-table7'"):
        load_spec("dp-table7")
