"""Finding a recipe's latest checkpoint."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from srbench_eval.errors import SrbenchError
from srbench_eval.models import checkpoints


def test_find_latest_prefers_the_highest_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(checkpoints.CHECKPOINTS_ENV, str(tmp_path))
    assert checkpoints.checkpoint_dir() == tmp_path
    assert checkpoints.find_latest("esrgan") is None
    folder = tmp_path / "esrgan"
    (folder / "x4").mkdir(parents=True)
    for name in ("step_0050000.pt", "x4/step_0400000.pt", "step_0100000.pt", "notes.txt"):
        (folder / name).write_bytes(b"")
    os.utime(folder / "step_0100000.pt", (2e9, 2e9))  # newer file, lower step
    assert checkpoints.find_latest("esrgan") == folder / "x4" / "step_0400000.pt"
    (folder / "final.pt").write_bytes(b"")  # no step: ranks below every numbered file
    assert checkpoints.find_latest("esrgan") == folder / "x4" / "step_0400000.pt"


def test_default_dir_is_under_the_current_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(checkpoints.CHECKPOINTS_ENV, raising=False)
    assert checkpoints.checkpoint_dir() == Path("checkpoints")


# --------------------------------------------------------------------------- writing, reading, loading


def _tiny_checkpoint(path: Path, *, scale: int = 4, recipe: str = "srcnn", preset: str = "smoke") -> Path:
    """A weights-only checkpoint of a tiny generator, in the format the trainer writes."""
    from srbench_eval.models.recipes.named import apply_overrides, build_generator, get_recipe

    r, _ = apply_overrides(get_recipe(recipe), ["arch.num_feat=4", "arch.num_feat2=4"])
    d = r.to_dict()
    arch = dict(d["arch"])
    name = arch.pop("name")
    torch.manual_seed(0)
    net = build_generator(r, scale)
    checkpoints.save_checkpoint(
        {
            "format": checkpoints.FORMAT,
            "kind": "generator",
            "recipe": d,
            "label": r.label,
            "preset": preset,
            "scale": scale,
            "arch": {"name": name, "params": arch},
            "step": 7,
            "iterations": 7,
            "generator": net.state_dict(),
        },
        path,
    )
    return path


def test_save_is_atomic_and_load_names_the_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _tiny_checkpoint(tmp_path / "a" / "step_0000007.pt")
    before = path.read_bytes()

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # a kill in the middle of the write

    monkeypatch.setattr(torch, "save", broken)
    with pytest.raises(KeyboardInterrupt):
        checkpoints.save_checkpoint({"format": checkpoints.FORMAT}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before and sorted(p.name for p in path.parent.iterdir()) == [path.name]
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(SrbenchError, match="junk.pt: cannot read the checkpoint"):
        checkpoints.load_checkpoint(tmp_path / "junk.pt")
    torch.save({"state_dict": {}}, tmp_path / "other.pt")
    with pytest.raises(SrbenchError, match="other.pt: not a srbench-eval checkpoint"):
        checkpoints.load_checkpoint(tmp_path / "other.pt")
    with pytest.raises(SrbenchError, match="no such checkpoint file"):
        checkpoints.load_checkpoint(tmp_path / "missing.pt")


def test_load_generator_checks_recipe_scale_and_architecture(tmp_path: Path) -> None:
    path = _tiny_checkpoint(tmp_path / "c.pt")
    net, meta = checkpoints.load_generator(path, 4, recipe_name="srcnn")
    assert meta.display_label == "srcnn[arch.num_feat=4,arch.num_feat2=4] (smoke)"
    assert meta.provenance("abc", "test")["size"] == {
        "name": "srcnn",
        "params": {"num_feat": 4, "num_feat2": 4},
    }
    assert net(torch.rand(1, 3, 6, 6)).shape == (1, 3, 24, 24)
    with pytest.raises(SrbenchError, match="a checkpoint of recipe srcnn, not rrdb"):
        checkpoints.load_generator(path, 4, recipe_name="rrdb")
    with pytest.raises(SrbenchError, match="trained for x4, not x2"):
        checkpoints.load_generator(path, 2)
    with pytest.raises(SrbenchError, match=r"architecture srcnn\(num_feat=4, num_feat2=4\) does not match"):
        checkpoints.load_generator(path, 4, arch={"name": "srcnn", "params": {"num_feat": 8}})
    ckpt = torch.load(path, weights_only=True)
    ckpt["generator"].pop("conv3.bias")
    checkpoints.save_checkpoint(ckpt, path)
    with pytest.raises(SrbenchError, match="weights do not fit srcnn"):
        checkpoints.load_generator(path, 4)


def test_export_keeps_the_metadata_in_half_precision(tmp_path: Path) -> None:
    src = _tiny_checkpoint(tmp_path / "full.pt")
    dst = checkpoints.export_generator(src, tmp_path / "zoo" / "srcnn-x4-smoke.pt")
    out = checkpoints.load_checkpoint(dst)
    assert out["kind"] == "generator" and out["dtype"] == "float16"
    assert all(v.dtype == torch.float16 for v in out["generator"].values())
    assert out["exported_from"]["sha256"] == checkpoints.sha256_file(src)
    net, meta = checkpoints.load_generator(dst, 4, recipe_name="srcnn")
    assert next(net.parameters()).dtype == torch.float32 and meta.step == 7


def test_find_latest_skips_run_folders_of_other_scales(tmp_path: Path) -> None:
    folder = tmp_path / "rrdb"
    for rel in ("x2-paper/step_0900000.pt", "x4-smoke/step_0002000.pt", "x4-smoke/.step_0004000.pt.x.tmp"):
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(b"")
    assert checkpoints.find_latest("rrdb", 4, tmp_path) == folder / "x4-smoke" / "step_0002000.pt"
    assert checkpoints.find_latest("rrdb", 2, tmp_path) == folder / "x2-paper" / "step_0900000.pt"
    assert checkpoints.find_latest("rrdb", 8, tmp_path) is None
    # a sweep's variant never stands in for the recipe as registered
    (folder / "x4-paper-dp.mu=1").mkdir()
    (folder / "x4-paper-dp.mu=1" / "step_0400000.pt").write_bytes(b"")
    assert checkpoints.find_latest("rrdb", 4, tmp_path) == folder / "x4-smoke" / "step_0002000.pt"
    (folder / "x4-smoke" / "step_0002000.pt").unlink()
    assert checkpoints.find_latest("rrdb", 4, tmp_path) == folder / "x4-paper-dp.mu=1" / "step_0400000.pt"
    assert checkpoints.run_name(4, "paper", ("loss.dp.mu=1", "arch.fdl.tau=0.8"), seed=2) == (
        "x4-paper-dp.mu=1_arch.fdl.tau=0.8-seed2"
    )
