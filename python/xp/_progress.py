"""What a notebook shows while a run trains: a tqdm bar where tqdm is installed (its
notebook widget in Jupyter), plain lines otherwise."""

from __future__ import annotations

import sys
import warnings


class Progress:
    """Told by the trainer: ``start``, ``step``, ``eval``, ``note``, ``finish``."""

    def __init__(self, name: str, show: bool = True):
        self.name = name
        self.show = show
        self.bar = None
        self.total = 0

    def start(self, steps: int) -> None:
        self.total = steps
        if not self.show:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            print(f"{self.name}: {steps} steps", file=sys.stderr)
            return
        self.bar = tqdm(total=steps, desc=self.name, unit="step")

    def step(self, step: int, losses: dict[str, float]) -> None:
        if self.bar is not None:
            self.bar.set_postfix({k: f"{v:.3f}" for k, v in losses.items()}, refresh=False)
            self._at(step)

    def eval(self, step: int, total: float, valid: dict[str, tuple[float, float]], best: bool) -> None:
        if self.bar is not None:
            self._at(step)
        parts = "  ".join(f"{n} {loss:.3f}/{acc:.3f}" for n, (loss, acc) in valid.items())
        self._line(f"step {step:>6}  valid total {total:.4f}{' *' if best else '  '}  ({parts} loss/acc)")

    def note(self, message: str) -> None:
        if message.startswith("warning: "):
            warnings.warn(message[len("warning: "):], stacklevel=2)
        else:
            self._line(message)

    def finish(self, step: int) -> None:
        if self.bar is not None:
            self._at(step)
            self.bar.close()
            self.bar = None

    def _at(self, step: int) -> None:
        self.bar.update(step - self.bar.n)

    def _line(self, text: str) -> None:
        if not self.show:
            return
        if self.bar is not None:
            self.bar.write(text)
        else:
            print(text, file=sys.stderr)


def lines(show: bool = True):
    """A callable that prints a study's lines (a sweep's runs, a search's results)."""

    def say(line: str) -> None:
        if show:
            print(line, file=sys.stderr)

    return say
