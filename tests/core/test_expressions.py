from __future__ import annotations

import pytest

from inpaint_toolkit.core.errors import InpaintError
from inpaint_toolkit.core.expressions import (
    parse_choice,
    parse_choice_list,
    parse_loss_expression,
)


def test_loss_expression_with_weights_and_options() -> None:
    terms = parse_loss_expression("weighted_l1[window=9]+0.003*prior")
    assert [(t.name, t.weight, t.options) for t in terms] == [
        ("weighted_l1", None, {"window": 9}),
        ("prior", 0.003, {}),
    ]
    assert parse_loss_expression("l2 + 1e-2*prior")[1].weight == 0.01


def test_choice_values_are_json_where_they_parse() -> None:
    choice = parse_choice("dcgan[widths=[256,128],spectral_norm=false,name=abc]")
    assert choice.options == {"widths": [256, 128], "spectral_norm": False, "name": "abc"}
    assert [c.name for c in parse_choice_list("center[size=24],half[side=top],pixels")] == [
        "center",
        "half",
        "pixels",
    ]


@pytest.mark.parametrize(
    "text", ["weighted_l1+", "weighted_l1++prior", "center[size=3", "a]", "l1+l1", "x[=3]"]
)
def test_malformed_expressions_are_one_line_errors(text: str) -> None:
    with pytest.raises(InpaintError) as caught:
        parse_loss_expression(text)
    assert "\n" not in str(caught.value)
