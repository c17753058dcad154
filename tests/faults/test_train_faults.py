"""Fault injection on `srbench-eval train` and the checkpoints it writes and reads.

Every case runs the real command line (``srbench_eval.cli.main``) on tiny images and a tiny SRCNN
and checks the exit status (2), the one-line message naming the option, file or value, that no
traceback is printed, and what is on disk afterwards.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

from srbench_eval.cli import main
from srbench_eval.errors import SrbenchError
from srbench_eval.models import checkpoints as ckpts
from tests.test_train import TINY_SRCNN, make_images

RUN = "x4-smoke-" + "_".join(TINY_SRCNN)


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_images(tmp_path_factory.mktemp("faults_hr"), n=2)


def args(images: Path, root: Path, *extra: str) -> list[str]:
    base = ["train", "--model", "srcnn", "--preset", "smoke", "--data", str(images), "--val", "none"]
    base += ["--batch-size", "2", "--patch", "16", "--iterations", "1", "--quiet", "--checkpoints", str(root)]
    return base + [a for o in TINY_SRCNN for a in ("--set", o)] + list(extra)


def cli(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str]:
    rc = main(argv)
    captured = capsys.readouterr()
    return rc, captured.out + captured.err


def assert_one_line_error(rc: int, output: str, *named: str) -> str:
    """Exit 2, exactly one ``error:`` line naming everything in ``named``, no traceback."""
    assert rc == 2, output
    assert "Traceback" not in output, output
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, output
    for text in named:
        assert text in errors[0], errors[0]
    return errors[0]


def pt_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.pt")) if root.exists() else []


def hidden_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob(".*") if p.is_file()]


# --------------------------------------------------------------------------- options


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--log-every", "0"),
        ("--log-every", "-5"),
        ("--workers", "-1"),
        ("--iterations", "0"),
        ("--iterations", "-3"),
        ("--batch-size", "0"),
        ("--scale", "0"),
        ("--scale", "-2"),
        ("--patch", "0"),
        ("--save-every", "0"),
        ("--val-every", "0"),
        ("--keep", "0"),
        ("--subimages", "-1"),
        ("--seed", "-1"),
        ("--set", "train.iterations=0"),
        ("--set", "train.batch_size=0"),
        ("--set", "train.hr_patch=-16"),
        ("--set", "train.lr=-1"),
        ("--set", "train.gamma=0"),
        ("--set", "train.betas=0.9,1.5"),
        ("--subimages", "12"),
    ],
)
def test_a_zero_or_negative_option_is_refused_not_taken_as_the_default(
    option: str, value: str, images: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "ckpt"
    rc, out = cli(capsys, args(images, root, option, value))
    assert_one_line_error(rc, out, f"{option} {value}:")
    assert not root.exists()  # refused before anything was written


# --------------------------------------------------------------------------- unwritable places


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    """A folder this process cannot create files in: a chmod 555 folder, or /sys for root (root
    ignores permission bits; sysfs takes no new files)."""
    if os.geteuid() != 0:
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    folder = Path("/sys")
    try:
        fd, tmp = tempfile.mkstemp(dir=folder)
    except OSError:
        yield folder
        return
    os.close(fd)
    os.unlink(tmp)
    pytest.skip("running as root and /sys takes files: no read-only folder to test with")


def test_export_under_a_file_is_refused_before_training(
    images: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a_file = tmp_path / "file.txt"
    a_file.write_text("keep me")
    root = tmp_path / "ckpt"
    rc, out = cli(capsys, args(images, root, "--export", str(a_file / "model.pt")))
    assert_one_line_error(rc, out, "--export", str(a_file / "model.pt"), "is a file, not a folder")
    assert not root.exists() and a_file.read_text() == "keep me"


def test_export_into_a_read_only_folder_is_refused_before_training(
    images: Path, tmp_path: Path, read_only_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "ckpt"
    target = read_only_dir / "model.pt"
    rc, out = cli(capsys, args(images, root, "--export", str(target)))
    assert_one_line_error(rc, out, "--export", str(target), f"cannot write in {read_only_dir}")
    assert not root.exists() and not target.exists()


def test_export_below_a_folder_that_cannot_be_created_is_refused_before_training(
    images: Path, tmp_path: Path, read_only_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "ckpt"
    target = read_only_dir / "new" / "sub" / "model.pt"
    rc, out = cli(capsys, args(images, root, "--export", str(target)))
    assert_one_line_error(rc, out, "--export", str(target), f"cannot write in {read_only_dir}")
    assert not root.exists() and not (read_only_dir / "new").exists()


def test_export_onto_a_folder_is_refused_before_training(
    images: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "ckpt"
    rc, out = cli(capsys, args(images, root, "--export", str(tmp_path)))
    assert_one_line_error(rc, out, "--export", "is a folder")
    assert not root.exists()


def test_export_below_a_missing_folder_is_created(
    images: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "new" / "sub" / "model.pt"
    rc, out = cli(capsys, args(images, tmp_path / "ckpt", "--export", str(target)))
    assert rc == 0, out
    assert ckpts.load_checkpoint(target)["kind"] == "generator"


def test_a_checkpoint_folder_under_a_file_is_refused_before_training(
    images: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a_file = tmp_path / "file.txt"
    a_file.write_text("keep me")
    rc, out = cli(capsys, args(images, a_file))
    assert_one_line_error(rc, out, "checkpoint folder", str(a_file), "is a file, not a folder")
    assert a_file.read_text() == "keep me" and not hidden_files(tmp_path)


def test_a_read_only_checkpoint_folder_is_refused_before_training(
    images: Path, read_only_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = read_only_dir / "ckpt"
    rc, out = cli(capsys, args(images, root))
    assert_one_line_error(rc, out, "checkpoint folder", str(root), f"cannot write in {read_only_dir}")
    assert not root.exists()


# --------------------------------------------------------------------------- damaged checkpoints


@pytest.fixture(scope="module")
def good_checkpoint(images: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real training checkpoint of the tiny run after one iteration."""
    root = tmp_path_factory.mktemp("good_ckpt")
    assert main(args(images, root)) == 0
    (path,) = pt_files(root)
    return path


