"""The one registry shape (:class:`srbench_eval.registry.Registry`) and, per registry of the harness,
that an entry added there reaches the CLI listing or help that shows it."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from srbench_eval.errors import SrbenchError
from srbench_eval.registry import Registry


class Base:
    name = "base"


class Child(Base):
    name = "child"


def test_eager_entries_decorator_names_and_unknown_name_error() -> None:
    reg: Registry[type] = Registry("widget")
    reg.add("one", Base)

    @reg.register()
    class Two(Base):
        name = "two"

    assert reg.names() == ["one", "two"] and list(reg) == ["one", "two"] and len(reg) == 2
    assert reg.get("two") is Two and reg["one"] is Base and "two" in reg and "Two" not in reg
    with pytest.raises(SrbenchError, match=r"^unknown widget 'tow': did you mean 'two'\? known: one, two$"):
        reg.get("tow")
    with pytest.raises(SrbenchError, match=r"^unknown spare part 'x': known: one, two$"):
        reg.get("x", kind="spare part")
    with pytest.raises(ValueError, match="widget one is registered twice"):
        reg.add("one", Child)
    reg.remove("one")
    assert reg.names() == ["two"]


def test_lazy_entries_import_on_first_get_and_check_the_base_class() -> None:
    sys.modules.pop("tests.registry_plugin_probe", None)
    reg: Registry[type] = Registry("thing", base=f"{__name__}:Base", key=str.lower)
    reg.add_lazy("child", f"{__name__}:Child")
    reg.add_lazy("bad", "collections:OrderedDict")
    reg.add_lazy("nomod", "tests.registry_plugin_probe:Nothing")
    assert reg.names() == ["child", "bad", "nomod"] and "tests.registry_plugin_probe" not in sys.modules
    assert reg.get("CHILD") is Child and "Child" in reg
    with pytest.raises(TypeError, match="thing bad: .* is not a subclass of Base"):
        reg.get("bad")
    with pytest.raises(ModuleNotFoundError):
        reg.get("nomod")
    reg.add_lazy("plain", "collections")
    with pytest.raises(ValueError, match="'collections': use 'package.module:attr'"):
        reg.get("plain")


def test_a_decorator_fills_its_own_lazy_slot_while_its_module_imports() -> None:
    reg: Registry[type] = Registry("thing")
    reg.add_lazy("child", f"{__name__}:Child")
    assert reg.add("child", Child) is Child and reg.get("child") is Child
    with pytest.raises(ValueError, match="thing child is registered twice"):
        reg.add("child", Base)
    with pytest.raises(ValueError, match="thing child is registered twice"):
        reg.add_lazy("child", f"{__name__}:Base")


def test_source_backed_registry_reads_its_source_each_time_with_aliases() -> None:
    @dataclasses.dataclass
    class Entry:
        name: str
        aliases: tuple[str, ...]

    table = {"set5": Entry("set5", ("Set-5",))}
    reg: Registry[Entry] = Registry(
        "dataset", key=lambda s: s.strip().lower(), source=lambda: table, aliases=lambda e: e.aliases
    )
    assert reg.get(" SET5 ") is table["set5"] and reg.get("set-5") is table["set5"]
    assert reg.find("set14") is None
    table["set14"] = Entry("set14", ())
    assert reg.names() == ["set5", "set14"] and reg.find("Set14") == "set14"
    with pytest.raises(TypeError, match="read from its source"):
        reg.remove("set5")


# --------------------------------------------------------------------------- contracts: CLI listings


@pytest.fixture
def added() -> Iterator[list[tuple[Registry, str]]]:
    """Entries a test adds to a registry, removed afterwards."""
    entries: list[tuple[Registry, str]] = []
    yield entries
    for reg, name in entries:
        reg.remove(name)


def test_a_metric_added_to_the_registry_is_listed_by_metrics(
    added: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    from srbench_eval.commands.metrics import metrics
    from srbench_eval.metrics import METRICS
    from srbench_eval.metrics.facts import METRIC_FACTS

    facts = dataclasses.replace(METRIC_FACTS["psnr"], name="toy-psnr", label="TOYPSNR")
    monkeypatch.setitem(METRIC_FACTS, "toy-psnr", facts)
    METRICS.add_lazy("toy-psnr", "srbench_eval.metrics.fidelity:PSNR")
    added.append((METRICS, "toy-psnr"))
    result = CliRunner().invoke(metrics, [])
    assert result.exit_code == 0, result.output
    assert any(line.split()[:2] == ["toy-psnr", "TOYPSNR"] for line in result.output.splitlines())


def test_a_recipe_and_an_architecture_added_are_listed_by_models_list(added: list) -> None:
    from srbench_eval.commands.models import models
    from srbench_eval.models.architectures import ARCHITECTURES, arch_names, get_arch
    from srbench_eval.models.recipes.registry import RECIPES, get_recipe, register

    ARCHITECTURES.add("toynet", dataclasses.replace(get_arch("srcnn"), name="toynet"))
    added.append((ARCHITECTURES, "toynet"))
    srcnn = get_recipe("srcnn")
    register(
        dataclasses.replace(srcnn, name="toy-recipe", arch=dataclasses.replace(srcnn.arch, name="toynet"))
    )
    added.append((RECIPES, "toy-recipe"))
    assert "toynet" in arch_names("generator")
    result = CliRunner().invoke(models, ["list"])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("toy-recipe "))
    assert " toynet " in line and "20,099 (x4)" in line


def test_a_published_model_added_is_listed_by_models_list(monkeypatch: pytest.MonkeyPatch) -> None:
    from srbench_eval.commands.models import models
    from srbench_eval.models.published import registry as published

    real = published.registry()
    toy = dataclasses.replace(next(iter(real.values())), key="toy-pub")
    monkeypatch.setattr(published, "registry", lambda: {**real, "toy-pub": toy})
    assert published.get("toy-pub") is toy and published.get("toy-pub@pub") is toy
    result = CliRunner().invoke(models, ["list"])
    assert result.exit_code == 0, result.output
    assert any(line.startswith("toy-pub@pub ") for line in result.output.splitlines())


def test_a_dataset_added_is_listed_by_datasets_list(
    monkeypatch: pytest.MonkeyPatch, tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    from srbench_eval.cli import main
    from srbench_eval.data.datasets import registry as ds

    monkeypatch.setenv("SRBENCH_DATA", str(tmp_path))
    real = ds.registry()
    toy = dataclasses.replace(real["set5"], name="toyset", aliases=("Toy-Set",))
    monkeypatch.setattr(ds, "registry", lambda: {**real, "toyset": toy})
    assert ds.get_entry("TOY-SET") is toy and ds.find_entry("toyset ") is toy
    assert main(["datasets", "list"]) == 0
    assert "\ntoyset " in capsys.readouterr().out


def test_a_layout_added_is_accepted_by_table(added: list) -> None:
    from srbench_eval.reports import layouts

    layouts.LAYOUTS.add("toy", lambda table, summaries, fmt: f"toy {fmt}")
    added.append((layouts.LAYOUTS, "toy"))
    assert layouts.render(None, [], "toy", "md") == "toy md"  # type: ignore[arg-type]
    with pytest.raises(SrbenchError, match="unknown layout 'toyy': did you mean 'toy'"):
        layouts.render(None, [], "toyy", "md")  # type: ignore[arg-type]


def test_a_loss_kind_added_is_accepted_by_recipes(added: list) -> None:
    from srbench_eval.losses import LOSS_KINDS
    from srbench_eval.models.recipes.overrides import apply_overrides
    from srbench_eval.models.recipes.registry import get_recipe, validate

    LOSS_KINDS.add_lazy("toy-l1", "srbench_eval.losses.pixel:L1Loss")
    added.append((LOSS_KINDS, "toy-l1"))
    recipe, _ = apply_overrides(get_recipe("srcnn"), ["loss.toy-l1.weight=0.5"])
    validate(recipe)
    assert [s.kind for s in recipe.losses][-1] == "toy-l1"


def test_a_protocol_profile_added_is_listed_by_protocols_and_run_help(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`protocols` lists the profiles and `run --help` names them, both read from ``PROFILES``."""
    from srbench_eval import protocol
    from srbench_eval.cli import cli

    toy = dataclasses.replace(protocol.PROFILES["matlab"], name="toy-profile", reproduces="nothing")
    monkeypatch.setitem(protocol.PROFILES, "toy-profile", toy)
    listing = CliRunner().invoke(cli, ["protocols"])
    assert listing.exit_code == 0 and "toy-profile" in listing.output
    helped = CliRunner().invoke(cli, ["run", "--help"], terminal_width=400)
    assert helped.exit_code == 0 and "toy-profile" in helped.output
    assert protocol.resolve("toy-profile") == toy


def test_the_layout_names_of_table_help_are_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """`table --help` prints the NumPy-free list in ``reports/names.py``: it is the registry's names, and
    a name added there is in the help."""
    from srbench_eval.cli import cli
    from srbench_eval.reports import layouts, names

    assert tuple(names.LAYOUTS) == tuple(layouts.LAYOUTS.names())
    monkeypatch.setattr(names, "LAYOUTS", (*names.LAYOUTS, "toy-layout"))
    helped = CliRunner().invoke(cli, ["table", "--help"], terminal_width=400)
    assert helped.exit_code == 0 and "toy-layout" in helped.output
