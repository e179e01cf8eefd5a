"""Fuzzed settings: TOML config files for ``run``, ``train`` and ``eval``, and the small
language of plugin choices and loss expressions (``center[size=24]``,
``weighted_l1+0.01*prior``)."""

from __future__ import annotations

import datetime
import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from fuzz_support import fresh_folder, fuzz_settings, result_or_error, write
from hypothesis import given
from hypothesis import strategies as st

from inpaint_toolkit.core.config import load_config
from inpaint_toolkit.core.expressions import parse_choice, parse_choice_list, parse_loss_expression
from inpaint_toolkit.evaluation.evaluate import EvalSettings
from inpaint_toolkit.inpainting.config import RunConfig
from inpaint_toolkit.training.config import TrainConfig

MODELS = (RunConfig, TrainConfig, EvalSettings)
FIELDS = sorted({name for model in MODELS for name in model.model_fields})


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz_settings")


# ---------------------------------------------------------------------------------------
# TOML config files

scalars = (
    st.booleans()
    | st.integers()
    | st.integers(-10, 2**12)
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["center", "dcgan", "weighted_l1+prior", "runs/x", "cpu", "fp32"])
    | st.datetimes(min_value=datetime.datetime(1900, 1, 1)).map(lambda d: d.replace(tzinfo=None))
)
toml_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["name", "options", "z_dim"]) | st.text(max_size=5), inner
        )
    ),
    max_leaves=6,
)


def toml_text(value: Any) -> str:
    """A value as TOML: strings as JSON (TOML's basic strings share its escapes)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_text(item) for item in value) + "]"
    if isinstance(value, dict):
        pairs = (f"{json.dumps(k)} = {toml_text(v)}" for k, v in value.items())
        return "{" + ", ".join(pairs) + "}"
    return str(value)


@st.composite
def config_files(draw: st.DrawFn) -> bytes:
    if draw(st.integers(0, 9)) == 9:
        return draw(st.binary(max_size=120))
    settings = draw(
        st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=6), toml_values, max_size=6)
    )
    text = "\n".join(f"{json.dumps(key)} = {toml_text(value)}" for key, value in settings.items())
    damage = draw(st.sampled_from(["none", "none", "cut", "insert", "nest"]))
    if damage == "cut":
        text = text[: draw(st.integers(0, len(text)))]
    elif damage == "insert":
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.text(max_size=6)) + text[at:]
    elif damage == "nest":
        depth = draw(st.integers(1, 3000))
        text += f"\ndeep = {'[' * depth}{']' * depth}"
    return text.encode("utf-8", "surrogatepass")


def finite(value: Any) -> bool:
    pending = [value]  # not recursive: values nest as deep as the parsers allow
    while pending:
        item = pending.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return False
        if isinstance(item, dict):
            pending += item.values()
        elif isinstance(item, list | tuple):
            pending += item
    return True


@fuzz_settings(120)
@given(data=config_files(), model=st.sampled_from(MODELS))
def test_config_files(root: Path, data: bytes, model) -> None:
    folder = fresh_folder(root)
    path = write(folder, "settings.toml", data)
    config, message = result_or_error(load_config, model, path, {}, folder=folder)
    if config is None:
        return
    values = config.model_dump()
    assert finite(values), values
    assert 0 <= values["seed"] < 2**32
    assert "\0" not in repr(values)


def test_a_folder_or_binary_as_config_is_one_line(tmp_path: Path) -> None:
    from inpaint_toolkit.core.errors import InpaintError

    (tmp_path / "binary.toml").write_bytes(b"\xff\xfe seed = 1")
    for path, problem in ((tmp_path, "is a folder"), (tmp_path / "binary.toml", "UTF-8")):
        with pytest.raises(InpaintError, match=problem):
            load_config(RunConfig, path, {})


# ---------------------------------------------------------------------------------------
# Plugin choices and loss expressions

NAME = re.compile(r"^[A-Za-z0-9_\-]+$")
pieces = st.sampled_from(
    ["center", "prior", "weighted_l1", "half", "[", "]", "=", ",", "+", "*", "0.01", "..",
     "1e999", "NaN", "-Infinity", "size", "true", "[1,2]", '"', " ", "\n", "{", "}", "3"]
)  # fmt: skip
expressions = st.lists(pieces, max_size=12).map("".join) | st.text(max_size=30)


def check_options(options: dict) -> None:
    assert all(isinstance(key, str) and key for key in options)
    assert finite(options)


@fuzz_settings(200)
@given(text=expressions | st.integers(1, 3000).map(lambda n: f"center[a={'[' * n}{']' * n}]"))
def test_the_option_language(root: Path, text: str) -> None:
    folder = fresh_folder(root)
    choice, _ = result_or_error(parse_choice, text, folder=folder)
    if choice is not None:
        assert NAME.match(choice.name)
        check_options(choice.options)
    choices, _ = result_or_error(parse_choice_list, text, folder=folder)
    for choice in choices or ():
        assert NAME.match(choice.name)
        check_options(choice.options)
    terms, _ = result_or_error(parse_loss_expression, text, folder=folder)
    if terms is not None:
        assert terms and len({term.name for term in terms}) == len(terms)
        for term in terms:
            assert NAME.match(term.name)
            assert term.weight is None or (math.isfinite(term.weight) and term.weight >= 0)
            check_options(term.options)
