"""A population of K leaky tanh RNNs (STM.md §2), every weight stacked on a leading network axis.

    r_{t+1} = (1 − α) r_t + α tanh(W r_t + b_rec + W_in u_t + b_in + ε_t),   ε_t ~ N(0, σ² I)
    o_t     = sigmoid(W_out r_t + b_out)      (read from the state before the update; o_0 uses r_0)
    r_0     = tanh(z),  z ~ N(0, r0_std² I), redrawn on every forward pass

The noise sits *inside* the tanh (unlike the core cell, whose noise is added outside φ), hence a
cell of its own; every layer is a :class:`noisyrnn.core.population.StackedLinear`, so each
network's matmuls are one slice of a ``bmm`` and K networks train as one model with the core
trainer. Inside the tanh, b_rec + W_in u_t + b_in + ε_t is all drive, so the recurrence runs on
the core's fused BPTT (:func:`noisyrnn.core.bptt.rollout`, one dL/dW matmul after the sweep);
``bptt.use_fused(False)`` selects the plain autograd loop, the reference it is tested against. The leak α is per network (the long-τ family trains at α = 0.25). ``linear_readout``
drops the sigmoid (the no-memory control).

Initialisation depends on a network's seed alone (paired design, STM.md §7): the network with
seed s starts from the same weights at every learning rate, delay and position in a population,
and in float64 from the float32 values exactly. Xavier-uniform W_in, W, W_out (drawn in that
order), diag(W) zeroed at init only, then the biases (PyTorch ``nn.Linear`` default, or zeros):
weights are drawn before biases so that the bias choice leaves them unchanged.

Noise: network k draws its r_0 and the ε of its own trial length from its own generator, in one
call per forward pass; a population padded to a longer trial passes each network's length, so a
network draws, step for step, the noise it draws alone (on any device).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch import nn

from ...core import bptt
from ...core.population import StackedLinear

BIAS_INITS = ("torch_default", "zeros")
N_IO = 2  # input and output channels of the task
WEIGHT_NAMES = ("W", "W_in", "b_rec", "b_in", "W_out", "b_out")


def _xavier(n_out: int, n_in: int, g: torch.Generator) -> torch.Tensor:
    return nn.init.xavier_uniform_(torch.empty(n_out, n_in), generator=g)


def _bias(n: int, fan_in: int, how: str, g: torch.Generator) -> torch.Tensor:
    if how == "zeros":
        return torch.zeros(n)
    bound = 1.0 / math.sqrt(fan_in)  # nn.Linear.reset_parameters
    return torch.empty(n).uniform_(-bound, bound, generator=g)


def init_network(n: int, seed: int, bias_init: str = "torch_default") -> dict[str, torch.Tensor]:
    """The float32 initial weights of the network with seed ``seed`` (from a CPU generator seeded
    with it alone, so the same on every device and in every population)."""
    if bias_init not in BIAS_INITS:
        raise ValueError(f"bias_init={bias_init!r} is not one of {BIAS_INITS}")
    g = torch.Generator().manual_seed(int(seed))
    w_in = _xavier(n, N_IO, g)
    w = _xavier(n, n, g)
    w.fill_diagonal_(0.0)  # no self-coupling at init; training may grow it
    w_out = _xavier(N_IO, n, g)
    return {"W": w, "W_in": w_in, "W_out": w_out,
            "b_in": _bias(n, N_IO, bias_init, g), "b_rec": _bias(n, n, bias_init, g),
            "b_out": _bias(N_IO, n, bias_init, g)}


class LeakyTanhPopulation(nn.Module):
    """K leaky tanh RNNs with N units, 2 inputs and 2 outputs, batched on a leading network axis.

    Layers: ``rec`` (W, b_rec), ``inp`` (W_in, b_in), ``out`` (W_out, b_out); buffer ``alpha``
    (K,). ``k`` is the number of networks (the core trainer checks it).
    """

    def __init__(self, k: int, n: int, alphas, *, linear_readout: bool = False, r0_std: float = 0.1,
                 dtype: torch.dtype = torch.float32):
        super().__init__()
        if k < 1 or n < 1:
            raise ValueError(f"a population needs k >= 1 networks of n >= 1 units, got k={k}, n={n}")
        a = torch.as_tensor(alphas, dtype=torch.float64).flatten()
        if a.numel() == 1:
            a = a.expand(k)
        if a.shape != (k,) or not bool(((a > 0) & (a <= 1)).all()):
            raise ValueError(f"alphas={a.tolist()} must be {k} values in (0, 1]")
        self.k, self.n = int(k), int(n)
        self.linear_readout = bool(linear_readout)
        self.r0_std = float(r0_std)
        self.rec = StackedLinear(k, n, n, bias=True)
        self.inp = StackedLinear(k, N_IO, n, bias=True)
        self.out = StackedLinear(k, n, N_IO, bias=True)
        self.register_buffer("alpha", a.to(torch.float32))
        self.to(dtype)

    # -- weights ------------------------------------------------------------------------------
    def _params(self) -> dict[str, torch.Tensor]:
        return {"W": self.rec.weight, "b_rec": self.rec.bias, "W_in": self.inp.weight,
                "b_in": self.inp.bias, "W_out": self.out.weight, "b_out": self.out.bias}

    @torch.no_grad()
    def load_weights(self, weights: Mapping[str, object]) -> None:
        """Copy stacked weights ((K, ...) arrays or tensors, :data:`WEIGHT_NAMES`, optional
        ``alpha``) into the population."""
        for name, p in self._params().items():
            v = weights[name]
            v = v if isinstance(v, torch.Tensor) else torch.as_tensor(np.asarray(v))
            if tuple(v.shape) != tuple(p.shape):
                raise ValueError(f"{name} has shape {tuple(v.shape)}, expected {tuple(p.shape)}")
            p.copy_(v.to(p.dtype))
        if "alpha" in weights:
            a = np.asarray(weights["alpha"], np.float64).reshape(self.k)
            self.alpha.copy_(torch.from_numpy(a).float())  # float32 values, as built

    def network_weights(self, k: int) -> dict[str, np.ndarray]:
        """Network ``k``'s weights as numpy arrays (:data:`WEIGHT_NAMES` and ``alpha``)."""
        out = {name: p.detach()[k].cpu().numpy().copy() for name, p in self._params().items()}
        out["alpha"] = np.asarray(float(self.alpha[k]), np.float64)
        return out

    def stacked_weights(self) -> dict[str, np.ndarray]:
        """All K networks' weights, each with the network axis first."""
        out = {name: p.detach().cpu().numpy().copy() for name, p in self._params().items()}
        out["alpha"] = self.alpha.detach().cpu().double().numpy()
        return out

    # -- dynamics -----------------------------------------------------------------------------
    def draw(self, batch: int, steps: int, generators: Sequence[torch.Generator], sigma: float,
             like: torch.Tensor, lengths: Sequence[int] | None = None
             ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """z (K, B, N) with std ``r0_std`` and noise (T, K, B, N) with std ``sigma`` (None when 0).

        Network k draws z and the noise of its own ``lengths[k]`` steps (all T when None) from
        its own generator in one call; its steps past that length get no noise. So what a
        network draws, and how far its stream advances, depend on its own trial alone, not on
        the trial it is padded to.
        """
        if isinstance(generators, torch.Generator) or len(generators) != self.k:
            raise ValueError(f"a population of {self.k} networks needs one generator per network")
        own = [steps] * self.k if lengths is None else [int(t) for t in lengths]
        if len(own) != self.k or not all(0 <= t <= steps for t in own):
            raise ValueError(f"lengths={own} must be {self.k} values in [0, {steps}]")
        noisy = sigma != 0
        blocks = [torch.randn(1 + (t if noisy else 0), batch, self.n, generator=g, device=like.device,
                              dtype=like.dtype) for g, t in zip(generators, own)]
        z = torch.stack([b[0] for b in blocks]) * self.r0_std
        if not noisy:
            return z, None
        if all(t == steps for t in own):
            noise = torch.stack([b[1:] for b in blocks], dim=1)
        else:
            noise = like.new_zeros(steps, self.k, batch, self.n)
            for j, (b, t) in enumerate(zip(blocks, own)):
                noise[:t, j] = b[1:]
        return z, noise * float(sigma)

    def forward(self, u: torch.Tensor, generators: Sequence[torch.Generator], sigma: float,
                r0: torch.Tensor | None = None, lengths: Sequence[int] | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """Run the K networks on inputs ``u`` (K, B, T, 2).

        Returns outputs (K, B, T, 2), o_t read from r_t before the update, and rates
        (K, B, T + 1, N), r_0 … r_T. ``r0`` (K, B, N) replaces the drawn tanh(z) (z is still
        drawn, so the streams stay aligned). ``lengths`` (K,): each network's own trial length
        within the padded T (see :meth:`draw`); None: all T.
        """
        if u.ndim != 4 or u.shape[0] != self.k or u.shape[3] != N_IO:
            raise ValueError(f"input u has shape {tuple(u.shape)}, expected ({self.k}, B, T, {N_IO})")
        _, batch, steps, _ = u.shape
        like = self.rec.weight
        u = u.to(device=like.device, dtype=like.dtype)
        z, noise = self.draw(batch, steps, generators, sigma, like, lengths)
        r = torch.tanh(z) if r0 is None else r0.to(device=like.device, dtype=like.dtype)
        alpha = self.alpha.to(like.dtype)
        if bool((self.alpha == self.alpha[0]).all()):
            a, keep = float(self.alpha[0]), 1.0 - float(self.alpha[0])
        else:
            a = alpha.view(self.k, 1, 1)
            keep = (1.0 - self.alpha.double()).to(like.dtype).view(self.k, 1, 1)
        if bptt.enabled():
            # everything but W r_t is drive: b_rec + W_in u_t + b_in + ε_t, for all steps at
            # once (time-major); the core's fused rollout then runs pre_t = W r_t + drive_t
            drive = (self.inp(u) + self.rec.bias[:, None, None, :]).permute(2, 0, 1, 3)
            drive = (drive + noise if noise is not None else drive).contiguous()
            hidden = bptt.rollout(r, drive, self.rec.weight, None, keep, a, "tanh")  # (T+1, K, B, N)
            rates_t = hidden.permute(1, 2, 0, 3)
        else:
            # the reference autograd loop; the drive is unbound (not indexed) so that backward
            # stacks the step gradients once instead of filling a (T, K, B, N) zero tensor per step
            drive = self.inp(u).permute(2, 0, 1, 3).unbind(0)
            rates = [r]
            for t in range(steps):
                pre = self.rec(r) + drive[t]
                if noise is not None:
                    pre = pre + noise[t]
                r = keep * r + a * torch.tanh(pre)
                rates.append(r)
            rates_t = torch.stack(rates, dim=2)  # (K, B, T + 1, N)
        logits = self.out(rates_t[:, :, :steps])
        outputs = logits if self.linear_readout else torch.sigmoid(logits)
        return outputs, rates_t


def build(k: int, n: int, seeds: Sequence[int], alphas, *, bias_init: str = "torch_default",
          linear_readout: bool = False, r0_std: float = 0.1,
          dtype: torch.dtype = torch.float32) -> LeakyTanhPopulation:
    """A population of ``k`` fresh networks: network j initialised from ``seeds[j]`` alone
    (:func:`init_network`), leak ``alphas[j]`` (or one float for all)."""
    seeds = [int(s) for s in seeds]
    if len(seeds) != k:
        raise ValueError(f"{len(seeds)} seeds for a population of {k} networks")
    pop = LeakyTanhPopulation(k, n, alphas, linear_readout=linear_readout, r0_std=r0_std, dtype=dtype)
    nets = [init_network(n, s, bias_init) for s in seeds]
    pop.load_weights({name: torch.stack([w[name] for w in nets]) for name in WEIGHT_NAMES})
    return pop


def from_weights(weights: Mapping[str, object], *, linear_readout: bool = False, r0_std: float = 0.1,
                 dtype: torch.dtype = torch.float32) -> LeakyTanhPopulation:
    """Rebuild a population from saved weights: :data:`WEIGHT_NAMES` and ``alpha``, either stacked
    with a leading network axis (W (K, N, N)) or one network's (W (N, N), as
    :meth:`LeakyTanhPopulation.network_weights` gives them: a population of one)."""
    w = {name: np.asarray(weights[name]) for name in (*WEIGHT_NAMES, "alpha")}
    if w["W"].ndim == 2:
        w = {name: v[None] for name, v in w.items()}
    k, n = w["W"].shape[0], w["W"].shape[1]
    pop = LeakyTanhPopulation(k, n, np.asarray(w["alpha"], np.float64).reshape(k),
                              linear_readout=linear_readout, r0_std=r0_std, dtype=dtype)
    pop.load_weights(w)
    return pop
