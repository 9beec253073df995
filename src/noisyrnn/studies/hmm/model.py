"""K noise-driven ReLU RNNs with a Gumbel-softmax readout (HMM.md §2), stacked on a network axis.

    h_t = ReLU(W_ih x_t + W_hh h_{t−1}),   x_t ~ N(0, I_d),   h_0 = 0
    y_t = A h_t                            (logits, no bias)
    e_t = GumbelSoftmax(y_t, τ, hard)      (one-hot sample, straight-through gradient)

No biases; the noise is the only input. ``first_symbol``: "h0" reads the first symbol from
h_0 = 0 (uniform logits, the authors' convention), "after_update" from h_1. Every parameter has
the network axis first, so the core's population optimisers and per-network clipping apply.

Initialisation depends on the seed alone: ``torch_default`` is ``nn.Linear``'s default
(U(±1/√fan_in) for each matrix, W_ih, W_hh, A drawn in that order), ``rnn_uniform`` is
``nn.RNN``'s (U(±1/√n) for all three).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

INITS = ("torch_default", "rnn_uniform")
FIRST_SYMBOLS = ("h0", "after_update")
N_OUT = 3
WEIGHTS = ("W_ih", "W_hh", "A")


def init_network(n: int, d: int, seed: int, how: str = "torch_default") -> dict[str, torch.Tensor]:
    if how not in INITS:
        raise ValueError(f"hmm init={how!r} is not one of {INITS}")
    g = torch.Generator().manual_seed(int(seed))
    shapes = {"W_ih": (n, d), "W_hh": (n, n), "A": (N_OUT, n)}
    out = {}
    for name, shape in shapes.items():
        bound = 1.0 / math.sqrt(shape[1] if how == "torch_default" else n)
        out[name] = torch.empty(shape).uniform_(-bound, bound, generator=g)
    return out


def steps_for(length: int, first_symbol: str) -> int:
    """Noise steps a sequence of ``length`` symbols needs."""
    if first_symbol not in FIRST_SYMBOLS:
        raise ValueError(f"hmm first_symbol={first_symbol!r} is not one of {FIRST_SYMBOLS}")
    return length - 1 if first_symbol == "h0" else length


def gumbel_hard(logits: torch.Tensor, u: torch.Tensor, tau: float = 1.0) -> torch.Tensor:
    """Hard Gumbel-softmax sample from uniforms ``u`` (same shape): the one-hot argmax of
    (logits + g)/τ forward, the softmax's gradient backward."""
    g = -torch.log(-torch.log(u.clamp(1e-10, 1 - 1e-7)))
    soft = torch.softmax((logits + g) / tau, dim=-1)
    hard = nn.functional.one_hot(soft.argmax(-1), logits.shape[-1]).to(soft.dtype)
    return hard - soft.detach() + soft


class HMMRNNPopulation(nn.Module):
    """K networks of the same shape, each from its own seed."""

    def __init__(self, n: int, d: int, seeds: Sequence[int], init: str = "torch_default",
                 first_symbol: str = "h0", tau: float = 1.0):
        super().__init__()
        nets = [init_network(n, d, s, init) for s in seeds]
        for name in WEIGHTS:
            setattr(self, name, nn.Parameter(torch.stack([w[name] for w in nets])))
        self.k, self.n, self.d = len(seeds), n, d
        self.first_symbol, self.tau = first_symbol, float(tau)
        steps_for(2, first_symbol)  # validates

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        """(K, B, S, n) states h_1..h_S driven by noise ``x`` (K, B, S, d)."""
        k, b, s, _ = x.shape
        drive = torch.einsum("kbsd,knd->kbsn", x, self.W_ih)
        h = x.new_zeros(k, b, self.n)
        out = []
        w_t = self.W_hh.transpose(1, 2)
        for t in range(s):
            h = torch.relu(drive[:, :, t] + torch.bmm(h, w_t))
            out.append(h)
        return torch.stack(out, dim=2)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """(K, B, T, 3) logits of a sequence driven by ``x``: with ``h0`` the first row is
        A h_0 = 0."""
        h = self.hidden(x)
        y = torch.einsum("kbsn,kon->kbso", h, self.A)
        if self.first_symbol == "h0":
            y = torch.cat([y.new_zeros(*y.shape[:2], 1, N_OUT), y], dim=2)
        return y

    def emit(self, x: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """(K, B, T, 3) one-hot emissions (Gumbel uniforms ``u`` (K, B, T, 3))."""
        return gumbel_hard(self.logits(x), u, self.tau)

    def weights(self, k: int) -> dict[str, torch.Tensor]:
        return {name: getattr(self, name)[k].detach().clone() for name in WEIGHTS}
