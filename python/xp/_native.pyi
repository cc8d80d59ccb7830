"""Type stubs of ``xp._native``, the package's native module (PyO3). The public API is
the ``xp`` package; these functions hand it JSON and plain values."""

from typing import Any, Callable

class XpError(Exception):
    """An experiment, its data, a run folder or a model is unusable; the message says
    what to fix (a bad field names its line)."""

def main(argv: list[str]) -> int: ...
def start(
    experiment: str,
    overrides: list[str],
    out: str | None = None,
    progress: Any | None = None,
    pause_at: int | None = None,
) -> str: ...
def resume(dir: str, overrides: list[str], progress: Any | None = None, pause_at: int | None = None) -> str: ...
def summary(dir: str) -> str: ...
def run_file(dir: str, which: str, split: str = "test", objective: str | None = None) -> str: ...
def export(
    dir: str,
    output: str | None = None,
    quantize: str | None = None,
    check: bool = False,
    attention: bool = False,
    strict: bool = False,
) -> str: ...
def sweep(
    path: str,
    overrides: list[str],
    exe: str,
    out: str | None = None,
    jobs: int | None = None,
    only: list[str] = ...,
    progress: Callable[[str], None] | None = None,
) -> str: ...
def sweep_status(dir: str) -> str: ...
def tune_search(
    path: str,
    overrides: list[str],
    exe: str,
    out: str | None = None,
    jobs: int | None = None,
    budget: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> str: ...
def tune_trials(dir: str) -> str: ...
def compare(paths: list[str], against: str | None = None) -> str: ...
def data_report(experiment: str, overrides: list[str]) -> str: ...
def objectives() -> str: ...

class Model:
    def __init__(self, path: str) -> None: ...
    def objectives(self) -> list[str]: ...
    def default_objective(self) -> str: ...
    def kind(self, objective: str) -> str: ...
    def classify(self, objective: str, texts: list[str], k: int, batch_size: int) -> str: ...
    def fill(self, objective: str, texts: list[str], k: int) -> str: ...
    def sample(
        self,
        objective: str,
        count: int,
        temperature: float,
        seed: int,
        prefix: str | None = None,
        length: int | None = None,
    ) -> list[str]: ...
