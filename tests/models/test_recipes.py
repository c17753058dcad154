"""Recipes: registry, data round trip, overrides, and every recipe built small and run end to end."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from srbench_eval.errors import SrbenchError
from srbench_eval.models.architectures import get_arch
from srbench_eval.models.recipes import registry as recipe_registry
from srbench_eval.models.recipes.named import (
    Recipe,
    apply_overrides,
    build_discriminator,
    build_generator,
    build_losses,
    generator_parameters,
    get_recipe,
    recipe_names,
    validate,
)

REQUIRED = {
    "srcnn", "srcnn-fdl", "lapsrn", "lapsrn-fdl", "srresnet", "srgan", "srgan-dp",
    "rrdb", "esrgan", "esrgan-dp", "esrgan-vr", "rrdb-sog", "esrgan-sog",
}  # fmt: skip


def test_required_recipes_are_registered_and_valid() -> None:
    assert set(recipe_names()) >= REQUIRED
    for name in recipe_names():
        validate(get_recipe(name))


def test_stored_parameter_counts_are_the_networks() -> None:
    """``models list`` reads the counts from parameter_counts.json (no torch): it must hold exactly
    what the networks count on the meta device (after changing an architecture, run
    ``python -c "from srbench_eval.models.recipes.registry import write_parameter_counts as w; w()"``)."""
    stored = json.loads(recipe_registry.PARAMETER_COUNTS.read_text(encoding="utf-8"))
    assert stored == recipe_registry.parameter_counts()
    # An architecture not in the file (an override) is counted by building it.
    recipe = get_recipe("srcnn")
    small = replace(recipe, arch=replace(recipe.arch, params={"num_feat": 8, "num_feat2": 4}))
    assert generator_parameters(small, 4) == sum(p.numel() for p in build_generator(small, 4).parameters())


def test_unknown_recipe_is_a_user_error_with_a_suggestion() -> None:
    with pytest.raises(SrbenchError, match="did you mean 'esrgan-dp'"):
        get_recipe("esrgan_dp")


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_recipe_is_plain_data(name: str) -> None:
    recipe = get_recipe(name)
    d = json.loads(json.dumps(recipe.to_dict()))
    assert Recipe.from_dict(d) == recipe


@pytest.mark.parametrize("name", recipe_names())
def test_every_recipe_builds_and_trains_one_step_small(
    name: str, stand_in_weights: Callable[..., Path]
) -> None:
    stand_in_weights("vgg19", "resnet50")
    torch.manual_seed(0)
    recipe = get_recipe(name)
    small = get_arch(recipe.arch.name).small
    scale = recipe.default_scale
    net = build_generator(recipe, scale, **small)
    hr = torch.rand(2, 3, 32, 32)
    lr = hr[..., ::scale, ::scale].contiguous()
    out = net.forward_train(lr)
    assert out.sr.shape == hr.shape
    criterion = build_losses(recipe)
    disc = (
        build_discriminator(recipe, **{**get_arch(recipe.disc.name).small, "input_size": 32})
        if recipe.disc
        else None
    )
    assert criterion.needs_discriminator == (disc is not None)
    kwargs = {"d_real": disc(hr).detach(), "d_fake": disc(out.sr)} if disc is not None else {}
    report = criterion(out, hr, **kwargs)
    assert torch.isfinite(report.total)
    assert set(report.values) == {s.name for s in recipe.losses}
    report.total.backward()
    assert all(p.grad is not None for p in net.parameters())
    if disc is not None:
        d_loss = criterion.discriminator_loss(disc(hr), disc(out.sr.detach()))
        assert torch.isfinite(d_loss)


def test_dp_recipes_log_the_vgg_and_resnet_terms_and_zeta(stand_in_weights: Callable[..., Path]) -> None:
    stand_in_weights("vgg19", "resnet50")
    recipe = get_recipe("esrgan-dp")
    dp = recipe.loss("dp")
    assert dp.params == {"mu": 0.5, "beta": "3.6", "vgg_layer": "conv5_4"}
    criterion = build_losses(recipe)
    hr = torch.rand(1, 3, 32, 32)
    report = criterion(hr.flip(-1), hr, d_real=torch.zeros(1, 1), d_fake=torch.zeros(1, 1))
    scalars = report.scalars()
    assert {"dp.l_vgg", "dp.l_res", "dp.zeta", "dp.res_weight"} <= set(scalars)
    assert scalars["dp"] == pytest.approx(scalars["dp.l_vgg"] * 3, rel=1e-4)  # l_VGG + l_VGG / 0.5


def test_paper_hyperparameters() -> None:
    esrgan = get_recipe("esrgan")
    assert esrgan.init == "rrdb" and esrgan.disc is not None and esrgan.disc.name == "vgg128_d"
    assert [(s.kind, s.weight) for s in esrgan.losses] == [("l1", 1e-2), ("vgg", 1.0), ("ragan", 5e-3)]
    assert esrgan.loss("vgg").params["layer"] == "conv5_4"
    t = esrgan.train
    assert (t.lr, t.betas, t.milestones, t.gamma) == (
        1e-4,
        (0.9, 0.99),
        (50_000, 100_000, 200_000, 300_000),
        0.5,
    )
    assert (t.iterations, t.batch_size, t.hr_patch) == (400_000, 16, 128)
    assert get_recipe("rrdb").train.lr == 2e-4
    srgan = get_recipe("srgan")
    assert srgan.init == "srresnet" and srgan.loss("gan").weight == 1e-3
    assert srgan.loss("vgg").params["feature_scale"] == pytest.approx(1 / 12.75)
    assert srgan.loss("vgg").params["layer"] == "relu5_4"
    assert [s.kind for s in get_recipe("srgan-dp").losses] == ["dp", "gan"]
    assert [s.kind for s in get_recipe("esrgan-vr").losses] == ["l1", "vgg", "resnet", "ragan"]
    assert get_recipe("lapsrn").loss("pixel").levels == "all"
    assert "sog" in {s.kind for s in get_recipe("esrgan-sog").losses}
    assert generator_parameters(esrgan) == 16_697_987


def test_overrides_are_typed_recorded_and_labelled() -> None:
    base = get_recipe("esrgan-dp")
    recipe, label = apply_overrides(base, ["loss.dp.mu=1", "loss.dp.beta=1.3"])
    assert label == recipe.label == "esrgan-dp[dp.mu=1,dp.beta=1.3]"
    assert recipe.name == "esrgan-dp" and recipe.overrides == ("loss.dp.mu=1", "loss.dp.beta=1.3")
    assert recipe.loss("dp").params["mu"] == 1.0 and recipe.loss("dp").params["beta"] == "1.3"
    assert base.loss("dp").params["mu"] == 0.5, "the registered recipe is untouched"
    assert recipe.to_dict()["overrides"] == ["loss.dp.mu=1", "loss.dp.beta=1.3"]

    r, _ = apply_overrides(get_recipe("srcnn"), ["loss.sog.weight=0.1", "arch.num_feat=32", "scales=2,4"])
    assert r.loss("sog").weight == 0.1 and r.arch.params == {"num_feat": 32} and r.scales == (2, 4)
    assert r.label == "srcnn[sog.weight=0.1,arch.num_feat=32,scales=2+4]"
    r, _ = apply_overrides(get_recipe("lapsrn-fdl"), ["arch.fdl.tau=0.8", "train.lr=2e-4", "init=lapsrn"])
    assert r.arch.params["fdl"]["tau"] == 0.8 and r.train.lr == 2e-4 and r.init == "lapsrn"
    r, _ = apply_overrides(get_recipe("esrgan"), ["loss.vgg.weight=0"])
    assert "vgg" not in build_losses(r).terms


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("loss.dp.muu=1", "did you mean 'mu'"),
        ("loss.dp.beta=5.1", "beta_5,1"),
        ("loss.dp.vgg_layer=conv6_1", "conv6_1"),
        ("loss.nope.mu=1", "unknown loss term"),
        ("arch.num_feat=3.5", "integer"),
        ("arch.num_blocks=4", "did you mean 'num_block'"),
        ("disc.num_feat=four", "four"),
        ("train.nope=1", "unknown setting"),
        ("init=nothing", "unknown init recipe"),
        ("scales=3", "x3"),
        ("mu", "path=value"),
    ],
)
def test_bad_overrides_are_one_line_errors(override: str, message: str) -> None:
    with pytest.raises(SrbenchError, match=message) as info:
        apply_overrides(get_recipe("esrgan-dp"), [override])
    assert "\n" not in str(info.value)
