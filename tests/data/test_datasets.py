"""Registry, manifest canonicalisation, folders, the demo set and verification of local copies."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from srbench_eval.data.datasets import manifest as mf
from srbench_eval.data.datasets import registry as ds
from srbench_eval.data.datasets.manifest import ImageHash, pixel_hash, verify
from srbench_eval.data.io.images import read_image, write_image
from srbench_eval.errors import SrbenchError
from tests.conftest import SHARED_BENCHMARKS, requires_shared
from tests.data.conftest import Toy

pytestmark = pytest.mark.usefixtures("srbench_env")

REPO = Path(__file__).resolve().parents[2]


PAIRED = {
    "div2k-valid-bicubic",
    "div2k-valid-unknown",
    "rdn-bd-set5",
    "rdn-dn-set5",
    *(f"realsr-{camera}-x{s}" for camera in ("canon", "nikon") for s in (2, 3, 4)),
    *(f"drealsr-x{s}" for s in (2, 3, 4)),
}


def test_registry_entries_are_complete() -> None:
    reg = ds.registry()
    assert (
        set(reg)
        == {
            "set5",
            "set14",
            "bsd100",
            "urban100",
            "manga109",
            "div2k-train",
            "div2k-valid",
            "demo",
        }
        | PAIRED
    )
    for entry in reg.values():
        assert entry.citation and (entry.images > 0 or entry.lr)
        if entry.lr:  # paired (LR given): downloadable HR, LR files pinned, or mirror-only and said so
            assert set(entry.lr) <= {2, 3, 4} and entry.name in PAIRED, entry.name
            assert entry.sources or entry.lr_sha256 or "mirror-only" in entry.note, entry.name
            continue
        assert entry.images > 0
        assert entry.sources or entry.skimage_files, entry.name
        for s in entry.sources:
            assert s.url.startswith(("http://", "https://")) and s.members and s.file
            assert s.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", s.sha256)
        if entry.manifest is not None:
            assert len(entry.manifest) == entry.images, entry.name
        else:
            assert "No manifest" in entry.note, entry.name
    for name in ("set5", "set14", "bsd100", "urban100"):
        assert len(reg[name].sources) >= 3, name
    assert ds.find_entry("B100") is reg["bsd100"] and ds.find_entry("Set5") is reg["set5"]


def test_repo_root_yaml_is_the_packaged_one() -> None:
    root = REPO / "datasets.yaml"
    assert root.is_symlink() and root.resolve() == (REPO / "srbench_eval" / "datasets.yaml").resolve()
    assert yaml.safe_load(root.read_text())["canonical"] == mf.CANONICAL


def test_canonical_hash_ignores_the_mod12_border_only() -> None:
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (37, 50, 3), dtype=np.uint8)  # mod-12 crop: 36 x 48
    ref = pixel_hash(img)
    border = img.copy()
    border[36:, :] = 0
    border[:, 48:] = 255
    assert pixel_hash(border).sha256 == ref.sha256
    assert pixel_hash(img[:36, :49]).sha256 == ref.sha256  # a copy already cropped for x2 / x3 / x4
    assert pixel_hash(img[:-12]).sha256 != ref.sha256
    inner = img.copy()
    inner[35, 47, 2] ^= 1
    assert pixel_hash(inner).sha256 != ref.sha256
    grey = img[..., 0].copy()
    assert pixel_hash(grey).sha256 != pixel_hash(np.repeat(grey[..., None], 3, axis=2)).sha256
    assert ImageHash.parse(str(ref)) == ref and ref.shape == (37, 50, 3)


def test_verify_reports_differences_and_crops() -> None:
    a, b = ImageHash("a" * 64, (481, 321, 3)), ImageHash("b" * 64, (256, 256, 1))
    manifest = {"x": a, "y": b}
    assert verify(manifest, manifest, 2).status == "manifest ok"
    # same pixels, 480 rows instead of 481: mod-2/3/4 crops agree, so nothing to note
    assert verify({"x": ImageHash(a.sha256, (480, 321, 3)), "y": b}, manifest, 2).status == "manifest ok"
    cropped = verify({"x": a, "y": ImageHash(b.sha256, (252, 252, 1))}, manifest, 2)
    assert cropped.ok and "x2: 1 images cropped differently" in cropped.status and "y" in cropped.status
    bad = verify({"x": ImageHash("c" * 64, a.shape), "z": b}, manifest, 2)
    assert not bad.ok and bad.status.startswith("differs from manifest: 3 images")
    assert bad.mismatched == ("x",) and bad.missing == ("y",) and bad.extra == ("z",)
    assert verify({"x": a}, None, 2).status == "no manifest; 1 images, expected 2"


def test_demo_is_embedded_and_cheap_to_reopen(monkeypatch: pytest.MonkeyPatch) -> None:
    d = ds.open_dataset("demo")
    assert d.verified == "manifest ok" and d.ok and len(d.images) == 5
    assert d.names() == ["astronaut", "camera", "chelsea", "coffee", "moon"]
    assert any(read_image(p).ndim == 2 for p in d.images)
    assert any(read_image(p).ndim == 3 for p in d.images)

    def no_decode(path: Path) -> ImageHash:
        raise AssertionError(f"decoded {path} again")

    monkeypatch.setattr(mf, "hash_file", no_decode)
    again = ds.open_dataset("demo")
    assert again == d


def test_folder_dataset(tmp_path: Path) -> None:
    folder = tmp_path / "mine" / "HR"
    folder.mkdir(parents=True)
    write_image(folder / "b.png", np.zeros((8, 9, 3), np.uint8))
    write_image(folder / "a.png", np.full((8, 9), 3, np.uint8))
    (folder / "notes.txt").write_text("not an image")
    d = ds.open_dataset(str(folder.parent))
    assert d.name == "mine" and d.names() == ["a", "b"] and d.verified == "no manifest"
    assert ds.open_dataset(str(folder)).manifest_digest == d.manifest_digest


def test_open_without_checking_pixels_decodes_nothing(
    toy: Toy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sharded run's other ranks: the same files and names, no decode, nothing verified."""
    bad = tmp_path / "bad"
    bad.mkdir()
    write_image(bad / "ok.png", np.zeros((4, 4), np.uint8))
    (bad / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    mirror = tmp_path / "mirror"
    toy.write_folder(mirror / "Toy" / "HR")
    checked = ds.open_dataset("toy", mirror=str(mirror))
    monkeypatch.setattr(mf, "read_image", lambda path: pytest.fail(f"decoded {path}"))
    d = ds.open_dataset(str(bad), check_pixels=False)
    assert d.names() == ["broken", "ok"] and d.verified == ds.UNCHECKED and d.manifest_digest == ""
    (mirror / "Toy" / "HR" / "alpha.png").touch()  # a changed file: its stamp no longer holds
    listed = ds.open_dataset("mine=toy", mirror=str(mirror), check_pixels=False)
    assert listed.images == checked.images and listed.name == "mine" and listed.verified == ds.UNCHECKED


@requires_shared
def test_folder_copy_of_a_benchmark_is_recognised() -> None:
    d = ds.open_dataset(str(SHARED_BENCHMARKS / "Set5" / "HR"))
    assert d.verified == "manifest ok (same images as set5)"


def test_folder_errors(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(SrbenchError, match=r"empty: no image files .* point --datasets"):
        ds.open_dataset(str(tmp_path / "empty"))
    bad = tmp_path / "bad"
    bad.mkdir()
    write_image(bad / "ok.png", np.zeros((4, 4), np.uint8))
    (bad / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(SrbenchError, match=r"broken\.png: cannot decode image"):
        ds.open_dataset(str(bad))
    with pytest.raises(SrbenchError, match=r"nowhere: no such folder"):
        ds.open_dataset(str(tmp_path / "nowhere"))
    with pytest.raises(SrbenchError, match=r"unknown dataset 'urban10': did you mean 'urban100'\?"):
        ds.open_dataset("urban10")


def test_mirror_folder_used_in_place(toy: Toy, tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    toy.write_folder(mirror / "Toy" / "HR")
    d = ds.open_dataset("toy", mirror=str(mirror))
    assert d.verified == "manifest ok" and d.location == f"mirror {mirror.resolve() / 'Toy' / 'HR'}"
    assert d.names() == ["alpha", "beta", "gamma"]
    with pytest.raises(SrbenchError, match=r"mirror .*nothing: no such folder"):
        ds.open_dataset("toy", mirror=str(tmp_path / "nothing"))


def test_copy_differing_only_in_the_border_verifies(toy: Toy, tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    folder = toy.write_folder(mirror / "Toy" / "HR")
    img = toy.images["alpha"].copy()  # 30 x 40: rows 24.. and columns 36.. are outside the mod-12 crop
    img[24:] = 0
    img[:, 36:] = 7
    write_image(folder / "alpha.png", img)
    assert ds.open_dataset("toy", mirror=str(mirror)).verified == "manifest ok"


def test_wrong_pixels_are_reported_and_strict_refuses(
    toy: Toy, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    mirror = tmp_path / "mirror"
    folder = toy.write_folder(mirror / "Toy" / "HR")
    img = toy.images["gamma"].copy()
    img[5, 5] ^= 0xFF
    write_image(folder / "gamma.png", img)
    with caplog.at_level(logging.WARNING):
        d = ds.open_dataset("toy", mirror=str(mirror))
    assert not d.ok and d.verified.startswith("differs from manifest: 1 images (pixels differ: gamma)")
    assert "published numbers are not comparable" in caplog.text
    with pytest.raises(SrbenchError, match=r"dataset toy .*differs from manifest.*--strict"):
        ds.open_dataset("toy", mirror=str(mirror), strict=True)
    with pytest.raises(SrbenchError, match=r"differs from manifest"):
        ds.verify_dataset("toy", mirror=str(mirror), strict=True)


@requires_shared
def test_shared_benchmarks_verify_in_place(tmp_path: Path) -> None:
    for name, count in (("set5", 5), ("set14", 14)):
        d = ds.open_dataset(name, mirror=str(SHARED_BENCHMARKS), download=False)
        assert d.verified == "manifest ok" and len(d.images) == count, d
    # BSD100's reference copy is 480 x 321; a 481-row original must verify with nothing to note
    mirror = tmp_path / "bsd"
    src = SHARED_BENCHMARKS / "BSD100" / "HR"
    first = sorted(src.iterdir())[0]
    shutil.copytree(src, mirror / "BSD100" / "HR")
    img = read_image(first)
    grown = (
        np.concatenate([img, img[-1:]], axis=0)
        if img.shape[0] == 480
        else np.concatenate([img, img[:, -1:]], axis=1)
    )
    write_image(mirror / "BSD100" / "HR" / first.name, grown)
    assert ds.open_dataset("bsd100", mirror=str(mirror)).verified == "manifest ok"
