"""Runs: :func:`run` trains one, :class:`Run` reads a run folder and goes on with it."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from . import _native
from ._progress import Progress
from ._settings import overrides

PathLike = str | os.PathLike

# Columns that hold a user's texts and labels: read as written, never as numbers or
# NaN (a surname "Nan" stays "Nan").
_TEXT_COLUMNS = ("text", "id", "true", "predicted", "label", "split", "objective")


def run(
    experiment: PathLike,
    set: Mapping[str, Any] | None = None,
    out: PathLike | None = None,
    progress: bool = True,
    pause_at: int | None = None,
) -> Run:
    """Trains the experiment (a TOML file), as ``xp run EXPERIMENT`` does.

    Args:
        experiment: the experiment file, e.g. ``"experiments/four_losses.toml"``.
        set: overrides of its fields, as ``--set``: ``{"train.steps": 200}``.
        out: the run folder (default: ``runs/NAME``, or ``runs/NAME-2``.. if taken).
        progress: show a progress bar (tqdm, where installed) and the evaluations.
        pause_at: pause at this step with a resume point (``Run.resume()`` goes on).

    Returns:
        The :class:`Run`: finished, or paused when ``pause_at`` was reached.

    Raises:
        XpError: the experiment, its data or the run folder is unusable; the
            message names the field (and its line) or the file, and the fix.
        KeyboardInterrupt: Ctrl-C (or the notebook's stop button) stopped the run at
            the next step, with a resume point: ``xp.Run(path).resume()`` continues
            with exactly the numbers of a run never stopped.
    """
    shown = Progress(Path(experiment).stem, progress)
    ended = _native.start(
        str(experiment),
        overrides(set),
        None if out is None else str(out),
        shown,
        pause_at,
    )
    return Run._ended(ended)


class Run:
    """A run folder (or an ensemble's): what it holds, read through xp's run owner.

    ``xp.Run("runs/four_losses")`` opens one; :func:`run` returns one.
    """

    def __init__(self, path: PathLike):
        self.path = Path(path)
        #: How the last start or resume ended: "finished" or "paused" (None when
        #: opened from its folder).
        self.outcome: str | None = None

    @classmethod
    def _ended(cls, ended_json: str) -> Run:
        ended = json.loads(ended_json)
        run = cls(ended["dir"])
        run.outcome = ended["outcome"]
        if ended["message"]:
            print(ended["message"])
        return run

    def __repr__(self) -> str:
        return f"xp.Run({str(self.path)!r})"

    def __fspath__(self) -> str:
        return str(self.path)

    @property
    def point(self) -> str:
        """The name ``xp compare`` gives it: the folder above ``seed-N``, else its own."""
        name = self.path.name
        if name.startswith("seed-") and self.path.parent.name:
            return self.path.parent.name
        return name

    def summary(self) -> dict[str, Any]:
        """``summary.json``: seed, steps, best step, speed, and each split's loss and
        accuracy per objective. Raises :class:`XpError` for a run not finished."""
        return json.loads(_native.summary(str(self.path)))

    def metrics(self) -> pd.DataFrame:
        """Every evaluation, long form, as ``metrics.csv``: step, split, objective,
        loss, accuracy, lr."""
        return _read_csv(_native.run_file(str(self.path), "metrics"))

    def predictions(self, split: str = "test", objective: str | None = None) -> pd.DataFrame:
        """A class objective's predictions on ``split`` (``valid`` or ``test``), a row
        per text as in ``SPLIT_predictions_OBJECTIVE.csv``: row, text, true,
        predicted, and ``p_CLASS`` per class. ``objective`` defaults to the first
        class objective."""
        return _read_csv(_native.run_file(str(self.path), "predictions", split, objective))

    def test_predictions(self, objective: str | None = None) -> pd.DataFrame:
        """:meth:`predictions` on the test split."""
        return self.predictions("test", objective)

    def data(self) -> dict[str, Any]:
        """What the run saw of its data (``data.json``, the report of ``xp data``)."""
        return json.loads(Path(_native.run_file(str(self.path), "data")).read_text("utf-8"))

    def resume(
        self,
        set: Mapping[str, Any] | None = None,
        progress: bool = True,
        pause_at: int | None = None,
    ) -> Run:
        """Continues a stopped or paused run from its resume point, as
        ``xp run --resume``: the numbers are those of a run never stopped.
        ``set={"train.steps": N}`` extends a finished run; nothing else may change."""
        shown = Progress(self.point, progress)
        ended = _native.resume(str(self.path), overrides(set), shown, pause_at)
        resumed = Run._ended(ended)
        self.outcome = resumed.outcome
        return self

    def export(
        self,
        onnx: PathLike | None = None,
        quantize: str | None = None,
        check: bool = False,
        attention: bool = False,
        strict: bool = False,
    ) -> Path:
        """Writes the model as ONNX, as ``xp export --onnx``; returns the file.

        Args:
            onnx: the file (default: ``exported/NAME.onnx``).
            quantize: ``"int8"`` for integer weight products (transformer runs).
            check: compare ONNX Runtime with candle on the test split; raise
                :class:`XpError` when they differ (the file stays written).
            attention: also export the attention weights.
            strict: write nothing when an objective has no ONNX export.
        """
        written = json.loads(
            _native.export(
                str(self.path),
                None if onnx is None else str(onnx),
                quantize,
                check,
                attention,
                strict,
            )
        )
        if written["skipped"]:
            import warnings

            warnings.warn(f"left out (no ONNX export): {', '.join(written['skipped'])}", stacklevel=2)
        return Path(written["path"])


def _read_csv(path: str) -> pd.DataFrame:
    """A run's CSV file with its text columns as written."""
    header = pd.read_csv(path, nrows=0).columns
    text = {c: str for c in header if c in _TEXT_COLUMNS}
    missing = {c: ["", "NaN", "nan"] for c in header if c not in text}
    return pd.read_csv(path, dtype=text, keep_default_na=False, na_values=missing)
