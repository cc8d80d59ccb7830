"""Test accuracy on the names also in training and on the others, per run.

    xp data experiments/ngram_baseline.toml --split-csv split.csv   # the runs' split
    python3 scripts/seen_unseen.py split.csv RUN...                  # run folders of that split

For each run: accuracy on all test texts, on the texts that also occur in training
("seen"; with how often its prediction is the label that text has most often in
training, and how often that label is right), and on the rest ("unseen"). See
docs/results.md, "The yardstick".
"""

import collections
import csv
import sys
from pathlib import Path


def training_labels(split_csv):
    """Each training text's labels and how often it carries each."""
    labels = collections.defaultdict(collections.Counter)
    with open(split_csv, newline="") as f:
        for row in csv.DictReader(f):
            if row["split"] == "train":
                labels[row["text"]][row["label"]] += 1
    return labels


def accuracy(rows):
    return sum(r["true"] == r["predicted"] for r in rows) / max(1, len(rows))


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    train = training_labels(sys.argv[1])
    print("run | test | seen: n, accuracy, predicts training's label, training's label right | unseen: n, accuracy")
    for run in sys.argv[2:]:
        with open(Path(run) / "test_predictions_CLS.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        seen = [r for r in rows if r["text"] in train]
        unseen = [r for r in rows if r["text"] not in train]
        usual = {r["text"]: train[r["text"]].most_common(1)[0][0] for r in seen}
        repeats = sum(usual[r["text"]] == r["predicted"] for r in seen) / max(1, len(seen))
        right = sum(usual[r["text"]] == r["true"] for r in seen) / max(1, len(seen))
        print(f"{run} | {accuracy(rows):.4f} | {len(seen)}, {accuracy(seen):.4f}, {repeats:.4f}, "
              f"{right:.4f} | {len(unseen)}, {accuracy(unseen):.4f}")


if __name__ == "__main__":
    main()
