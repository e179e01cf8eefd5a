"""The small language of plugin choices on the command line.

A plugin with options::

    center                     the plugin 'center' with its default options
    center[size=24]            ... with option size = 24
    dcgan[widths=[256,128,64,32],spectral_norm=false]

A loss expression, the objective of the z-search, is a sum of weighted terms::

    weighted_l1+prior          each term with its default weight (prior: lambda = 0.003)
    weighted_l1+0.01*prior     an explicit weight
    weighted_l1[window=9]+prior

Option values are read as JSON where they parse (numbers, true/false, lists) and as plain
strings otherwise. Weights and numbers must be finite: ``NaN``, ``Infinity`` and ``1e999``
are errors, not values.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from inpaint_toolkit.core.errors import InpaintError

_CHOICE = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*(?:\[(.*)\])?\s*$", re.DOTALL)
_WEIGHT = re.compile(r"^\s*([0-9.]+(?:[eE][-+]?[0-9]+)?)\s*\*\s*(.+)$", re.DOTALL)


@dataclass(frozen=True)
class Choice:
    name: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LossTerm:
    name: str
    weight: float | None  # None: the loss's own default weight
    options: dict[str, Any] = field(default_factory=dict)


def parse_choice(text: str) -> Choice:
    """``name`` or ``name[key=value,...]``."""
    match = _CHOICE.match(text)
    if not match:
        raise InpaintError(f"cannot read {text!r}: expected name or name[key=value,...]")
    name, body = match.groups()
    options: dict[str, Any] = {}
    for item in _split_top_level(body or "", ","):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InpaintError(f"cannot read option {item!r} of {name!r}: expected key=value")
        options[key.strip()] = _value(value.strip(), f"option {key.strip()!r} of {name!r}")
    return Choice(name, options)


def parse_choice_list(text: str) -> list[Choice]:
    """``center,half[side=top],pixels``: commas inside brackets belong to the options."""
    return [parse_choice(part) for part in _split_top_level(text, ",")]


def parse_loss_expression(text: str) -> list[LossTerm]:
    """``[weight*]term[options] + ...`` -> terms, in order; each term at most once."""
    terms: list[LossTerm] = []
    for part in _split_top_level(text, "+"):
        weight: float | None = None
        match = _WEIGHT.match(part)
        if match:
            try:
                weight = float(match.group(1))
            except ValueError:
                raise InpaintError(
                    f"cannot read the weight {match.group(1)!r} in {text!r}"
                ) from None
            if not math.isfinite(weight):
                raise InpaintError(f"the weight {match.group(1)!r} in {text!r} is not finite")
            part = match.group(2)
        choice = parse_choice(part)
        if any(term.name == choice.name for term in terms):
            raise InpaintError(f"loss {choice.name!r} appears twice in {text!r}")
        terms.append(LossTerm(choice.name, weight, choice.options))
    if not terms:
        raise InpaintError("empty loss expression; e.g. weighted_l1+prior")
    return terms


def _split_top_level(text: str, separator: str) -> list[str]:
    """Split on ``separator`` outside brackets (so option lists keep their commas)."""
    parts, depth, current = [], 0, []
    for char in text:
        depth += char == "["
        depth -= char == "]"
        if depth < 0:
            raise InpaintError(f"unbalanced ']' in {text!r}")
        if char == separator and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if depth:
        raise InpaintError(f"unbalanced '[' in {text!r}")
    parts.append("".join(current))
    stripped = [p.strip() for p in parts]
    if text.strip() and any(not p for p in stripped):
        raise InpaintError(f"empty term in {text!r}")
    return [p for p in stripped if p]


def _value(text: str, what: str) -> Any:
    try:
        value = json.loads(text, parse_constant=_not_a_number)
        finite = _finite(value)
    except json.JSONDecodeError:
        return text
    except RecursionError:
        raise InpaintError(f"cannot read {what}: nested too deeply") from None
    except ValueError as exc:
        raise InpaintError(f"cannot read {what}: {exc}") from None
    if not finite:
        raise InpaintError(f"cannot read {what}: {text[:60]!r} holds a number that is not finite")
    return value


def _not_a_number(constant: str) -> Any:
    raise ValueError(f"{constant} is not a finite number")


def _finite(value: Any) -> bool:
    pending = [value]  # not recursive: JSON nests as deep as the parser allows
    while pending:
        item = pending.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return False
        if isinstance(item, list):
            pending += item
        elif isinstance(item, dict):
            pending += item.values()
    return True
