"""Overrides as the command line's ``--set KEY=VALUE``, from a Python mapping."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def overrides(set: Mapping[str, Any] | None) -> list[str]:
    """``{"train.steps": 200, "model.norm": "rms"}`` as ``KEY=VALUE`` TOML overrides.

    A value is written as TOML: numbers and booleans as themselves, strings quoted,
    lists as arrays (``{"objectives": ["CLS", "MLM"]}``).
    """
    return [f"{key}={_toml(value)}" for key, value in (set or {}).items()]


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {value!r} ({type(value).__name__}) as a TOML value")
