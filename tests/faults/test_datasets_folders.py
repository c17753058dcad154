"""Folder datasets under bad input: labels (``LABEL=FOLDER``), unsafe folder names, two folders of
one name, and a dangling symbolic link in an HR folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from srbench_eval.cli import main
from srbench_eval.data.datasets import registry as ds
from tests.data import conftest as data_fixtures
from tests.data.conftest import Toy, one_line_error, tree_hashes

srbench_env = data_fixtures.srbench_env
toy = data_fixtures.toy

pytestmark = pytest.mark.usefixtures("srbench_env")


@pytest.fixture
def two_goods(toy: Toy, tmp_path: Path) -> tuple[Path, Path]:
    """Two different folders that are both named ``good``."""
    a = toy.write_folder(tmp_path / "a" / "good")
    b = toy.write_folder(tmp_path / "b" / "good")
    (b / "alpha.png").unlink()
    return a, b


def test_label_names_a_folder(two_goods: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    a, b = two_goods
    mine = ds.open_dataset(f"mine={a}")
    assert mine.name == "mine" and mine.title == "mine" and mine.location == f"folder {a.resolve()}"
    assert mine.manifest_digest == ds.open_dataset(str(a)).manifest_digest
    assert ds.open_dataset(f" theirs = {b}/../good ").name == "theirs"
    assert main(["datasets", "verify", f"mine={a}"]) == 0
    assert capsys.readouterr().out.startswith("mine: 3 images, manifest ok (same images as toy) (folder ")


def test_two_folders_of_one_name_get_the_same_name(two_goods: tuple[Path, Path]) -> None:
    # the run refuses two datasets of one name; the name must therefore not depend on the path
    a, b = two_goods
    assert ds.open_dataset(str(a)).name == ds.open_dataset(str(b)).name == "good"
    assert ds.open_dataset(f"{b}/.").name == "good"
    assert len(ds.open_dataset(str(b)).images) == 2


def test_label_on_a_registry_dataset() -> None:
    d = ds.open_dataset("mydemo=demo")
    assert d.name == "mydemo" and d.verified == "manifest ok" and d.location.startswith("scikit-image ")


@pytest.mark.parametrize(
    "label",
    [".hidden", "..", "a..b", "x" * 129, "", "a;b", "a%b", "a\x00"],
)
def test_bad_labels_are_refused(
    two_goods: tuple[Path, Path], capsys: pytest.CaptureFixture[str], label: str
) -> None:
    a, _ = two_goods
    before = tree_hashes(a.parent)
    assert main(["datasets", "verify", f"{label}={a}"]) == 2
    line = one_line_error(capsys.readouterr().err)
    assert line.startswith(f"error: dataset label {label.strip()!r} (in ")
    assert tree_hashes(a.parent) == before


@pytest.mark.parametrize("label", ["../../tmp/victim", "/tmp/victim"])
def test_a_label_with_a_path_is_a_folder_that_does_not_exist(
    two_goods: tuple[Path, Path], capsys: pytest.CaptureFixture[str], label: str
) -> None:
    a, _ = two_goods
    assert main(["datasets", "verify", f"{label}={a}"]) == 2
    assert one_line_error(capsys.readouterr().err) == (
        f"error: {label}={a}: no such folder; give a folder of HR images or a dataset name"
    )


def test_label_taken_by_a_registry_dataset(
    two_goods: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    a, _ = two_goods
    assert main(["datasets", "verify", f"Set5={a}"]) == 2
    line = one_line_error(capsys.readouterr().err)
    assert line == (
        f"error: dataset label 'Set5' is the registry dataset set5, not {a}; choose another label "
        f"(e.g. myset5={a})"
    )


def test_nothing_after_the_label(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["datasets", "verify", "mine="]) == 2
    assert "nothing after '='; write LABEL=FOLDER" in one_line_error(capsys.readouterr().err)


def test_existing_folder_with_equals_sign_is_a_folder(
    toy: Toy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    toy.write_folder(tmp_path / "x=y")
    monkeypatch.chdir(tmp_path)  # "x=y" exists: a folder, not the label x for a folder y
    assert ds.open_dataset("x=y").name == "x=y"
    assert ds.open_dataset("xy=x=y").name == "xy"


def test_nul_byte_in_a_spec(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["datasets", "verify", "/tmp/a\x00b"]) == 2
    assert "no such folder" in one_line_error(capsys.readouterr().err)


def test_unsafe_folder_name_asks_for_a_label(
    toy: Toy, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = toy.write_folder(tmp_path / "my%set")
    assert main(["datasets", "verify", str(folder)]) == 2
    assert one_line_error(capsys.readouterr().err) == (
        f"error: {folder}: the folder name 'my%set' cannot name a dataset (contains '%'; use only "
        f"letters, digits, spaces and - _ . , + = @ ( ) [ ] #); give it a label: LABEL={folder}"
    )
    assert main(["datasets", "verify", f"myset={folder}"]) == 0


def test_dangling_symlink_in_an_hr_folder(
    toy: Toy, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = toy.write_folder(tmp_path / "good")
    link = folder / "delta.png"
    link.symlink_to(tmp_path / "gone.png")
    (folder / "notes.txt").symlink_to(tmp_path / "gone.txt")  # not an image: not ours to judge
    before = {p.name for p in folder.iterdir()}
    assert main(["datasets", "verify", str(folder)]) == 2
    assert one_line_error(capsys.readouterr().err) == (
        f"error: {link}: dangling symbolic link (its target {tmp_path / 'gone.png'} does not exist); "
        f"fix or remove it"
    )
    assert {p.name for p in folder.iterdir()} == before and link.is_symlink()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any folder")
def test_unreadable_folder(toy: Toy, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = toy.write_folder(tmp_path / "good")
    folder.chmod(0o300)
    try:
        assert main(["datasets", "verify", str(folder)]) == 2
        assert one_line_error(capsys.readouterr().err) == (
            f"error: {folder}: cannot list this folder (Permission denied)"
        )
    finally:
        folder.chmod(0o755)


def test_label_on_an_unknown_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["datasets", "verify", "mine=set05"]) == 2
    assert "unknown dataset 'set05': did you mean 'set5'?" in one_line_error(capsys.readouterr().err)
