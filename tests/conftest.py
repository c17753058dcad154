"""Shared test fixtures: the ../shared benchmark mirror and stand-in network weights.

Stand-in weights: this machine cannot download the published weights, so tests build the real
architectures with identically seeded random parameters, save them under the real file names in a
temporary ``TORCH_HOME``, and let the libraries load them through their normal code path.
"""

from __future__ import annotations

import os

# Idle OpenMP threads that spin (the default) make torch crawl when other processes share the cores.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared"
SHARED_BENCHMARKS = SHARED / "benchmarks"

requires_shared = pytest.mark.skipif(
    not SHARED_BENCHMARKS.is_dir(), reason=f"{SHARED_BENCHMARKS} is absent (benchmark HR mirror)"
)


def _torchvision_builder(name: str) -> Callable[[], dict[str, torch.Tensor]]:
    def build() -> dict[str, torch.Tensor]:
        import torchvision

        torch.manual_seed(0)
        return getattr(torchvision.models, name)(weights=None).state_dict()

    return build


def sqrtm_with_disp(sqrtm: Callable) -> Callable:
    """Wrap ``scipy.linalg.sqrtm`` so it takes the ``disp`` argument pytorch-fid 0.3.0 passes
    (SciPy 1.18 removed it; 1.16-1.17 warn), letting pytorch-fid's own FID run on any SciPy."""

    def compat(a, disp=True):
        try:
            return sqrtm(a, disp=disp)
        except TypeError:
            root = sqrtm(a)
            return root if disp else (root, 0.0)

    return compat


# weights key (srbench_eval.weights.WEIGHTS) -> function returning a seeded random state dict.
# Further builders (e.g. the FID Inception) are added by the tests that need them via
# STAND_IN_BUILDERS[key] = fn.
STAND_IN_BUILDERS: dict[str, Callable[[], dict[str, torch.Tensor]]] = {
    "alexnet": _torchvision_builder("alexnet"),
    "vgg16": _torchvision_builder("vgg16"),
    "vgg19": _torchvision_builder("vgg19"),
    "resnet50": _torchvision_builder("resnet50"),
}


def _fid_inception_builder() -> dict[str, torch.Tensor]:
    """pytorch-fid's FID Inception has torchvision's Inception-v3 parameters (1008 classes, no aux
    head; its FID blocks change only forward passes). Convolutions get seeded He-normal weights so
    that pool3 features stay of order 1 through the ~90 layers (torchvision's own init explodes)."""
    import torchvision

    torch.manual_seed(0)
    net = torchvision.models.inception_v3(
        weights=None, num_classes=1008, aux_logits=False, init_weights=False
    )
    for m in net.modules():
        if isinstance(m, torch.nn.Conv2d):
            fan_in = m.in_channels * m.kernel_size[0] * m.kernel_size[1] // m.groups
            torch.nn.init.normal_(m.weight, 0.0, (2.0 / fan_in) ** 0.5)
    return net.state_dict()


STAND_IN_BUILDERS["inception-fid"] = _fid_inception_builder


@pytest.fixture(scope="session")
def _stand_in_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("torch_home")


@pytest.fixture
def stand_in_weights(_stand_in_home: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    """Return ``make(*keys)``: writes stand-in weights for ``keys`` (once per session) into a
    temporary TORCH_HOME, points TORCH_HOME there and allows stand-ins; returns the checkpoint dir."""
    from srbench_eval import weights

    monkeypatch.setenv("TORCH_HOME", str(_stand_in_home))
    monkeypatch.setenv(weights.ALLOW_STAND_INS_ENV, "1")

    def make(*keys: str) -> Path:
        ckpt = weights.checkpoint_dir()
        ckpt.mkdir(parents=True, exist_ok=True)
        for key in keys:
            path = ckpt / weights.get(key).filename
            if not path.exists():
                tmp = path.with_suffix(".tmp")
                torch.save(STAND_IN_BUILDERS[key](), tmp)
                os.replace(tmp, path)
        return ckpt

    return make


@pytest.fixture(scope="session")
def _session_data_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("srbench_data")


@pytest.fixture(autouse=True)
def _isolated_data_cache(_session_data_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the user's dataset cache, or the network, from tests (fixtures may override)."""
    monkeypatch.setenv("SRBENCH_DATA", str(_session_data_cache))
    monkeypatch.setenv("SRBENCH_OFFLINE", "1")
    monkeypatch.setenv("SRBENCH_SR_CACHE", "0")  # no SR image served across tests (tests/test_sr_cache.py)
    monkeypatch.delenv("SRBENCH_MIRROR", raising=False)
