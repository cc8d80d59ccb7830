"""Studies: sweeps and searches run from Python, and runs compared."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from . import _native
from ._progress import lines
from ._run import PathLike, Run
from ._settings import overrides


def _xp_program() -> str:
    """The package's ``xp`` command, which trains each run of a sweep or a search in
    its own process (as the shell's ``xp sweep`` runs ``xp``)."""
    beside = Path(sys.executable).with_name("xp")
    if beside.is_file():
        return str(beside)
    found = shutil.which("xp")
    if found is None:
        raise _native.XpError(
            "cannot find the xp command that trains a study's runs: install the package "
            "with pip (it installs `xp` beside python), or put xp on the PATH"
        )
    return found


def sweep(
    path: PathLike,
    set: Mapping[str, Any] | None = None,
    out: PathLike | None = None,
    jobs: int | None = None,
    only: Iterable[str] = (),
    progress: bool = True,
) -> Sweep:
    """Runs every run of a sweep (a base experiment and axes of values) on this
    machine, ``jobs`` at a time, as ``xp sweep``; started again, it skips the finished
    runs and resumes the rest. Ctrl-C stops the runs with resume points and raises
    ``KeyboardInterrupt``. (Slurm: ``xp sweep --backend slurm`` from the shell.)

    Args:
        path: the sweep file, e.g. ``"experiments/reference_study.toml"``.
        set: overrides of every run's fields.
        out: the sweep's folder (default: ``runs/NAME``).
        jobs: runs at once (default: cores / ``train.threads``).
        only: run only these points.
    """
    dir = _native.sweep(
        str(path),
        overrides(set),
        _xp_program(),
        None if out is None else str(out),
        jobs,
        list(only),
        lines(progress),
    )
    return Sweep(dir)


class Sweep:
    """A sweep's folder: ``POINT/seed-N`` runs."""

    def __init__(self, path: PathLike):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"xp.Sweep({str(self.path)!r})"

    def __fspath__(self) -> str:
        return str(self.path)

    def runs(self) -> pd.DataFrame:
        """Where each run stands (``xp sweep --status``): point, seed, state, detail,
        dir."""
        rows = json.loads(_native.sweep_status(str(self.path)))
        return pd.DataFrame(rows, columns=["point", "seed", "state", "detail", "dir"])

    def run(self, point: str, seed: int) -> Run:
        """One run of the sweep."""
        return Run(self.path / point / f"seed-{seed}")

    def compare(self, against: str | None = None, long: bool = False) -> pd.DataFrame:
        """:func:`compare` over the sweep's finished runs."""
        return compare([self.path], against=against, long=long)


def tune(
    path: PathLike,
    set: Mapping[str, Any] | None = None,
    out: PathLike | None = None,
    jobs: int | None = None,
    budget: int | None = None,
    progress: bool = True,
) -> Tune:
    """Searches a tune file's space (ASHA rungs, random then TPE samples), then
    retrains the best with fresh seeds, as ``xp tune``; started again, it continues.
    Ctrl-C stops the trials with resume points and raises ``KeyboardInterrupt``.

    Args:
        path: the tune file, e.g. ``"experiments/tune_cls.toml"``.
        set: overrides of every trial's fields.
        out: the tune's folder (default: ``runs/NAME``).
        jobs: trials at once (default: cores / ``train.threads``).
        budget: training steps in all (default: the file's).
    """
    dir = _native.tune_search(
        str(path),
        overrides(set),
        _xp_program(),
        None if out is None else str(out),
        jobs,
        budget,
        lines(progress),
    )
    return Tune(dir)


class Tune:
    """A search's folder: its trials and the final comparison."""

    def __init__(self, path: PathLike):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"xp.Tune({str(self.path)!r})"

    def __fspath__(self) -> str:
        return str(self.path)

    def trials(self) -> pd.DataFrame:
        """A row per trial, as Optuna's ``trials_dataframe()``: trial, rung, state,
        score (the monitored validation figure), monitor, and a column per sampled
        field."""
        rows = json.loads(_native.tune_trials(str(self.path)))
        first = ["trial", "rung", "state", "score", "monitor"]
        fields = sorted({k for row in rows for k in row} - set(first))
        return pd.DataFrame(rows, columns=first + fields)

    def final(self) -> Path:
        """The folder of the best trials retrained with fresh seeds (``compare`` it)."""
        return self.path / "final"


def compare(
    runs: Iterable[PathLike | Run | Sweep],
    against: str | None = None,
    long: bool = False,
) -> pd.DataFrame:
    """Finished runs compared as ``xp compare``: seeds of a point pooled.

    Returns a row per point, split, objective and metric with ``seeds``, ``mean``,
    ``sd`` and the 95% confidence interval over seeds (``ci_low``, ``ci_high``,
    Student's t). With ``against=POINT``, ``.attrs["paired"]`` holds each other point's
    CLS test accuracy against that one on the seeds both ran: difference, bootstrap
    interval (``diff_low``, ``diff_high``), McNemar's counts, chi-square and p-value.
    With ``long=True``, the long-form rows of ``xp compare --json`` instead: point,
    seed, split, objective, metric, value.
    """
    paths = [os.fspath(r) for r in runs]
    compared = json.loads(_native.compare(paths, against))
    if long:
        table = pd.DataFrame(compared["rows"], columns=_LONG)
    else:
        table = pd.DataFrame(compared["summary"], columns=_SUMMARY)
    if against is not None:
        table.attrs["paired"] = pd.DataFrame(compared["paired"], columns=_PAIRED)
    return table


# The columns of xp compare's long-form rows, of their summary, and of a paired test.
_LONG = ["point", "seed", "split", "objective", "metric", "value"]
_SUMMARY = ["point", "split", "objective", "metric", "seeds", "mean", "sd", "ci_low", "ci_high"]
_PAIRED = [
    "point", "against", "seeds", "difference", "diff_low", "diff_high",
    "only_this", "only_reference", "chi_square", "p_value",
]
