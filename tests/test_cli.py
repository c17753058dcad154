"""The CLI's start-up: commands that compute nothing import no numerics (torch, NumPy, OpenCV,
numba, SciPy); the lazy command group lists every command without importing it and resolves each
name to its click command. Imports are asserted, never time (``benchmarks/`` measures time)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from srbench_eval.cli import COMMANDS, cli

HEAVY = ("torch", "numpy", "cv2", "numba", "scipy", "pandas", "matplotlib", "PIL", "lpips")

# Runs one command through the click group in a fresh interpreter, prints the heavy modules it loaded.
PROBE = """
import contextlib, io, json, sys
from srbench_eval.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    rc = main(sys.argv[1:])
print(json.dumps({"rc": rc, "heavy": sorted(m for m in HEAVY if m in sys.modules)}))
""".replace("HEAVY", repr(HEAVY))


def _heavy_modules(args: list[str], tmp_path: Path) -> dict:
    env = {
        **os.environ,
        "SRBENCH_DATA": str(tmp_path / "data"),
        "TORCH_HOME": str(tmp_path / "torch"),
        "PYTHONPATH": str(Path.cwd()),
    }
    env.pop("SRBENCH_MIRROR", None)
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env, timeout=120, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["protocols"],
        ["protocols", "basicsr"],
        ["datasets", "list"],
        ["weights", "list"],
        ["metrics"],
        ["models", "list"],
        ["models", "show", "esrgan-dp"],
        ["metrics", "psnr", "LPIPS"],
        ["run", "--help"],
        ["table", "--help"],
    ],
    ids=" ".join,
)
def test_commands_that_compute_nothing_import_no_numerics(args: list[str], tmp_path: Path) -> None:
    found = _heavy_modules(args, tmp_path)
    assert found == {"rc": 0, "heavy": []}


def test_help_lists_every_command_from_the_map_without_importing_it() -> None:
    ctx = click.Context(cli)
    assert cli.list_commands(ctx) == sorted(COMMANDS)
    text = cli.get_help(ctx)
    for name, (_, short_help) in COMMANDS.items():
        assert f"{name} " in text and short_help in text


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_lazy_name_resolves_to_its_click_command(name: str) -> None:
    command = cli.get_command(click.Context(cli), name)
    assert isinstance(command, click.Command)
    assert command.name == name
    assert cli.get_command(click.Context(cli), name) is command  # imported once, then kept


def test_unknown_command_is_a_usage_error() -> None:
    from srbench_eval.cli import main

    assert main(["no-such-command"]) == 2


@pytest.mark.parametrize("variables", [{}, {"TORCH_HOME": "th"}, {"XDG_CACHE_HOME": "xdg"}], ids=str)
def test_weights_folder_without_torch_is_torch_hubs_own(variables: dict[str, str], tmp_path: Path) -> None:
    """``weights list`` names the hub folder without importing torch: the same folder torch names."""
    code = (
        "import sys, srbench_eval.weights as w; before = w.checkpoint_dir(); "
        "assert 'torch' not in sys.modules; "
        "import torch; print(before == w.checkpoint_dir() == __import__('pathlib').Path(torch.hub.get_dir()) "
        "/ 'checkpoints')"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("TORCH_HOME", "XDG_CACHE_HOME")}
    env.update(
        {k: str(tmp_path / v) for k, v in variables.items()}, HOME=str(tmp_path), PYTHONPATH=str(Path.cwd())
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.stdout.strip() == "True", out.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--models", "bicubic", "--scale", "4"],
        ["--models", "bicubic", "--scale", "3", "--device", "cpu", "--protocol", "basicsr"],
        ["--models", "bicubic", "--scale", "2", "--protocol", "matlab-double", "--save-sr"],
    ],
    ids=" ".join,
)
def test_a_cpu_run_of_the_bicubic_column_imports_no_torch(args: list[str], tmp_path: Path) -> None:
    """On the CPU the images are NumPy arrays and PSNR/SSIM and the bicubic column are compiled
    kernels: torch is never imported (``--device auto`` finds no GPU driver here, or asks torch)."""
    out = ["--out", str(tmp_path / "out"), "--quiet"]
    found = _heavy_modules(["run", "--datasets", "demo", "--metrics", "psnr,ssim", *args, *out], tmp_path)
    assert found["rc"] == 0
    from srbench_eval.evaluation.device import gpu_driver_present

    expect_torch = "--device" not in args and gpu_driver_present()  # auto asks torch where a driver is
    assert ("torch" in found["heavy"]) == expect_torch, found
    assert (tmp_path / "out" / "results.csv").is_file()


def test_a_run_with_a_network_imports_torch_for_it(tmp_path: Path) -> None:
    args = ["run", "--models", "srcnn", "--checkpoints", "zoo", "--datasets", "demo", "--device", "cpu"]
    found = _heavy_modules([*args, "--scale", "4", "--quiet", "--out", str(tmp_path / "out")], tmp_path)
    assert found["rc"] == 0 and "torch" in found["heavy"]
