"""Reads a sweep's TensorBoard files back with TensorBoard's own reader and checks them
against the files xp wrote beside them. Usage: tensorboard_check.py SWEEP_DIR [EXTENDED_RUN]

Checks, for every run under SWEEP_DIR: every metrics.csv figure as a scalar at its step
(OBJECTIVE/SPLIT/loss and /accuracy, total/SPLIT/loss, lr), the running training losses
every 50 steps, each tag's steps rising (nothing repeated, nothing going back, the
EXTENDED_RUN resumed past its end included, with one end), the figures as images with their PNG
bytes, the best checkpoint's figures of summary.json under best/, and the HParams data:
the study in SWEEP_DIR and each run's hyperparameters and status."""
import csv
import json
import os
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2

RUN_FILE = "events.out.tfevents.xp-run"
ALL = {"scalars": 0, "images": 0, "tensors": 0}


def load(path):
    acc = EventAccumulator(path, size_guidance=ALL)
    acc.Reload()
    return acc


def close(a, b):
    return abs(a - b) <= 1e-6 + 1e-5 * abs(b)


def hparams_data(acc, tag):
    content = acc.PluginTagToContent("hparams")[tag]
    return plugin_data_pb2.HParamsPluginData.FromString(content)


def check_run(run, study_names, extended):
    acc = load(run)
    tags = set(acc.Tags()["scalars"])
    with open(os.path.join(run, "metrics.csv")) as f:
        rows = list(csv.DictReader(f))
    assert rows, run
    scalars = 0
    for row in rows:
        step = int(row["step"])
        expected = [(f"{row['objective']}/{row['split']}/loss", float(row["loss"]))]
        if row["accuracy"]:
            expected.append((f"{row['objective']}/{row['split']}/accuracy", float(row["accuracy"])))
        expected.append(("lr", float(row["lr"])))
        for tag, value in expected:
            assert tag in tags, f"{run}: no scalar {tag}"
            at = [e.value for e in acc.Scalars(tag) if e.step == step]
            assert len(at) == 1, f"{run}: {tag} at step {step}: {at}"
            assert close(at[0], value), f"{run}: {tag} at {step}: {at[0]} != {value}"
            scalars += 1
    for tag in tags:
        steps = [e.step for e in acc.Scalars(tag)]
        assert steps == sorted(set(steps)), f"{run}: {tag} steps repeat or go back: {steps}"
    summary = json.load(open(os.path.join(run, "summary.json")))
    last = summary["steps"]
    running = [e.step for e in acc.Scalars("CLS/train/running_loss")]
    assert running == list(range(50, last + 1, 50)), f"{run}: running losses at {running}"
    for split, metrics in summary["splits"].items():
        for objective, values in metrics["objectives"].items():
            for metric in ("loss", "accuracy"):
                events = acc.Scalars(f"best/{objective}/{split}/{metric}")
                assert [e.step for e in events] == [last], f"{run}: best at {[e.step for e in events]}"
                assert close(events[-1].value, values[metric]), f"{run}: best {objective} {split} {metric}"
    images = acc.Tags()["images"]
    for name in ("metrics", "total_loss", "confusion_CLS"):
        assert name in images, f"{run}: no image {name}: {images}"
        assert len(acc.Images(name)) == 1, f"{run}: {len(acc.Images(name))} images {name}"
        image = acc.Images(name)[0]
        png = open(os.path.join(run, name + ".png"), "rb").read()
        assert image.step == last and image.encoded_image_string == png, f"{run}: image {name}"
        assert image.width > 100 and image.height > 100, (name, image.width, image.height)
    if extended:
        # Resumed past its first end: that end's figures gave way to the new end's.
        assert last == 150 and [e.step for e in acc.Scalars("best/CLS/test/accuracy")] == [150], run
    start = hparams_data(acc, "_hparams_/session_start_info").session_start_info
    assert set(start.hparams) == set(study_names), f"{run}: hparams {set(start.hparams)}"
    seed = int(os.path.basename(run).removeprefix("seed-"))
    assert start.hparams["seed"].number_value == seed, run
    end = hparams_data(acc, "_hparams_/session_end_info").session_end_info
    assert end.status == 1, f"{run}: status {end.status}"
    return scalars


def main():
    sweep = sys.argv[1]
    extended = os.path.abspath(sys.argv[2]) if len(sys.argv) > 2 else None
    study = hparams_data(load(sweep), "_hparams_/experiment").experiment
    names = [h.name for h in study.hparam_infos]
    metrics = [m.name.tag for m in study.metric_infos]
    assert "seed" in names and "best/CLS/test/accuracy" in metrics, (names, metrics)
    runs = sorted(
        root for root, _, files in os.walk(sweep) if RUN_FILE in files
    )
    assert runs, f"no run in {sweep}"
    scalars = 0
    for run in runs:
        scalars += check_run(run, names, os.path.abspath(run) == extended)
    print(f"tensorboard: {len(runs)} runs, {scalars} scalars at their steps, images and "
          f"hparams ({', '.join(names)}; {len(metrics)} metrics) read back")


if __name__ == "__main__":
    main()
