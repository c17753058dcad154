"""The SR cache: a second run of the zoo models with other metrics runs no network and gives the same
values; a changed checkpoint, protocol or mode misses; concurrent writers leave one whole entry."""

from __future__ import annotations

import csv
import json
import multiprocessing
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from srbench_eval.cli import main
from srbench_eval.evaluation import cache as sr_cache
from srbench_eval.evaluation import loop

ZOO = Path(__file__).resolve().parents[1] / "srbench_eval" / "zoo"
MODELS = "srcnn,lapsrn-fdl,rrdb,rrdb-sog"
BASE = ["run", "--quiet", "--datasets", "demo", "--scale", "4", "--device", "cpu", "--checkpoints", "zoo"]


@pytest.fixture(autouse=True)
def _cache_on(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SRBENCH_SR_CACHE", "1")
    monkeypatch.setenv("SRBENCH_DATA", str(tmp_path / "data"))


def _run(out: Path, models: str, metrics: str, *extra: str) -> dict:
    assert main([*BASE, "--models", models, "--metrics", metrics, "--out", str(out), *extra]) == 0
    return json.loads((out / "summary.json").read_text())


def _values(out: Path) -> dict[tuple[str, str, str], str]:
    with open(out / "results.csv", newline="") as fh:
        return {(r["model"], r["image"], r["metric"]): r["value"] for r in csv.DictReader(fh)}


def _no_network(*args: object) -> object:
    raise AssertionError("a network ran although its SR images were cached")


@pytest.mark.slow
def test_a_second_run_with_other_metrics_runs_no_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stand_in_weights: object
) -> None:
    first = _run(tmp_path / "a", MODELS, "psnr,ssim")
    assert all(
        not d["from_cache"]
        for m in first["provenance"]["sr_cache"]["models"].values()
        for d in m["datasets"].values()
    )
    plain = _run(tmp_path / "plain", MODELS, "psnr,ssim", "--no-cache")
    assert plain["provenance"]["sr_cache"] == {"enabled": False}
    stand_in_weights("alexnet")  # type: ignore[operator]
    monkeypatch.setattr(loop, "_super_resolve", _no_network)
    second = _run(tmp_path / "b", MODELS, "psnr,ssim,lpips")
    record = second["provenance"]["sr_cache"]["models"]
    assert len(record) == 4 and all(m["datasets"]["demo"]["from_cache"] for m in record.values())
    assert all(m["key"]["model"].startswith("file:") for m in record.values())
    again, first_values = _values(tmp_path / "b"), _values(tmp_path / "a")
    assert {k: v for k, v in again.items() if k[2] != "lpips"} == first_values == _values(tmp_path / "plain")
    with pytest.raises(AssertionError, match="a network ran"):  # another protocol is another key
        main(
            [
                "--debug",
                *BASE,
                "--models",
                "srcnn",
                "--metrics",
                "psnr",
                "--out",
                str(tmp_path / "c"),
                "--protocol",
                "matlab-legacy",
            ]
        )


def test_a_changed_checkpoint_or_mode_misses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ckpt = tmp_path / "srcnn.pt"
    shutil.copy(ZOO / "srcnn-x4-smoke.pt", ckpt)
    _run(tmp_path / "a", f"mine={ckpt}", "psnr")
    state = torch.load(ckpt, map_location="cpu", weights_only=False)
    changed = tmp_path / "changed.pt"
    tensors = [v for v in _tensors(state) if v.is_floating_point()]
    tensors[0].view(-1)[0] = torch.nextafter(
        tensors[0].view(-1)[0], torch.tensor(np.inf, dtype=tensors[0].dtype)
    )
    torch.save(state, changed)
    b = _run(tmp_path / "b", f"mine={changed}", "psnr")
    assert not b["provenance"]["sr_cache"]["models"]["mine (smoke)"]["datasets"]["demo"]["from_cache"]
    c = _run(tmp_path / "c", f"mine={ckpt}", "psnr", "--precision", "bf16")
    assert not c["provenance"]["sr_cache"]["models"]["mine (smoke) [bf16]"]["datasets"]["demo"]["from_cache"]
    monkeypatch.setattr(loop, "_super_resolve", _no_network)
    d = _run(tmp_path / "d", f"mine={ckpt}", "psnr,ssim")
    assert _values(tmp_path / "d") == {**_values(tmp_path / "a"), **_values(tmp_path / "d")}
    assert d["provenance"]["sr_cache"]["models"]["mine (smoke)"]["datasets"]["demo"]["from_cache"]


def _tensors(tree: object) -> list[torch.Tensor]:
    if isinstance(tree, torch.Tensor):
        return [tree]
    if isinstance(tree, dict):
        return [t for v in tree.values() for t in _tensors(v)]
    if isinstance(tree, list | tuple):
        return [t for v in tree for t in _tensors(v)]
    return []


def _fill(root: str, seed: int) -> None:
    cache = sr_cache.SRCache(Path(root))
    rng = np.random.default_rng(seed)
    for _ in range(40):
        cache.put("ab" + "0" * 62, {"k": 1}, rng.integers(0, 256, (1, 3, 64, 64)).astype(np.float32))


def test_concurrent_writers_leave_one_whole_entry(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_fill, args=(str(tmp_path), s)) for s in (1, 2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
        assert p.exitcode == 0
    cache = sr_cache.SRCache(tmp_path)
    got = cache.get("ab" + "0" * 62, {"k": 1}, (1, 3, 64, 64))
    assert got is not None and got.dtype == np.float32
    assert [p.name for p in (tmp_path / "ab").iterdir()] == ["ab" + "0" * 62 + ".npz"]  # no torn temp files
    assert cache.get("ab" + "0" * 62, {"k": 2}, (1, 3, 64, 64)) is None  # other key fields: never served


def test_a_damaged_entry_is_a_miss_and_removed(tmp_path: Path) -> None:
    cache = sr_cache.SRCache(tmp_path)
    key = "cd" + "1" * 62
    cache.put(key, {"k": 1}, np.full((1, 1, 8, 8), 0.5, dtype=np.float64))  # not 8-bit: kept as float64
    assert cache.get(key, {"k": 1}, (1, 1, 8, 8)).dtype == np.float64  # type: ignore[union-attr]
    path = cache.path(key)
    path.write_bytes(path.read_bytes()[:40])
    assert cache.get(key, {"k": 1}, (1, 1, 8, 8)) is None and not path.exists()


def test_cache_list_and_prune(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _run(tmp_path / "a", "srcnn", "psnr")
    capsys.readouterr()
    assert main(["cache", "list"]) == 0
    out = capsys.readouterr().out
    assert "entries" in out and "x4  cpu  fp32" in out
    assert main(["cache", "prune", "--older-than", "30"]) == 0
    assert "removed 0 files" in capsys.readouterr().out
    assert main(["cache", "prune"]) == 0
    assert "removed 0 files" not in capsys.readouterr().out
    assert list(sr_cache.entries()) == []
