"""What bf16 could bring to training on this CPU: the matrix products of a training step
timed in f32 and in bf16 through PyTorch's oneDNN kernels (which use AVX512_BF16 where
the CPU has it), interleaved rounds, medians.

The shapes are those of the encoder of docs/performance.md (dim 128, feed-forward 512,
queries, keys and values in one product) for T token rows: each linear map's forward
product, and its two backward products (the input's gradient, the weight's gradient).

    python scripts/bench/bf16_gemm.py [ROUNDS]       # THREADS=2, TOKENS="416 1024 4096 8192"

Prints one line per token count: f32 and bf16 GFLOP/s summed over the step's products,
their ratio, and the f32 rate of one large square product (what these cores reach).
"""

import os
import statistics
import sys
import time

import torch

DIM, FFN = 128, 512
# (rows of the input, input width, output width) of each linear map of a layer.
LINEARS = [(DIM, 3 * DIM), (DIM, DIM), (DIM, FFN), (FFN, DIM)]


def products(tokens):
    """The (m, k, n) of each product of one layer's forward and backward pass."""
    shapes = []
    for k, n in LINEARS:
        shapes.append((tokens, k, n))  # y = x w
        shapes.append((tokens, n, k))  # dx = dy w^T
        shapes.append((k, tokens, n))  # dw = x^T dy
    return shapes


def rate(shapes, dtype, repeats):
    """GFLOP/s over `shapes`, each product run `repeats` times."""
    pairs = [
        (torch.randn(m, k).to(dtype), torch.randn(k, n).to(dtype)) for m, k, n in shapes
    ]
    for _ in range(3):  # oneDNN's first calls pick and build kernels
        for a, b in pairs:
            a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        for a, b in pairs:
            a @ b
    seconds = time.perf_counter() - start
    flops = sum(2 * m * k * n for m, k, n in shapes) * repeats
    return flops / seconds / 1e9


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    torch.set_num_threads(int(os.environ.get("THREADS", "2")))
    tokens = [int(t) for t in os.environ.get("TOKENS", "416 1024 4096 8192").split()]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"cpu capability {torch.backends.cpu.get_cpu_capability()}")
    square = statistics.median(
        rate([(2048, 2048, 2048)], torch.float32, 3) for _ in range(rounds)
    )
    print(f"f32 square 2048 product: {square:.1f} GFLOP/s")
    for t in tokens:
        shapes = products(t)
        repeats = max(1, 40_000_000_000 // (sum(2 * m * k * n for m, k, n in shapes) * 10))
        f32, bf16 = [], []
        for _ in range(rounds):
            f32.append(rate(shapes, torch.float32, repeats))
            bf16.append(rate(shapes, torch.bfloat16, repeats))
        a, b = statistics.median(f32), statistics.median(bf16)
        print(f"tokens {t}: f32 {a:.1f} GFLOP/s, bf16 {b:.1f} GFLOP/s, bf16/f32 x{b / a:.2f} "
              f"(rounds f32 {', '.join(f'{x:.0f}' for x in f32)}; "
              f"bf16 {', '.join(f'{x:.0f}' for x in bf16)})")


if __name__ == "__main__":
    main()
