"""xp from Python: train character-level transformers, compare and tune them, serve them.

The same library as the ``xp`` command, called in-process: a run started here is the
run ``xp run`` makes, number for number, in the same run folder.

    >>> import xp
    >>> run = xp.run("experiments/four_losses.toml", set={"train.steps": 200})
    >>> run.metrics()                 # pandas, long form, as metrics.csv
    >>> xp.compare([run, other], against=run.point)

Errors from the library arrive as :class:`XpError`, with the command line's message.
"""

from ._native import XpError
from ._runtime import find_onnxruntime
from ._run import Run, run
from ._study import Sweep, Tune, compare, sweep, tune
from ._serve import Predictor
from ._data import data, objectives

find_onnxruntime()

__all__ = [
    "Predictor",
    "Run",
    "Sweep",
    "Tune",
    "XpError",
    "compare",
    "data",
    "objectives",
    "run",
    "sweep",
    "tune",
]
