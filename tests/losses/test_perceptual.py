"""Perceptual losses on stand-in VGG19 / ResNet-50 weights loaded through torchvision's real path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch
import torchvision

from srbench_eval.errors import SrbenchError
from srbench_eval.losses import features
from srbench_eval.losses.features import VGG19_LAYERS, ResNetFeatures, VGGFeatures, parse_beta
from srbench_eval.losses.perceptual import (
    DualPerceptualLoss,
    GramTextureLoss,
    ResNetPerceptualLoss,
    VGGPerceptualLoss,
    gram_matrix,
)
from srbench_eval.models.recipes.zoo import SRGAN_FEATURE_SCALE

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


@pytest.fixture
def nets(stand_in_weights: Callable[..., Path]) -> Path:
    return stand_in_weights("vgg19", "resnet50")


@pytest.fixture
def pair() -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    return torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)


def _reference_vgg() -> torch.nn.Module:
    """torchvision's ``vgg19(weights=IMAGENET1K_V1).features``, as loaded (once) by the loss module."""
    return features._vgg19_trunk("test")


def _reference_resnet() -> torchvision.models.ResNet:
    return features._resnet50_trunk("test")


def test_vgg_layer_names_follow_torchvision_indices() -> None:
    assert VGG19_LAYERS.index("conv1_1") == 0 and VGG19_LAYERS.index("relu2_2") == 8
    assert VGG19_LAYERS.index("conv5_4") == 34 and VGG19_LAYERS.index("relu5_4") == 35
    assert len(VGG19_LAYERS) == 37


def test_vgg_loss_before_and_after_activation(nets: Path, pair: tuple[torch.Tensor, torch.Tensor]) -> None:
    sr, hr = pair
    ref = _reference_vgg()
    extractor = VGGFeatures(["conv5_4", "relu5_4"])
    with torch.no_grad():
        f_sr = ref[:35]((sr - MEAN) / STD)
        f_hr = ref[:35]((hr - MEAN) / STD)
    esrgan = VGGPerceptualLoss("conv5_4", "l1", extractor=extractor)
    assert torch.allclose(esrgan(sr, hr), (f_sr - f_hr).abs().mean(), rtol=1e-4)
    assert (f_sr < 0).any(), "conv5_4 is taken before the ReLU"
    srgan = VGGPerceptualLoss("relu5_4", "l2", SRGAN_FEATURE_SCALE, extractor=extractor)
    s = 1 / 12.75
    expected = ((f_sr.relu() * s - f_hr.relu() * s) ** 2).mean()
    assert torch.allclose(srgan(sr, hr), expected, rtol=1e-4)


def test_resnet_beta_is_the_output_of_a_bottleneck(
    nets: Path, pair: tuple[torch.Tensor, torch.Tensor]
) -> None:
    sr, _ = pair
    ref = _reference_resnet()
    x = (sr - MEAN) / STD
    with torch.no_grad():
        stem = ref.maxpool(ref.relu(ref.bn1(ref.conv1(x))))
        l1 = ref.layer1(stem)
        l3 = ref.layer3(ref.layer2(l1))
        l2_2 = ref.layer2[:2](l1)
        f36 = ResNetFeatures("3.6")(sr)
        f13 = ResNetFeatures((1, 3))(sr)
        f22 = ResNetFeatures("2.2")(sr)
    assert torch.allclose(f36, l3, atol=1e-5) and f36.shape[1] == 1024
    assert torch.allclose(f13, l1, atol=1e-5) and f13.shape[1] == 256
    assert torch.allclose(f22, l2_2, atol=1e-5)
    assert parse_beta(4.3) == (4, 3) and parse_beta("1,3") == (1, 3)
    with pytest.raises(ValueError, match="beta_3,7"):
        parse_beta("3.7")


def test_feature_networks_are_frozen_and_stay_in_eval_mode(nets: Path) -> None:
    loss = ResNetPerceptualLoss("4.3")
    loss.train()
    assert not loss.resnet.training and not any(m.training for m in loss.resnet.modules())
    assert not any(p.requires_grad for p in loss.parameters())


def test_dual_perceptual_value_and_gradient_scaling(
    nets: Path, pair: tuple[torch.Tensor, torch.Tensor]
) -> None:
    sr, hr = (t.double() for t in pair)  # float64: the gradient identity is checked tightly
    vgg = VGGFeatures(["conv5_4"], user="loss dp").double()
    resnet = ResNetFeatures("3.6", user="loss dp").double()
    mu = 0.5
    dp = DualPerceptualLoss(mu=mu, vgg=vgg, resnet=resnet)
    x = sr.clone().requires_grad_(True)
    total, parts = dp.detailed(x, hr)
    l_vgg, l_res, zeta = parts["l_vgg"], parts["l_res"], parts["zeta"]
    assert torch.allclose(zeta, (l_vgg + 1e-8) / (l_res + 1e-8))
    # The weighted ResNet term equals (1/mu) * l_VGG in value.
    assert torch.allclose(total, l_vgg + l_vgg / mu, rtol=1e-5)
    assert torch.allclose(parts["res_weight"], zeta / mu)
    (g_total,) = torch.autograd.grad(total, x)
    (g_vgg,) = torch.autograd.grad(VGGPerceptualLoss(extractor=vgg)(x, hr), x)
    (g_res,) = torch.autograd.grad(ResNetPerceptualLoss(extractor=resnet)(x, hr), x)
    # zeta is detached: the gradient reaching the ResNet term is zeta/mu times its own gradient.
    assert torch.allclose(g_total, g_vgg + (zeta / mu) * g_res, rtol=1e-9, atol=1e-14)
    assert not torch.allclose(g_total, g_vgg + g_res, rtol=1e-3)


def test_gram_texture_loss(nets: Path, pair: tuple[torch.Tensor, torch.Tensor]) -> None:
    sr, hr = pair
    f = torch.randn(2, 4, 3, 5)
    flat = f.reshape(2, 4, 15)
    assert torch.allclose(gram_matrix(f), torch.einsum("nci,ndi->ncd", flat, flat) / 60)
    loss = GramTextureLoss(("relu1_1", "relu2_1"))
    assert loss(hr, hr).item() == 0.0
    x = sr.clone().requires_grad_(True)
    value = loss(x, hr)
    value.backward()
    assert value.item() > 0 and x.grad is not None


def test_missing_weights_are_a_one_line_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(SrbenchError, match="vgg19-dcbb9e9d.pth"):
        VGGPerceptualLoss()
    with pytest.raises(SrbenchError, match="resnet50-0676ba61.pth"):
        ResNetPerceptualLoss()


def test_stand_in_weights_are_refused_outside_tests(nets: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SRBENCH_ALLOW_STAND_IN_WEIGHTS")
    with pytest.raises(SrbenchError, match="not the published"):
        VGGPerceptualLoss()
