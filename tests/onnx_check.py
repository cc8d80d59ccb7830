"""Checks xp's exported models with clients we did not write.

For every `NAME.onnx` in the folder given as the first argument (written by
`XP_ONNX_FIXTURES=DIR cargo test --test onnx`): the `onnx` package's checker with
`full_check=True`, then the `onnxruntime` package on the inputs in `NAME.json`,
compared with candle's outputs saved there (max absolute difference under 1e-4; for
per-position outputs, at token positions: what a pad position holds is unspecified).
"""

import json
import pathlib
import sys

import numpy as np
import onnx
import onnxruntime as ort

TOLERANCE = 1e-4


def check(model_path: pathlib.Path) -> None:
    model = onnx.load(str(model_path))
    onnx.checker.check_model(model, full_check=True)
    meta = {p.key: p.value for p in model.metadata_props}
    assert "xp.vocab" in meta and "xp.objectives" in meta, "xp metadata missing"
    session = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    inputs = {i.name for i in session.get_inputs()}
    cases = json.loads(model_path.with_suffix(".json").read_text())
    assert cases, f"{model_path.name}: no cases"
    for case in cases:
        tokens = np.array(case["tokens"], dtype=np.int64)
        feed = {"tokens": tokens}
        if "segments" in inputs:
            segments = case["segments"] or np.zeros_like(tokens)
            feed["segments"] = np.array(segments, dtype=np.int64)
        (got,) = session.run([case["output"]], feed)
        expected = np.array(case["expected"], dtype=np.float32).reshape(case["shape"])
        assert got.shape == expected.shape, (got.shape, expected.shape)
        diff = np.abs(got - expected)
        if diff.ndim == 3:
            # Per-position outputs: token positions only (pads are unspecified).
            diff = diff[tokens != 0]
        diff = float(diff.max())
        assert diff < TOLERANCE, f"{model_path.name} {case['output']}: {diff}"
        print(f"{model_path.name} {case['output']} {tokens.shape}: max diff {diff:.2e}")


def main() -> None:
    folder = pathlib.Path(sys.argv[1])
    models = sorted(folder.glob("*.onnx"))
    if not models:
        sys.exit(f"no .onnx files in {folder}")
    for path in models:
        check(path)
    print(f"{len(models)} models pass onnx.checker (full_check) and match in onnxruntime")


if __name__ == "__main__":
    main()
