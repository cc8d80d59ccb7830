"""xp.run and xp.Run: a run from Python is the run of the command line, number for
number; its files read as DataFrames; Ctrl-C leaves a resumable run."""

import signal

import pandas as pd
import pytest

import xp
from conftest import same_bytes, tiny, xp_command


def test_a_python_run_equals_the_command_line_run_for_the_same_seed(tmp_path):
    experiment = tiny(tmp_path)
    run = xp.run(experiment, out=tmp_path / "python", progress=False)
    cli = xp_command("run", str(experiment), "--out", str(tmp_path / "cli"), "--plain")
    assert cli.returncode == 0, cli.stderr
    assert run.outcome == "finished"
    same_bytes(run.path, tmp_path / "cli")
    assert run.summary()["splits"] == xp.Run(tmp_path / "cli").summary()["splits"]


def test_set_overrides_fields_as_the_command_line_set_does(tmp_path):
    experiment = tiny(tmp_path)
    run = xp.run(experiment, set={"train.steps": 20, "model.norm_first": True}, out=tmp_path / "py", progress=False)
    cli = xp_command(
        "run", str(experiment), "--set", "train.steps=20", "--set", "model.norm_first=true",
        "--out", str(tmp_path / "cli"), "--plain",
    )
    assert cli.returncode == 0, cli.stderr
    assert run.summary()["steps"] == 20
    same_bytes(run.path, tmp_path / "cli")


def test_metrics_and_predictions_are_dataframes_with_the_files_columns(tmp_path):
    run = xp.run(tiny(tmp_path), out=tmp_path / "run", progress=False)
    metrics = run.metrics()
    header = (run.path / "metrics.csv").read_text().splitlines()[0].split(",")
    assert list(metrics.columns) == header
    assert set(metrics["split"]) == {"train", "valid", "test"}
    assert metrics["step"].max() == 40
    test = metrics[(metrics.split == "test") & (metrics.objective == "CLS")]
    assert test["accuracy"].iloc[-1] == pytest.approx(run.summary()["splits"]["test"]["objectives"]["CLS"]["accuracy"])

    predictions = run.test_predictions()
    assert list(predictions.columns[:4]) == ["row", "text", "true", "predicted"]
    probabilities = predictions.filter(like="p_")
    assert (probabilities.sum(axis=1) - 1).abs().max() < 1e-4
    # Texts stay as written: never parsed as numbers or NaN.
    assert predictions["text"].map(type).eq(str).all()
    accuracy = (predictions["true"] == predictions["predicted"]).mean()
    assert accuracy == pytest.approx(run.summary()["splits"]["test"]["objectives"]["CLS"]["accuracy"])


def test_a_paused_run_resumes_to_the_numbers_of_a_run_never_paused(tmp_path):
    experiment = tiny(tmp_path)
    whole = xp.run(experiment, out=tmp_path / "whole", progress=False)
    paused = xp.run(experiment, out=tmp_path / "paused", progress=False, pause_at=17)
    assert paused.outcome == "paused"
    with pytest.raises(xp.XpError, match="is it finished"):
        paused.summary()
    paused.resume(progress=False)
    assert paused.outcome == "finished"
    same_bytes(whole.path, paused.path)


def test_ctrl_c_stops_with_a_resume_point_and_resume_finishes_it(tmp_path, monkeypatch, ctrl_c):
    experiment = tiny(tmp_path, steps=60)
    whole = xp.run(experiment, out=tmp_path / "whole", progress=False)

    # Ctrl-C's SIGINT, here at the first evaluation (step 10).
    def interrupt(self, *args):
        signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(xp._progress.Progress, "eval", interrupt)
    with pytest.raises(KeyboardInterrupt, match=r"stopped at step 1\d; continue with"):
        xp.run(experiment, out=tmp_path / "stopped")
    monkeypatch.undo()
    stopped = xp.Run(tmp_path / "stopped")
    assert (stopped.path / "resume.safetensors").is_file()
    stopped.resume(progress=False)
    same_bytes(whole.path, stopped.path)


def test_an_unknown_field_is_an_xp_error_naming_its_line(tmp_path):
    experiment = tiny(tmp_path)
    text = experiment.read_text().replace("lr = 3e-3", "lr = 3e-3\nstepz = 5")
    experiment.write_text(text)
    line = text.splitlines().index("stepz = 5") + 1
    with pytest.raises(xp.XpError, match=rf"line {line}.*stepz|stepz.*line {line}") as error:
        xp.run(experiment, out=tmp_path / "run", progress=False)
    cli = xp_command("run", str(experiment), "--out", str(tmp_path / "cli"))
    assert cli.returncode == 1
    assert str(error.value) in cli.stderr
    assert not (tmp_path / "run").exists()


def test_a_folder_that_is_not_a_run_says_so(tmp_path):
    with pytest.raises(xp.XpError, match="not a run folder"):
        xp.Run(tmp_path).metrics()


def test_export_writes_onnx_that_the_predictor_serves_as_xp_predict_does(tmp_path):
    run = xp.run(tiny(tmp_path), out=tmp_path / "run", progress=False)
    onnx = run.export(onnx=tmp_path / "model.onnx", check=True)
    assert onnx == tmp_path / "model.onnx" and onnx.is_file()
    names = ["Nguyen", "Schmidt", "Rossi", "Nan", "Ab"]
    table = xp.Predictor(onnx).predict(names, top_k=2)
    assert list(table.columns[:4]) == ["text", "rank", "label", "probability"]
    cli = xp_command("predict", "--model", str(onnx), "--json", "-k", "2", *names)
    import json

    expected = [json.loads(line) for line in cli.stdout.splitlines()]
    for name, answer in zip(names, expected):
        rows = table[table.text == name]
        if "error" in answer:
            assert rows["error"].iloc[0] == answer["error"]
            continue
        assert list(rows["label"]) == [s["label"] for s in answer["top"]]
        assert list(rows["probability"]) == pytest.approx([s["probability"] for s in answer["top"]], abs=1e-6)
        assert bool(rows["outside_training_lengths"].iloc[0]) == answer.get("outside_training_lengths", False)


def test_an_int8_export_passes_its_check(tmp_path):
    run = xp.run(tiny(tmp_path), out=tmp_path / "run", progress=False)
    onnx = run.export(onnx=tmp_path / "int8.onnx", quantize="int8", check=True)
    assert not xp.Predictor(onnx).predict(["Schmidt"]).empty
    with pytest.raises(xp.XpError, match="int8"):
        run.export(onnx=tmp_path / "x.onnx", quantize="int4")
