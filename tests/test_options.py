"""The one KEY=VALUE grammar behind --set, --metric-option, --weights and --protocol-set."""

from __future__ import annotations

import pytest

from srbench_eval.errors import SrbenchError
from srbench_eval.evaluation.plan import parse_metric_options
from srbench_eval.models.loading import parse_weights
from srbench_eval.models.recipes.named import apply_overrides, get_recipe
from srbench_eval.options import coerce, parse_assignment, split_list
from srbench_eval.protocol import resolve


def test_grammar() -> None:
    a = parse_assignment(" loss.dp.mu = 1 ")
    assert a is not None and a.path == ("loss", "dp", "mu") and a.raw == "1" and a.key == "loss.dp.mu"
    assert parse_assignment("a.b=x=y").raw == "x=y"  # split at the first '='
    assert parse_assignment("crop_border=0", parts=1).path == ("crop_border",)
    assert parse_assignment("psnr=1", parts=2) is None
    assert parse_assignment("loss..mu=1") is None and parse_assignment("=1") is None
    assert parse_assignment("novalue") is None
    assert parse_assignment("my.model=ckpt.pt", dotted=False).path == ("my.model",)


def test_coerce_types_like_the_value_replaced() -> None:
    assert coerce("1e3", 1) == 1000 and coerce("2", 0.5) == 2.0 and coerce("off", True) is False
    assert coerce("2,4", [1]) == [2, 4] and coerce("none", 3) is None and coerce("x", "") == "x"
    with pytest.raises(ValueError, match="integer"):
        coerce("1.5", 1)


def test_every_option_uses_it_with_its_own_message() -> None:
    assert apply_overrides(get_recipe("esrgan-dp"), [" loss.dp.mu = 2 "])[0].overrides == ("loss.dp.mu=2",)
    with pytest.raises(SrbenchError, match="override 'loss.dp' for recipe esrgan-dp: expected path=value"):
        apply_overrides(get_recipe("esrgan-dp"), ["loss.dp"])
    with pytest.raises(SrbenchError, match="use METRIC.OPTION=VALUE"):
        parse_metric_options(("psnr=2",), ("psnr",))
    assert parse_weights([" esrgan = a.pt "], ["esrgan"]) == {"esrgan": "a.pt"}
    with pytest.raises(SrbenchError, match="expected NAME=PATH"):
        parse_weights(["esrgan="], ["esrgan"])
    assert resolve("matlab", [" crop_border = 0 "]).overrides == ("crop_border=0",)
    with pytest.raises(SrbenchError, match="use FIELD=VALUE"):
        resolve("matlab", ["=0"])


def test_comma_lists_are_split_once() -> None:
    assert split_list(" a, b,,c ,") == ("a", "b", "c") and split_list("") == ()
    assert split_list("a,,b", keep_empty=True) == ("a", "", "b")
    assert coerce("2, 3,", [4]) == [2, 3]
