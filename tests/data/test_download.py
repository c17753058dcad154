"""The real download path against a loopback HTTP mirror: fetch, extract, verify, install atomically."""

from __future__ import annotations

import dataclasses
import logging
import tarfile
from pathlib import Path

import numpy as np
import pytest

from srbench_eval.data.datasets import download as dl
from srbench_eval.data.datasets import registry as ds
from srbench_eval.data.datasets.manifest import pixel_hash
from srbench_eval.data.io.images import read_image
from srbench_eval.errors import SrbenchError
from tests.conftest import SHARED_BENCHMARKS, requires_shared
from tests.data.conftest import HttpMirror, Toy, make_tar, make_zip

pytestmark = pytest.mark.usefixtures("srbench_env")


def _leftovers(cache: Path) -> list[str]:
    """Hidden partial or old folders left in the cache (there must be none)."""
    return sorted(p.name for p in cache.glob(".toy.*")) if cache.exists() else []


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_download_from_loopback_mirror(toy: Toy, http_mirror: HttpMirror, srbench_env: Path) -> None:
    make_tar(http_mirror.root / "toy.tar", toy.files())
    d = ds.open_dataset("toy", mirror=http_mirror.url)
    target = srbench_env / "toy" / "HR"
    assert d.verified == "manifest ok" and d.ok and d.location == f"cache {target}"
    assert d.images == tuple(target / f"{n}.png" for n in ("alpha", "beta", "gamma"))
    assert np.array_equal(read_image(target / "beta.png"), toy.images["beta"])
    assert http_mirror.requests == ["/toy.tar"]
    assert not (srbench_env / "archives" / "toy.tar").exists()  # used by toy only: not kept
    assert not _leftovers(srbench_env)
    # a verified cache copy opens without the mirror and without asking the server again
    again = ds.open_dataset("toyset", download=False)
    assert again == d and http_mirror.requests == ["/toy.tar"]


