"""Training speed of PyTorch's own encoder on sequences of one length, the counterpart of
`xp bench train` in scripts/bench/length.sh.

`nn.TransformerEncoder` (batch_first=True, pre-norm, GELU, so `scaled_dot_product_attention`
inside) with learned positions, a classifier on the first position and a masked-token
head on every position (15% of the tokens, the CLS + MLM objectives of xp), Adam.
Env: LENGTH (tokens per sequence, the first a [CLS]), BATCH, STEPS, DIM, FFN, LAYERS,
HEADS, THREADS (default 2). Random tokens over 8 ids; dropout 0.1. Prints JSON: steps/s
and tokens/s (batch x length x steps/s).
"""

import json
import os
import time

import torch
from torch import nn


def env(name, default):
    return int(os.environ.get(name, default))


class Encoder(nn.Module):
    def __init__(self, vocab, length, dim, ffn, layers, heads, classes):
        super().__init__()
        self.tokens = nn.Embedding(vocab, dim)
        self.positions = nn.Parameter(torch.zeros(1, length, dim))
        layer = nn.TransformerEncoderLayer(
            dim, heads, ffn, dropout=0.1, activation="gelu", batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.cls = nn.Linear(dim, classes)
        self.mlm = nn.Linear(dim, vocab)

    def forward(self, tokens):
        hidden = self.encoder(self.tokens(tokens) + self.positions[:, : tokens.shape[1]])
        return self.cls(hidden[:, 0]), self.mlm(hidden)


def main():
    length, batch, steps = env("LENGTH", 128), env("BATCH", 8), env("STEPS", 10)
    torch.set_num_threads(env("THREADS", 2))
    torch.manual_seed(0)
    vocab = 12
    model = Encoder(vocab, length, env("DIM", 128), env("FFN", 512), env("LAYERS", 2), env("HEADS", 4), 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        tokens = torch.randint(4, vocab, (batch, length))
        tokens[:, 0] = 1
        labels = torch.randint(0, 2, (batch,))
        masked = torch.rand(batch, length) < 0.15
        inputs = tokens.masked_fill(masked, 3)
        cls, mlm = model(inputs)
        loss = nn.functional.cross_entropy(cls, labels) + nn.functional.cross_entropy(
            mlm[masked], tokens[masked]
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    model.train()
    for _ in range(2):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    per_second = steps / (time.perf_counter() - start)
    print(json.dumps({
        "length": length,
        "steps_per_s": round(per_second, 3),
        "tokens_per_s": round(per_second * batch * length),
    }))


if __name__ == "__main__":
    main()
