"""Predictions from an exported model on ONNX Runtime, as ``xp predict``."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from . import _native
from ._run import PathLike, Run


class Predictor:
    """An exported ONNX model (``xp export --onnx``; or a run, exported on the way)
    loaded once on ONNX Runtime.

        >>> p = xp.Predictor("exported/four_losses.onnx")
        >>> p.predict(["Nguyen", "Schmidt"])
    """

    def __init__(self, model: PathLike | Run):
        if isinstance(model, Run):
            model = model.export()
        self.path = Path(model)
        self._model = _native.Model(str(self.path))

    def __repr__(self) -> str:
        return f"xp.Predictor({str(self.path)!r})"

    @property
    def objectives(self) -> list[str]:
        """The objectives the model serves."""
        return self._model.objectives()

    def predict(
        self,
        texts: Iterable[str],
        objective: str | None = None,
        top_k: int = 3,
        batch_size: int = 256,
    ) -> pd.DataFrame:
        """The answers ``xp predict`` gives, long form: for a class objective (the
        default: the first, e.g. CLS) a row per text and rank with ``text``, ``rank``,
        ``label``, ``probability``; for a token objective (``mlm``) a row per text,
        mask and rank with ``filled`` and ``mask`` besides. ``outside_training_lengths``
        and ``unknown_tokens`` note what the model never saw in training; a text that
        cannot be read has one row with its ``error``.
        """
        texts = list(texts)
        objective = objective or self._model.default_objective()
        kind = self._model.kind(objective)
        if kind == "classify":
            answers = json.loads(self._model.classify(objective, texts, top_k, batch_size))
        elif kind == "fill":
            answers = json.loads(self._model.fill(objective, texts, top_k))
        else:
            raise _native.XpError(f"{objective} is causal: it samples names; use Predictor.sample()")
        rows = []
        for text, answer in zip(texts, answers):
            notes = {
                "outside_training_lengths": answer.get("outside_training_lengths", False),
                "unknown_tokens": answer.get("unknown_tokens", 0),
            }
            if "error" in answer:
                rows.append({"text": text, "error": answer["error"]})
            elif kind == "classify":
                for rank, scored in enumerate(answer["top"], 1):
                    rows.append({"text": text, "rank": rank, **scored, **notes})
            else:
                for mask, top in enumerate(answer["masks"]):
                    for rank, scored in enumerate(top, 1):
                        rows.append(
                            {"text": text, "filled": answer["filled"], "mask": mask, "rank": rank, **scored, **notes}
                        )
        return pd.DataFrame(rows)

    def sample(
        self,
        objective: str = "LA",
        count: int = 10,
        temperature: float = 1.0,
        seed: int = 0,
        prefix: str | None = None,
        length: int | None = None,
    ) -> list[str]:
        """Names sampled from a causal objective, as ``xp predict --objective la``."""
        return self._model.sample(objective, count, temperature, seed, prefix, length)
