"""An experiment's data as xp reads it, and the objectives this build knows."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pandas as pd

from . import _native
from ._run import PathLike
from ._settings import overrides


def data(experiment: PathLike, set: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """What a run of ``experiment`` will see of its data, as ``xp data``: a row per
    file and class with what was kept and what was dropped and why. The whole report
    (alphabet, lengths, split, repeats, warnings: ``xp data --json``) is in
    ``.attrs["report"]``."""
    report = json.loads(_native.data_report(str(experiment), overrides(set)))
    rows = [{"file": c["file"], "class": c["class"], **_flat(c["tally"])} for c in report["classes"]]
    table = pd.DataFrame(rows)
    table.attrs["report"] = report
    return table


def _flat(tally: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A tally's counts as columns; nested counts (drops by reason) as ``dropped_WHY``."""
    out: dict[str, Any] = {}
    for key, value in tally.items():
        if isinstance(value, Mapping):
            out.update(_flat(value, f"{prefix}{key}_"))
        else:
            out[f"{prefix}{key}"] = value
    return out


def objectives() -> pd.DataFrame:
    """The registered objectives (plugins linked into this build included), a row per
    field: objective, description, field, default, doc; as ``xp objectives``."""
    rows = []
    for o in json.loads(_native.objectives()):
        for f in o["fields"]:
            rows.append(
                {
                    "objective": o["name"],
                    "description": o["description"],
                    "field": f["name"],
                    "default": f["default"],
                    "doc": f["doc"],
                }
            )
    return pd.DataFrame(rows)
