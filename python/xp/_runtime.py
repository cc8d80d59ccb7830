"""Where xp finds ONNX Runtime (exports' checks, predictions, serving): the library of
the ``onnxruntime`` package this Python has, a dependency of the package."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path


def find_onnxruntime() -> None:
    """Names the ``onnxruntime`` package's library in ``ORT_DYLIB_PATH`` (what xp
    reads first) unless it names one already; found without importing the package."""
    if "ORT_DYLIB_PATH" in os.environ:
        return
    spec = importlib.util.find_spec("onnxruntime")
    if spec is None or not spec.submodule_search_locations:
        return
    capi = Path(list(spec.submodule_search_locations)[0]) / "capi"
    libraries = sorted(capi.glob("libonnxruntime.*")) + sorted(capi.glob("onnxruntime.dll"))
    if libraries:
        os.environ["ORT_DYLIB_PATH"] = str(libraries[-1])
