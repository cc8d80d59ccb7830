"""Helpers of the package's tests: tiny experiments over the test corpus, and the
package's own ``xp`` command (the CLI the results are held against)."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def corpus_dir() -> Path:
    """``$XP_TEST_CORPUS``, else the project's copy of the built-in corpus (``framework/corpus/names``)."""
    corpus = Path(os.environ.get("XP_TEST_CORPUS", ROOT / "framework" / "corpus" / "names"))
    if not corpus.is_dir():
        pytest.fail(f"the test corpus is missing at {corpus}: set XP_TEST_CORPUS")
    return corpus


def tiny(dir: Path, name: str = "tiny", objectives: str = "[objectives.CLS]\n[objectives.MLM]\n", steps: int = 40) -> Path:
    """A small, fast experiment file in ``dir`` (the Rust tests' tiny experiment)."""
    path = dir / f"{name}.toml"
    path.write_text(
        f"""name = "{name}"
seed = 7
[data]
dir = "{corpus_dir()}"
normalize = "ascii"
alphabet = "all"
min_len = 4
max_len = 11
[model]
dim = 16
heads = 2
layers = 1
ffn_dim = 32
dropout = 0.1
head_dropout = 0.1
[train]
steps = {steps}
batch_size = 16
eval_batch_size = 512
lr = 3e-3
warmup = 5
eval_every = 10
{objectives}"""
    )
    return path


def xp_command(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The package's ``xp`` command (installed beside this Python) with ``args``."""
    exe = Path(sys.executable).with_name("xp")
    assert exe.is_file(), f"the package's xp command is missing at {exe}"
    return subprocess.run([str(exe), *args], cwd=cwd, capture_output=True, text=True)


def same_bytes(a: Path, b: Path, files=("metrics.csv", "model.safetensors", "test_predictions_CLS.csv")):
    """Asserts that two runs wrote the same bytes in ``files``."""
    for file in files:
        assert (a / file).read_bytes() == (b / file).read_bytes(), f"{file} differs between {a} and {b}"


@pytest.fixture
def ctrl_c():
    """Ctrl-C's usual handler for the test (KeyboardInterrupt): Python leaves SIGINT
    ignored when it starts with it ignored, as a background job of a script does."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)
