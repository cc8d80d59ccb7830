"""xp.sweep, xp.tune and xp.compare: studies from Python, read as DataFrames, with the
figures and paired tests of ``xp compare``."""

import json

import pytest

import xp
from conftest import same_bytes, tiny, xp_command


def sweep_file(dir, steps=30):
    tiny(dir, "base")
    path = dir / "sweep.toml"
    path.write_text(
        f"""name = "tiny"
base = "base.toml"
[axes]
"model.norm_first" = [false, true]
seed = [1, 2]
[set]
"train.steps" = {steps}
"""
    )
    return path


def test_a_sweep_runs_every_point_and_seed_and_reads_as_dataframes(tmp_path):
    sweep = xp.sweep(sweep_file(tmp_path), out=tmp_path / "sweep", jobs=2, progress=False)
    runs = sweep.runs()
    assert list(runs.columns) == ["point", "seed", "state", "detail", "dir"]
    assert len(runs) == 4 and set(runs["state"]) == {"done"}
    assert sorted(runs["seed"].unique()) == [1, 2]

    # Started again, it has nothing left to do.
    assert xp.sweep(sweep_file(tmp_path), out=tmp_path / "sweep", progress=False).runs().equals(runs)

    # Each run is the command line's run of its experiment file.
    point = runs["point"].iloc[0]
    cli = xp_command("run", str(tmp_path / "sweep" / point / "seed-1.toml"), "--out", str(tmp_path / "cli"))
    assert cli.returncode == 0, cli.stderr
    same_bytes(sweep.run(point, 1).path, tmp_path / "cli")

    table = sweep.compare()
    test_cls = table[(table.split == "test") & (table.objective == "CLS") & (table.metric == "accuracy")]
    assert len(test_cls) == 2 and set(test_cls["seeds"]) == {2}
    assert (test_cls["ci_low"] <= test_cls["mean"]).all() and (test_cls["mean"] <= test_cls["ci_high"]).all()


def test_ctrl_c_stops_a_sweep_resumably_and_starting_it_again_finishes_it(tmp_path, monkeypatch, ctrl_c):
    import signal

    def interrupt_at_first_start(show):
        def say(line):
            if line.startswith("started"):
                signal.raise_signal(signal.SIGINT)  # in this thread, at once

        return say

    monkeypatch.setattr(xp._study, "lines", interrupt_at_first_start)
    with pytest.raises(KeyboardInterrupt, match="sweep stopped with 0 of 4 runs done"):
        xp.sweep(sweep_file(tmp_path, steps=200), out=tmp_path / "sweep", jobs=1)
    monkeypatch.undo()
    runs = xp.Sweep(tmp_path / "sweep").runs()
    assert "done" not in set(runs["state"])
    again = xp.sweep(sweep_file(tmp_path, steps=200), out=tmp_path / "sweep", jobs=2, progress=False)
    assert set(again.runs()["state"]) == {"done"}


def test_compare_equals_xp_compare_json_and_adds_paired_tests(tmp_path):
    sweep = xp.sweep(sweep_file(tmp_path), out=tmp_path / "sweep", jobs=2, progress=False)
    long = xp.compare([sweep], long=True)
    cli = xp_command("compare", str(sweep.path), "--json")
    assert cli.returncode == 0, cli.stderr
    assert long.to_dict("records") == json.loads(cli.stdout)

    points = sorted(long["point"].unique())
    table = xp.compare([sweep.path], against=points[0])
    paired = table.attrs["paired"]
    assert list(paired["point"]) == [points[1]]
    row = paired.iloc[0]
    assert row["seeds"] == 2
    assert row["diff_low"] <= row["difference"] <= row["diff_high"]
    assert 0 <= row["p_value"] <= 1
    # The same figures as the command line's table.
    table_text = xp_command("compare", str(sweep.path), "--against", points[0]).stdout
    assert f"{row['difference']:+.4f}" in table_text and f"{row['p_value']:.4f}" in table_text

    runs = [xp.Run(p) for p in sorted((tmp_path / "sweep").glob("*/seed-1"))]
    assert set(xp.compare(runs)["point"]) == set(points)
    with pytest.raises(xp.XpError, match="no such point"):
        xp.compare([sweep], against="nope")


def test_a_search_trains_its_trials_and_reads_as_a_trials_dataframe(tmp_path):
    tiny(tmp_path, "base", steps=60)
    base = (tmp_path / "base.toml").read_text().replace("eval_every = 10", 'eval_every = 10\nmonitor = "CLS.loss"')
    (tmp_path / "base.toml").write_text(base)
    (tmp_path / "tune.toml").write_text(
        """base = "base.toml"
seed = 3
budget = 200
startup = 4
[rungs]
steps = [20, 60]
eta = 3
[space]
"train.lr" = { log_uniform = [1e-3, 2e-2] }
"model.dim" = { choice = [16, 24] }
[final]
top = 0
seeds = []
"""
    )
    search = xp.tune(tmp_path / "tune.toml", out=tmp_path / "tune", jobs=2, progress=False)
    trials = search.trials()
    assert {"trial", "rung", "state", "score", "monitor", "train.lr", "model.dim"} <= set(trials.columns)
    assert len(trials) >= 3
    scored = trials.dropna(subset=["score"])
    assert not scored.empty and (scored["score"] > 0).all()
    assert set(trials["model.dim"].dropna()) <= {16, 24}
    assert trials["train.lr"].between(1e-3, 2e-2).all()
    status = xp_command("tune", "--status", str(search.path)).stdout
    for trial in trials.itertuples():
        assert f"{trial.trial:>6}  {trial.state}" in status
