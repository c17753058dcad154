"""Fault injection on the models of a run, second pass (issue 27): the user's code behind
``--models LABEL=module:attr`` failing in every way, checkpoints and weights that do not fit or are
pickles (torch's warnings and advice never printed), a PNG whose CRC is wrong.

Every case asserts the exit status (2, never 0 with no output), a one-line error naming the spec,
model or file, no traceback, and no run folder left.
"""

from __future__ import annotations

import pickle
import struct
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from srbench_eval.data.io.images import write_image
from srbench_eval.models import checkpoints as ckpts
from tests.faults import cli_error, run_argv

USER_CODE = """
import sys
import torch

class Fails(torch.nn.Module):
    def forward(self, x):
        raise RuntimeError("forward broke\\non two lines")

class Exits(torch.nn.Module):
    def forward(self, x):
        sys.exit(0)

class NeedsChannels(torch.nn.Module):
    def __init__(self, channels):
        super().__init__()

    def forward(self, x):
        return x
"""


@pytest.fixture
def user_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Modules ``h27_nets`` (networks that fail), ``h27_raises`` (raises on import) and
    ``h27_syntax`` (a syntax error) on ``sys.path``."""
    code = tmp_path / "code"
    code.mkdir()
    (code / "h27_nets.py").write_text(USER_CODE)
    (code / "h27_raises.py").write_text("raise RuntimeError('boom at import')\n")
    (code / "h27_syntax.py").write_text("def f(:\n")
    monkeypatch.syspath_prepend(str(code))
    yield code
    for name in ("h27_nets", "h27_raises", "h27_syntax"):
        sys.modules.pop(name, None)


def _no_run_left(out: Path) -> None:
    assert not out.exists()
    assert not any(p.name.startswith(f".{out.name}") for p in out.parent.iterdir())


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            "h27_raises:Net",
            "--models F=h27_raises:Net: importing h27_raises raised RuntimeError: boom at import",
        ),
        (
            "h27_syntax:f",
            "--models F=h27_syntax:f: importing h27_syntax raised SyntaxError: invalid syntax (",
        ),
        (
            "h27_nets:Fails",
            "model 'F' on demo/astronaut: the network raised RuntimeError: forward broke on two lines",
        ),
        (
            "h27_nets:Exits",
            "model 'F' on demo/astronaut: the network raised SystemExit(0): the code called sys.exit()",
        ),
        ("h27_nets:NeedsChannels", "--models F=h27_nets:NeedsChannels: the factory failed (TypeError: "),
    ],
    ids=["import-raises", "syntax-error", "forward-raises", "forward-exits", "factory-needs-argument"],
)
def test_the_users_code_failing_is_one_line(
    tmp_path: Path, capsys, user_code: Path, spec: str, expected: str
) -> None:
    out = tmp_path / "out"
    err = cli_error(
        capsys, ["run", "--quiet", "--models", f"F={spec}", "--datasets", "demo", "--out", str(out)]
    )
    assert err.startswith(f"error: {expected}"), err
    _no_run_left(out)


def _srcnn_checkpoint() -> dict:
    src = ckpts.find_in_zoo("srcnn", 4)
    assert src is not None
    return torch.load(src, map_location="cpu", weights_only=True)


def test_a_checkpoint_whose_tensors_do_not_fit_is_one_line(tmp_path: Path, capsys) -> None:
    ckpt = _srcnn_checkpoint()
    generator = ckpt["generator"]
    for name in list(generator):
        generator[name] = torch.zeros(2)
    path = tmp_path / "shapes.pt"
    torch.save(ckpt, path)
    out = tmp_path / "out"
    err = cli_error(
        capsys, ["run", "--quiet", "--models", str(path), "--datasets", "demo", "--out", str(out)]
    )
    assert err.startswith(f"error: {path}: weights do not fit srcnn(")
    assert "size mismatch for conv1.weight" in err and f"and {len(generator) - 1} more)" in err
    _no_run_left(out)


class _Code:
    def __reduce__(self) -> tuple:
        return (print, ("code ran",))


@pytest.mark.parametrize("how", ["torch-save", "pickle-protocol-4"])
@pytest.mark.parametrize("label", ["", "X="], ids=["checkpoint", "weights"])
def test_a_pickle_is_refused_in_one_line_without_torchs_warnings_or_advice(
    tmp_path: Path, capsys, how: str, label: str
) -> None:
    path = tmp_path / "code.pt"
    if how == "torch-save":
        ckpt = _srcnn_checkpoint()
        ckpt["extra"] = _Code()
        torch.save(ckpt, path)
    else:  # plain pickle: torch warns about the protocol before refusing it
        path.write_bytes(pickle.dumps({"format": ckpts.FORMAT, "x": _Code()}, protocol=4))
    out = tmp_path / "out"
    with _no_warnings():
        err = cli_error(
            capsys, ["run", "--quiet", "--models", f"{label}{path}", "--datasets", "demo", "--out", str(out)]
        )
    assert err.startswith(f"error: {path}: cannot read the ")
    assert "not plain data, refused by the safe loader" in err
    for advice in ("weights_only", "add_safe_globals", "safe_globals", "Please use"):
        assert advice not in err
    assert "code ran" not in capsys.readouterr().out
    _no_run_left(out)


class _no_warnings:
    """Fail on any warning raised inside the block (torch's UserWarning about the protocol)."""

    def __enter__(self) -> None:
        import warnings

        self._catcher = warnings.catch_warnings(record=True)
        self._seen = self._catcher.__enter__()
        warnings.simplefilter("always")

    def __exit__(self, *exc: object) -> None:
        self._catcher.__exit__(*exc)
        assert [str(w.message) for w in self._seen] == []


def test_a_png_with_a_wrong_crc_is_one_line_before_libpng_speaks(tmp_path: Path, capfd) -> None:
    from srbench_eval.cli import main

    hr = tmp_path / "hr"
    hr.mkdir()
    write_image(hr / "a.png", np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8))
    data = bytearray((hr / "a.png").read_bytes())
    at = data.find(b"IDAT")
    length = struct.unpack(">I", data[at - 4 : at])[0]
    data[at + 4 + length] ^= 0xFF  # the IDAT chunk's CRC
    (hr / "a.png").write_bytes(bytes(data))
    out = tmp_path / "out"
    assert main(run_argv("bicubic", str(hr), out)) == 2
    err = capfd.readouterr().err.strip()  # file descriptor 2: what libpng would print too
    assert err == f"error: {hr / 'a.png'}: cannot decode image (corrupt PNG: CRC error in chunk IDAT)"
    _no_run_left(out)
