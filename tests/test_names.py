"""The one rule for names that become paths (srbench_eval.names)."""

from __future__ import annotations

import pytest

from srbench_eval.errors import SrbenchError
from srbench_eval.names import is_plain_label, name_problem, safe_name


@pytest.mark.parametrize(
    "name", ["baby", "esrgan-dp[dp.mu=1]", "srcnn (smoke)", "img_001", "x2", "Données", "a+b@c", "0801"]
)
def test_names_the_tool_makes_are_safe(name: str) -> None:
    assert safe_name("model label", name) == name


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "empty"),
        ("..", "starts with '.'"),
        (".hidden", "starts with '.'"),
        ("a..b", "contains '..'"),
        ("../../tmp/victim", "contains '/'"),
        ("/tmp/victim", "contains '/'"),
        ("a\\b", "contains '\\\\'"),
        ("a\0b", "contains '\\x00'"),
        ("a\nb", "contains '\\n'"),
        ("a:b", "contains ':'"),
        (" a", "space"),
        ("x" * 129, "longer than 128"),
        (5, "not a string"),
    ],
)
def test_unsafe_names_are_refused_in_one_line(name: object, problem: str) -> None:
    assert problem in (name_problem(name) or "")
    with pytest.raises(SrbenchError) as info:
        safe_name("model label", name, "inside ckpt.pt")
    message = str(info.value)
    assert message.startswith("model label") and "inside ckpt.pt" in message and "\n" not in message


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("esrgan", True),
        ("srcnn-955.x4+v2", True),
        ("my_model", True),
        ("_x", False),
        ("a b", False),
        ("runs/a", False),
        ("", False),
        ("é", False),
    ],
)
def test_plain_labels_are_a_subset_of_safe_names(text: str, plain: bool) -> None:
    assert is_plain_label(text) is plain
    if plain:
        assert name_problem(text) is None