def _edit(ckpt: dict[str, Any], field: str, value: Any) -> None:
    """Set ``a.b`` in the nested dict ``ckpt`` (``value`` DELETE removes it); ``generator:k`` is
    the key ``k`` of the generator's state dict (whose keys hold dots)."""
    *parents, last = field.split(":") if ":" in field else field.split(".")
    for key in parents:
        ckpt = ckpt[key]
    if value is DELETE:
        del ckpt[last]
    else:
        ckpt[last] = value


DELETE = object()


def crafted(good: Path, dst: Path, field: str, value: Any) -> Path:
    ckpt = torch.load(good, weights_only=True)
    _edit(ckpt, field, value)
    dst.parent.mkdir(parents=True, exist_ok=True)
    torch.save(ckpt, dst)
    return dst


@pytest.mark.parametrize("damage", ["garbage", "truncated", "pickle"])
def test_an_unreadable_init_checkpoint_is_one_line(
    damage: str, good_checkpoint: Path, images: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "init.pt"
    if damage == "garbage":
        bad.write_bytes(b"garbage")
    elif damage == "truncated":
        bad.write_bytes(good_checkpoint.read_bytes()[:200])
    else:  # a pickle that would run code if loaded unsafely
        torch.save({"format": ckpts.FORMAT, "evil": Path("/tmp")}, bad)
    root = tmp_path / "ckpt"
    rc, out = cli(capsys, args(images, root, "--init", str(bad)))
    assert_one_line_error(rc, out, str(bad), "cannot read the checkpoint")
    assert "weights_only" not in out and not pt_files(root)


RESUME_CASES = [
    ("step", DELETE, "field 'step' is missing"),
    ("step", "one", "field 'step' is str, expected an integer"),
    ("scale", "4", "field 'scale' is str, expected an integer"),
    ("label", 5, "field 'label' is int, expected a string"),
    ("preset", "fast", "field 'preset' is 'fast'"),
    ("generator", [1, 2], "field 'generator' is list"),
    ("generator:conv1.weight", "w", "field 'generator' holds str at 'conv1.weight'"),
    ("generator:conv1.weight", torch.zeros(1), "field 'generator' does not fit this run"),
    ("recipe.train", DELETE, "field 'recipe.train' is missing"),
    ("optimizers", DELETE, "field 'optimizers' is missing"),
    ("optimizers.g", None, "field 'optimizers.g' is missing or not a dict"),
    ("optimizers.g.param_groups", [], "field 'optimizers.g' does not fit this run"),
    ("schedulers", "x", "field 'schedulers' is str, expected a dict"),
    ("rng", [{"python": 1, "numpy": 2, "torch": 3}], "field 'rng' is not a saved random-generator state"),
    ("rng", [5], "field 'rng[0]' is not a saved random-generator state"),
]


@pytest.mark.parametrize(
    ("field", "value", "message"), RESUME_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(RESUME_CASES)]
)
def test_resuming_from_a_checkpoint_with_a_missing_or_mistyped_field_names_file_and_field(
    field: str,
    value: Any,
    message: str,
    good_checkpoint: Path,
    images: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = tmp_path / "ckpt"
    bad = crafted(good_checkpoint, root / "srcnn" / RUN / good_checkpoint.name, field, value)
    before = bad.read_bytes()
    rc, out = cli(capsys, args(images, root, "--iterations", "2", "--resume"))
    assert_one_line_error(rc, out, str(bad), message)
    assert bad.read_bytes() == before and pt_files(root) == [bad]


READ_CASES = [
    ("label", DELETE, "field 'label' is missing"),
    ("arch", {"params": {}}, "field 'arch' needs a string 'name'"),
    ("recipe", {"name": "srcnn", "train": {}}, "field 'recipe' is not a valid recipe"),
    ("generator_ema", "ema", "field 'generator_ema' is str"),
    ("kind", "weird", "field 'kind' is 'weird'"),
]


@pytest.mark.parametrize(("field", "value", "message"), READ_CASES, ids=[c[0] for c in READ_CASES])
@pytest.mark.parametrize("reader", ["load_generator", "export_generator"])
def test_reading_a_checkpoint_with_a_missing_or_mistyped_field_names_file_and_field(
    reader: str, field: str, value: Any, message: str, good_checkpoint: Path, tmp_path: Path
) -> None:
    bad = crafted(good_checkpoint, tmp_path / "bad.pt", field, value)
    read: Callable[[], object] = {
        "load_generator": lambda: ckpts.load_generator(bad, 4),
        "export_generator": lambda: ckpts.export_generator(bad, tmp_path / "out.pt"),
    }[reader]
    with pytest.raises(SrbenchError) as e:
        read()
    assert str(bad) in str(e.value) and message in str(e.value) and "\n" not in str(e.value)
    assert not (tmp_path / "out.pt").exists()


# --------------------------------------------------------------------------- full disk


def _full_disk_after(calls: int, monkeypatch: pytest.MonkeyPatch, only: Path | None = None) -> list[Path]:
    """``torch.save`` writes half of the file, then fails with ENOSPC, from call ``calls + 1`` on
    (or only for files renamed to ``only``); returns the temporary files it was given."""
    real = torch.save
    seen: list[Path] = []

    def save(obj: Any, f: Any, *a: Any, **k: Any) -> None:
        name = Path(os.readlink(f"/proc/self/fd/{f.fileno()}"))  # the open temporary file
        seen.append(name)
        target_hit = only is not None and name.name.startswith(f".{only.name}.")
        if (only is None and len(seen) > calls) or target_hit:
            f.write(b"PK\x03\x04 partial")
            raise OSError(errno.ENOSPC, "No space left on device")
        real(obj, f, *a, **k)

    monkeypatch.setattr(torch, "save", save)  # checkpoints imports torch where it writes
    return seen


def test_a_full_disk_while_saving_keeps_the_previous_checkpoint_intact(
    good_checkpoint: Path,
    images: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = tmp_path / "ckpt"
    run_dir = root / "srcnn" / RUN
    run_dir.mkdir(parents=True)
    previous = run_dir / good_checkpoint.name
    shutil.copy2(good_checkpoint, previous)
    before = previous.read_bytes()
    _full_disk_after(0, monkeypatch)
    rc, out = cli(capsys, args(images, root, "--iterations", "3", "--save-every", "1", "--resume"))
    line = assert_one_line_error(rc, out, str(run_dir / "step_0000002.pt"), "the disk is full")
    assert f"the last good checkpoint {previous} is intact" in line
    assert previous.read_bytes() == before  # byte for byte
    assert pt_files(root) == [previous] and not hidden_files(run_dir)  # no partial or temporary file


def test_a_full_disk_while_exporting_keeps_the_previous_export_intact(
    images: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    export = tmp_path / "exports" / "model.pt"
    export.parent.mkdir()
    export.write_bytes(b"previous export")
    _full_disk_after(0, monkeypatch, only=export)
    rc, out = cli(capsys, args(images, tmp_path / "ckpt", "--export", str(export)))
    assert_one_line_error(rc, out, str(export), "the disk is full")
    assert export.read_bytes() == b"previous export" and not hidden_files(export.parent)
    assert len(pt_files(tmp_path / "ckpt")) == 1  # the training checkpoint itself was written


# --------------------------------------------------------------------------- labels


@pytest.mark.parametrize(
    "label", ["../../../../tmp/victim", "/tmp/victim", ".hidden", "a\x00b", "esrgan[x]/../y", 5, ""]
)
def test_a_checkpoint_is_not_saved_with_a_label_that_could_become_a_path(
    label: object, good_checkpoint: Path, tmp_path: Path
) -> None:
    ckpt = torch.load(good_checkpoint, weights_only=True)
    ckpt["label"] = label
    dst = tmp_path / "out.pt"
    with pytest.raises(SrbenchError, match="label"):
        ckpts.save_checkpoint(ckpt, dst)
    assert not dst.exists() and not hidden_files(tmp_path)


def test_labels_the_tool_makes_are_accepted() -> None:
    for label in (
        "srcnn",
        "esrgan-dp[dp.mu=1]",
        "srcnn (smoke)",
        "rrdb[arch.num_feat=4,train.milestones=2+4]",
    ):
        assert ckpts.check_label(label, "test") == label


# --------------------------------------------------------------------------- permissions


@pytest.mark.parametrize(
    ("umask", "file_mode", "dir_mode"), [(0o022, 0o644, 0o755), (0o027, 0o640, 0o750)], ids=["022", "027"]
)
def test_checkpoints_exports_and_logs_honour_the_umask(
    umask: int,
    file_mode: int,
    dir_mode: int,
    images: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root, export = tmp_path / "ckpt", tmp_path / "out" / "model.pt"
    old = os.umask(umask)
    try:
        rc, out = cli(capsys, args(images, root, "--val", str(images), "--export", str(export)))
        assert rc == 0, out
        # a resumed run rewrites (truncates) its logs
        rc, out = cli(capsys, args(images, root, "--val", str(images), "--iterations", "2", "--resume"))
        assert rc == 0, out
    finally:
        os.umask(old)
    run_dir = root / "srcnn" / RUN
    files = [export, *run_dir.iterdir()]
    assert {p.name for p in run_dir.iterdir()} >= {"log.jsonl", "train.csv", "val.csv", "step_0000002.pt"}
    for p in files:
        assert p.stat().st_mode & 0o777 == (dir_mode if p.is_dir() else file_mode), p
    for d in (root, root / "srcnn", run_dir, export.parent):
        assert d.stat().st_mode & 0o777 == dir_mode, d


def test_a_full_disk_while_logging_names_the_log_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from srbench_eval.training import logs

    log = logs.TrainLog(tmp_path / "run", tensorboard=False)
    log.write("train", 1, {"loss": 0.5})
    before = log.jsonl.read_bytes()

    def full(path: Any, mode: str = "r", *a: Any, **k: Any) -> Any:
        if "a" in mode:
            raise OSError(errno.ENOSPC, "No space left on device")
        return open(path, mode, *a, **k)

    monkeypatch.setattr(logs, "open", full, raising=False)
    with pytest.raises(SrbenchError) as e:
        log.write("train", 2, {"loss": 0.4})
    assert str(e.value) == f"{log.jsonl}: cannot write the training log: the disk is full"
    assert log.jsonl.read_bytes() == before


def test_the_temporary_files_of_a_killed_run_are_removed_when_it_resumes(
    good_checkpoint: Path, images: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = tmp_path / "ckpt" / "srcnn" / RUN
    run_dir.mkdir(parents=True)
    shutil.copy2(good_checkpoint, run_dir / good_checkpoint.name)
    leftovers = [run_dir / ".step_0000002.pt.k1ll3d.tmp", run_dir / ".log.jsonl.k1ll3d.tmp"]
    for p in leftovers:
        p.write_bytes(b"PK\x03\x04 cut short")
    (run_dir / ".keep").write_text("not ours")
    rc, out = cli(capsys, args(images, tmp_path / "ckpt", "--iterations", "2", "--resume"))
    assert rc == 0, out
    assert not any(p.exists() for p in leftovers) and (run_dir / ".keep").read_text() == "not ours"
    assert [p.name for p in pt_files(run_dir)] == ["step_0000001.pt", "step_0000002.pt"]
