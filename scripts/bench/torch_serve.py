"""CLS inference speed of the reference's PyTorch model in eager mode, f32 or int8.

The reference's `TransformerPredictor` (imported from the checkout at $SEED_REPO) in
the shape of xp's experiments/four_losses.toml: 59 tokens, dim 128, 2 layers of 2 heads,
feed-forward 512, names of 13 ids. PRECISION=int8 applies PyTorch's dynamic
quantization to its Linear layers (`torch.ao.quantization.quantize_dynamic`, qint8
weights per output channel, activations quantized per batch; attention's own projections stay f32, as
PyTorch leaves them): the counterpart of `xp export --quantize int8`. THREADS (default 2). Prints JSON: names/s in batches of 256 and the median
single-name latency in ms.
"""

import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.environ["SEED_REPO"])
from model import TransformerPredictor  # noqa: E402

ROUNDS = 40


def model(precision):
    m = TransformerPredictor(
        59, 128, 0.0, 13, ["CLS", "MLM", "LA", "NSP"], 1.0, False, "sinusoidal", "relu",
        2, 512, 0.2, False, 2, 0.2, "start", True, False, n_classes=18,
    ).eval()
    if precision == "int8":
        # The fused encoder-layer path reads `linear.weight` as a tensor, which a
        # dynamically quantized Linear does not have: the int8 model runs layer by layer.
        torch.backends.mha.set_fastpath_enabled(False)
        per_channel = torch.ao.quantization.per_channel_dynamic_qconfig
        m = torch.ao.quantization.quantize_dynamic(m, {torch.nn.Linear: per_channel})
    return m


def names(n, generator):
    tokens = torch.randint(4, 59, (n, 13), generator=generator)
    tokens[:, 0] = 1
    tokens[:, 9:] = 0
    return tokens, tokens == 0


def main():
    precision = os.environ.get("PRECISION", "f32")
    torch.set_num_threads(int(os.environ.get("THREADS", "2")))
    m = model(precision)

    def classify(tokens, pad):
        hidden = m.encode(tokens, src_key_padding_mask=pad)
        return torch.softmax(m.CLS_predictor(hidden[:, 0, :]), -1)

    generator = torch.Generator().manual_seed(0)
    with torch.inference_mode():
        batch = names(256, generator)
        for _ in range(5):
            classify(*batch)
        start = time.perf_counter()
        for _ in range(ROUNDS):
            classify(*batch)
        per_second = ROUNDS * 256 / (time.perf_counter() - start)
        one = names(1, generator)
        latencies = []
        for _ in range(300):
            start = time.perf_counter()
            classify(*one)
            latencies.append(1000 * (time.perf_counter() - start))
    print(json.dumps({
        "precision": precision,
        "names_per_s_b256": round(per_second),
        "single_ms_median": round(statistics.median(latencies), 3),
    }))


if __name__ == "__main__":
    main()