def test_sources_named_differently_are_renamed_by_content(
    toy: Toy, http_mirror: HttpMirror, srbench_env: Path
) -> None:
    # a SelfExSR-like zip: other names, HR cropped to multiples of 4, LR files beside them
    names = {"alpha": "img_001_SRF_4_HR", "beta": "img_002_SRF_4_HR", "gamma": "img_003_SRF_4_HR"}
    cropped = {n: img[: img.shape[0] // 4 * 4, : img.shape[1] // 4 * 4] for n, img in toy.images.items()}
    files = Toy(toy.entry, cropped, toy.work).files("Toy/image_SRF_4/", names)
    files["Toy/image_SRF_4/img_001_SRF_4_LR.png"] = files["Toy/image_SRF_4/img_001_SRF_4_HR.png"]
    make_zip(http_mirror.root / "toy_SR.zip", files)
    d = ds.download_dataset("toy", mirror=http_mirror.url)
    assert d.names() == ["alpha", "beta", "gamma"]
    assert d.ok and d.verified.startswith("manifest ok; x2: 3 images cropped differently")
    assert http_mirror.requests == ["/toy.tar", "/toy_SR.zip"]  # the first archive is not on the mirror


def test_mirror_folder_holding_archives(toy: Toy, tmp_path: Path, srbench_env: Path) -> None:
    mirror = tmp_path / "archives"
    mirror.mkdir()
    make_tar(mirror / "toy.tar", toy.files(), gz=True)  # tar reading autodetects compression
    d = ds.open_dataset("toy", mirror=str(mirror))
    assert d.verified == "manifest ok" and d.location.startswith("cache ")
    assert (mirror / "toy.tar").is_file() and not (srbench_env / "archives").exists()  # used in place


def test_download_copies_a_mirror_folder(toy: Toy, tmp_path: Path, srbench_env: Path) -> None:
    mirror = tmp_path / "mirror"
    toy.write_folder(mirror / "Toy" / "HR")
    d = ds.download_dataset("toy", mirror=str(mirror))
    assert d.location == f"cache {srbench_env / 'toy' / 'HR'}" and d.verified == "manifest ok"


@pytest.mark.parametrize("gz", [False, True], ids=["tar", "tar.gz"])
def test_truncated_archive_leaves_nothing(
    toy: Toy, http_mirror: HttpMirror, srbench_env: Path, gz: bool
) -> None:
    path = make_tar(toy.work / "toy.tar", toy.files(), gz=gz)
    with tarfile.open(path) as tf:
        last = tf.getmembers()[-1]
        cut = last.offset_data + last.size // 2  # in the middle of the last image
    good = path.read_bytes()
    (http_mirror.root / "toy.tar").write_bytes(good[: len(good) * 2 // 3] if gz else good[:cut])
    with pytest.raises(SrbenchError) as err:
        ds.open_dataset("toy", mirror=http_mirror.url)
    message = str(err.value)
    assert "toy.tar: corrupt or truncated archive" in message and "--mirror" in message
    assert "--datasets demo" in message and "\n" not in message
    assert not (srbench_env / "toy").exists() and not _leftovers(srbench_env)
    assert not (srbench_env / "archives" / "toy.tar").exists()  # dropped, so a rerun downloads again


def test_corrupt_archive_never_damages_a_good_copy(
    toy: Toy, http_mirror: HttpMirror, srbench_env: Path
) -> None:
    make_tar(http_mirror.root / "toy.tar", toy.files())
    ds.download_dataset("toy", mirror=http_mirror.url)
    target = srbench_env / "toy" / "HR"
    before = _snapshot(target)
    (http_mirror.root / "toy.tar").write_bytes(b"this is not a tar file" * 100)
    with pytest.raises(SrbenchError, match=r"corrupt or truncated archive"):
        ds.download_dataset("toy", mirror=http_mirror.url, force=True)
    assert _snapshot(target) == before and not _leftovers(srbench_env)
    assert ds.verify_dataset("toy").verified == "manifest ok"


def test_interrupted_download_and_extraction(
    toy: Toy, http_mirror: HttpMirror, srbench_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tar(http_mirror.root / "toy.tar", toy.files())
    http_mirror.drop_after["/toy.tar"] = 3000  # the connection drops mid-transfer
    with pytest.raises(SrbenchError, match=r"toy is not available \(.*/toy\.tar: "):
        ds.download_dataset("toy", mirror=http_mirror.url)
    assert not (srbench_env / "toy").exists() and not _leftovers(srbench_env)
    assert not list((srbench_env / "archives").glob("*"))  # pooch's temporary file is gone too

    del http_mirror.drop_after["/toy.tar"]
    ds.download_dataset("toy", mirror=http_mirror.url)
    before = _snapshot(srbench_env / "toy" / "HR")
    real_extract = dl.extract_members

    def interrupted(archive: Path, source: dl.Source, dest: Path) -> list[Path]:
        real_extract(archive, source, dest)
        raise KeyboardInterrupt

    monkeypatch.setattr(dl, "extract_members", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ds.download_dataset("toy", mirror=http_mirror.url, force=True)
    assert _snapshot(srbench_env / "toy" / "HR") == before and not _leftovers(srbench_env)


def test_incomplete_archive_is_refused(toy: Toy, http_mirror: HttpMirror, srbench_env: Path) -> None:
    files = toy.files()
    del files["toy/HR/gamma.png"]
    make_tar(http_mirror.root / "toy.tar", files)
    with pytest.raises(
        SrbenchError, match=r"incomplete copy, differs from manifest: 1 images \(missing: gamma\)"
    ):
        ds.download_dataset("toy", mirror=http_mirror.url)
    assert not (srbench_env / "toy").exists()


def test_archive_hash_mismatch(
    toy: Toy, http_mirror: HttpMirror, srbench_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = dataclasses.replace(toy.entry.sources[0], sha256="0" * 64)
    entry = dataclasses.replace(toy.entry, sources=(source,))
    monkeypatch.setattr(ds, "registry", lambda: {"toy": entry})
    make_tar(http_mirror.root / "toy.tar", toy.files())
    with pytest.raises(SrbenchError, match=r"toy\.tar: .*hash"):
        ds.download_dataset("toy", mirror=http_mirror.url)
    assert not (srbench_env / "toy").exists() and not (srbench_env / "archives" / "toy.tar").exists()


def test_wrong_pixels_install_with_warning_unless_strict(
    toy: Toy, http_mirror: HttpMirror, srbench_env: Path, caplog: pytest.LogCaptureFixture
) -> None:
    images = dict(toy.images)
    images["alpha"] = 255 - images["alpha"]
    make_tar(http_mirror.root / "toy.tar", Toy(toy.entry, images, toy.work).files())
    with pytest.raises(SrbenchError, match=r"pixels differ: alpha.*--strict"):
        ds.download_dataset("toy", mirror=http_mirror.url, strict=True)
    assert not (srbench_env / "toy").exists() and not _leftovers(srbench_env)
    with caplog.at_level(logging.WARNING):
        d = ds.download_dataset("toy", mirror=http_mirror.url)
    assert not d.ok and d.verified == "differs from manifest: 1 images (pixels differ: alpha)"
    assert "not comparable" in caplog.text


def test_unavailable_without_mirror_or_network(
    toy: Toy, srbench_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SrbenchError, match=r"not in the cache .*datasets download toy.*--datasets demo"):
        ds.open_dataset("toy", download=False)
    with pytest.raises(
        SrbenchError, match=r"toy is not available \(public URLs skipped .*--mirror DIR.*demo"
    ):
        ds.open_dataset("toy")
    monkeypatch.delenv(dl.OFFLINE_ENV)  # the public URLs point at a closed loopback port
    with pytest.raises(
        SrbenchError, match=r"127\.0\.0\.1:9/toy.tar: connection refused; .*skipped.*--mirror"
    ):
        ds.open_dataset("toy")
    assert not (srbench_env / "toy").exists()


@requires_shared
def test_set5_through_the_real_entry(http_mirror: HttpMirror, srbench_env: Path) -> None:
    src = SHARED_BENCHMARKS / "Set5" / "HR"
    files = {f"benchmark/Set5/HR/{p.name}": p.read_bytes() for p in sorted(src.glob("*.png"))}
    make_tar(http_mirror.root / "benchmark.tar", files)
    d = ds.download_dataset("set5", mirror=http_mirror.url, strict=True)
    assert d.verified == "manifest ok" and d.names() == ["baby", "bird", "butterfly", "head", "woman"]
    assert d.manifest_digest == ds.open_dataset("set5", mirror=str(SHARED_BENCHMARKS)).manifest_digest
    assert pixel_hash(read_image(d.images[0])) == ds.registry()["set5"].manifest["baby"]
    assert (srbench_env / "archives" / "benchmark.tar").is_file()  # kept: set14, bsd100, urban100 use it
