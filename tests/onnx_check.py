"""Checks xp's exported models with clients we did not write.

For every `NAME.onnx` in the folder given as the first argument (written by
`XP_ONNX_FIXTURES=DIR cargo test`): the `onnx` package's checker with
`full_check=True`, then the `onnxruntime` package on the inputs in `NAME.json`,
compared with candle's outputs saved there (max absolute difference under 1e-4; for
per-position outputs, at token positions: what a pad position holds is unspecified).
Where `NAME.texts.json` holds texts with `xp predict`'s answers, this script reads the
texts by the model's metadata alone (`xp.normalization`, `xp.vocab`, `xp.specials`), as
any client would, and must give the same classes and probabilities.
"""

import json
import pathlib
import sys
import unicodedata

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
    texts = model_path.with_suffix(".texts.json")
    if texts.exists():
        check_texts(model_path.name, session, meta, json.loads(texts.read_text()))
        return
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


def normalize(text: str, rule: dict) -> str:
    """`text` under the model's `xp.normalization`."""
    form = rule["form"]
    if form in ("nfc", "nfkc"):
        text = unicodedata.normalize(form.upper(), text)
    elif form == "ascii":
        kept = " .,;'"
        decomposed = unicodedata.normalize("NFD", text)
        text = "".join(
            c for c in decomposed
            if not unicodedata.combining(c) and ((c.isascii() and c.isalpha()) or c in kept)
        )
    if rule.get("lowercase"):
        text = text.lower()
    return text


def check_texts(name: str, session, meta: dict, answers: list) -> None:
    """Each text read by the metadata alone gives `xp predict`'s top class and probability."""
    rule = json.loads(meta["xp.normalization"])
    assert rule["tokens"] == "chars", f"{name}: this client cuts characters only"
    vocab = json.loads(meta["xp.vocab"])
    specials = json.loads(meta["xp.specials"])
    labels = json.loads(meta["xp.labels"])
    ids = {token: i for i, token in enumerate(vocab) if token not in specials}
    unknown = specials.get("[UNK]")
    for answer in answers:
        tokens = list(normalize(answer["name"], rule))
        row = [specials["[CLS]"]] + [ids.get(t, unknown) for t in tokens]
        assert None not in row, f"{name}: {answer['name']!r} has a token the model lacks"
        unknowns = sum(1 for t in tokens if t not in ids)
        assert unknowns == answer.get("unknown_tokens", 0), (answer, unknowns)
        (logits,) = session.run(["cls"], {"tokens": np.array([row], dtype=np.int64)})
        probs = np.exp(logits[0] - logits[0].max())
        probs /= probs.sum()
        top = int(probs.argmax())
        assert labels[top] == answer["top"][0]["label"], (answer, labels[top])
        diff = abs(float(probs[top]) - answer["top"][0]["probability"])
        assert diff < TOLERANCE, f"{name} {answer['name']!r}: {diff}"
        print(f"{name} {answer['name']!r}: {labels[top]!r} {probs[top]:.4f}, as xp predict")


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
