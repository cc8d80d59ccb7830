#!/usr/bin/env python3
"""scikit-learn's character n-gram logistic regression on xp's own split, beside xp's
n-gram baseline run of the same split.

    xp data EXPERIMENT --split-csv split.csv
    xp run EXPERIMENT --out RUN
    python3 scripts/sklearn_baseline.py split.csv --run RUN [--tolerance 0.01]

Fits TfidfVectorizer(analyzer="char", ngram_range=(MIN_N, MAX_N), lowercase=False) and
LogisticRegression(C, lbfgs, max_iter) on the split's training texts, the lengths, C
and iterations read from the run's experiment, twice: on the texts as they are (the
standard recipe) and on each text between a start and an end character, the markers
xp's baseline reads (the same features). Prints the three test accuracies and exits
non-zero when xp's differs from the same features' by more than the tolerance: the
two fit one convex problem, so a larger gap is a fault in xp's features or solver.
"""

import argparse
import csv
import json
import sys
import time
import tomllib
from pathlib import Path

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

# Characters no text holds, standing for xp's start ([CLS]) and end markers.
START, END = "\x02", "\x03"


def read_split(path):
    sets = {"train": ([], []), "valid": ([], []), "test": ([], [])}
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            texts, labels = sets[row["split"]]
            texts.append(row["text"])
            labels.append(row["label"])
    return sets


def run_settings(run):
    experiment = tomllib.loads((run / "experiment.toml").read_text(encoding="utf-8"))
    ngram = experiment.get("model", {}).get("ngram", {})
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    test = summary["splits"]["test"]["objectives"]
    accuracy = next(iter(test.values()))["accuracy"]
    lengths = (ngram.get("min_n", 1), ngram.get("max_n", 5))
    return lengths, ngram.get("c", 10.0), ngram.get("max_iterations", 300), accuracy


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("split", type=Path, help="the CSV `xp data --split-csv` wrote")
    parser.add_argument("--run", type=Path, required=True, help="xp's n-gram run folder")
    parser.add_argument("--tolerance", type=float, default=0.01)
    args = parser.parse_args()
    sets = read_split(args.split)
    (min_n, max_n), c, max_iter, xp_accuracy = run_settings(args.run)
    standard = fit(sets, (min_n, max_n), c, max_iter, lambda t: t)
    same = fit(sets, (min_n, max_n), c, max_iter, lambda t: START + t + END)
    for what, (accuracy, grams, seconds) in [
        ("the texts as they are", standard),
        ("start and end markers, as xp", same),
    ]:
        print(
            f"scikit-learn char {min_n}-{max_n}-gram TF-IDF + LogisticRegression(C={c}), "
            f"{what}: test accuracy {accuracy:.4f} ({len(sets['test'][1])} texts, "
            f"{grams} n-grams, fitted in {seconds:.1f} s)"
        )
    print(f"xp n-gram baseline ({args.run}): test accuracy {xp_accuracy:.4f}")
    print(f"xp - standard {xp_accuracy - standard[0]:+.4f}")
    difference = xp_accuracy - same[0]
    print(f"xp - same features {difference:+.4f} (tolerance {args.tolerance})")
    if abs(difference) > args.tolerance:
        sys.exit(
            f"xp's baseline is {difference:+.4f} from scikit-learn's on the same features, "
            f"beyond {args.tolerance}"
        )


def fit(sets, lengths, c, max_iter, mark):
    """Test accuracy, n-grams and seconds of the recipe on the texts as `mark` gives them."""
    start = time.perf_counter()
    features = TfidfVectorizer(analyzer="char", ngram_range=lengths, lowercase=False)
    x_train = features.fit_transform([mark(t) for t in sets["train"][0]])
    model = LogisticRegression(C=c, max_iter=max_iter)
    model.fit(x_train, sets["train"][1])
    seconds = time.perf_counter() - start
    test_texts, test_labels = sets["test"]
    accuracy = model.score(features.transform([mark(t) for t in test_texts]), test_labels)
    return accuracy, x_train.shape[1], seconds

if __name__ == "__main__":
    main()
