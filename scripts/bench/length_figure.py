"""Draws docs/performance/length_cost.png: training time per token against length, from
the medians scripts/bench/length.sh prints ("length L medians: xp X tokens/s ...,
pytorch Y tokens/s ...").

    scripts/bench/length.sh 3 | tee length.log
    python scripts/bench/length_figure.py length.log docs/performance/length_cost.png
"""

import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

MEDIANS = re.compile(r"length (\d+) medians: xp (\d+) tokens/s .*, pytorch (\d+) tokens/s")


def main(log: str, out: str) -> None:
    rows = [tuple(map(int, m.groups())) for m in MEDIANS.finditer(open(log).read())]
    if not rows:
        sys.exit(f"{log} has no 'length L medians' lines of scripts/bench/length.sh")
    lengths = [r[0] for r in rows]
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for col, label, marker in [(1, "xp (candle, fused CPU kernels)", "o"), (2, "PyTorch nn.TransformerEncoder (SDPA)", "s")]:
        ax.plot(lengths, [1e6 / r[col] for r in rows], marker=marker, label=label)
    ax.set(xlabel="sequence length (tokens)", ylabel="training time per token (µs)", xticks=lengths)
    ax.set_title("Training cost against length (dim 128, 2 layers, batch 8, 2 cores)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.savefig(out, dpi=110, bbox_inches="tight")


if __name__ == "__main__":
    main(*sys.argv[1:3])
