"""K noisy RNNs of one shape as one model: every weight stacked on a leading network axis.

:class:`PopulationRNN` is the cell of :mod:`noisyrnn.core.cell` with its layers swapped for
stacked ones (:class:`StackedLinear`, :class:`StackedGRUCell`): each matmul is one ``bmm`` over
the K networks, and the time loop, adaptation, momentum and noise are the cell's own code. State
and inputs carry the network axis first: r is (K, B, N), u is (K, B, T, n_in).

Per network: the leak α, the modifier parameters (a (K,) tensor, or a float shared by all) and
the noise stream (one ``torch.Generator`` per network). Each slice of a ``bmm`` is the same
gemm as ``nn.Linear`` on that network alone, and each network's noise comes from its own
generator, drawn as the single-network cell draws it; so on the CPU network k of a population
computes what it computes alone (tests/unit/core/test_population.py). One exception: products
smaller than 400 multiply-adds (e.g. 5 states of N = 8) take a naive loop in torch's bmm and
differ from the gemm in the last bit.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .cell import ModelConfig, NoisyRNN, Param, StepParams, build_model
from .optim import per_network


class StackedLinear(nn.Module):
    """K independent ``nn.Linear`` layers: weight (K, out, in), bias (K, out).

    Input (K, ..., in) -> output (K, ..., out). The middle axes are folded into one, as
    ``nn.Linear`` folds them, so each network's slice is the same gemm.
    """

    def __init__(self, k: int, n_in: int, n_out: int, bias: bool):
        super().__init__()
        # zeros until filled: populations are built by PopulationRNN.stack / build
        self.weight = nn.Parameter(torch.zeros(k, n_out, n_in))
        self.bias = nn.Parameter(torch.zeros(k, n_out)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x if x.ndim == 3 else x.reshape(x.shape[0], -1, x.shape[-1])
        wt = self.weight.mT
        out = torch.bmm(flat, wt) if self.bias is None else torch.baddbmm(self.bias.unsqueeze(1), flat, wt)
        return out if x.ndim == 3 else out.reshape(*x.shape[:-1], self.weight.shape[1])


class StackedGRUCell(nn.Module):
    """K independent ``nn.GRUCell``: the same gate algebra (ATen's CPU GRUCell) with stacked
    weights (K, 3N, n_in) and (K, 3N, N)."""

    def __init__(self, k: int, n_in: int, n: int, bias: bool):
        super().__init__()
        self.weight_ih = nn.Parameter(torch.zeros(k, 3 * n, n_in))
        self.weight_hh = nn.Parameter(torch.zeros(k, 3 * n, n))
        self.bias_ih = nn.Parameter(torch.zeros(k, 3 * n)) if bias else None
        self.bias_hh = nn.Parameter(torch.zeros(k, 3 * n)) if bias else None

    @staticmethod
    def _gates(x, weight, bias):
        wt = weight.transpose(1, 2)
        return torch.bmm(x, wt) if bias is None else torch.baddbmm(bias[:, None, :], x, wt)

    def forward(self, u: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        # ATen's op order, in-place ops on unsafe_chunk views included, so that autograd
        # builds the same graph and the gradients add up in the same order
        i_r, i_z, i_n = self._gates(u, self.weight_ih, self.bias_ih).unsafe_chunk(3, -1)
        h_r, h_z, h_n = self._gates(h, self.weight_hh, self.bias_hh).unsafe_chunk(3, -1)
        reset = h_r.add_(i_r).sigmoid_()
        update = h_z.add_(i_z).sigmoid_()
        new = i_n.add(h_n.mul_(reset)).tanh_()
        return (h - new).mul_(update).add_(new)


class PopulationRNN(NoisyRNN):
    """K :class:`~noisyrnn.core.cell.NoisyRNN` of one shape trained as one model.

    ``alphas``: one leak per network. Build one from trained or freshly initialised networks
    with :meth:`stack`; take network k back out with :meth:`network`.
    """

    def __init__(self, n_in: int, n_code: int, n_out: int, cfg: ModelConfig, alphas: Sequence[float]):
        self.k = len(alphas)
        if self.k < 1:
            raise ValueError("a population needs at least one network")
        super().__init__(n_in, n_code, n_out, cfg, alphas)

    # -- layers and shapes ------------------------------------------------------------------
    def _register_alpha(self, alphas) -> None:
        a = per_network(list(alphas), self.k, "alphas")
        if not bool(((a > 0) & (a <= 1)).all()):
            raise ValueError(f"alphas={a.tolist()} must lie in (0, 1]")
        # float32 like a single network's buffer, so float(alpha[k]) is the same number
        self.register_buffer("alpha", a.to(torch.float32))

    def _linear(self, n_in: int, n_out: int, bias: bool) -> nn.Module:
        return StackedLinear(self.k, n_in, n_out, bias)

    def _gru_cell(self, n_in: int, n: int, bias: bool) -> nn.Module:
        return StackedGRUCell(self.k, n_in, n, bias)

    def _check_input(self, u: torch.Tensor, code0: torch.Tensor) -> None:
        k, batch = code0.shape[:2]
        if u.ndim != 4 or u.shape[:2] != (k, batch) or u.shape[3] != self.n_in:
            raise ValueError(f"input u has shape {tuple(u.shape)}, expected ({k}, {batch}, T, {self.n_in})")

    def _column(self, values: Param, name: str, r: torch.Tensor, one_minus: bool = False):
        """A float when every network shares the value (the single network's code path);
        else a (K, 1, 1) column. 1 − x is taken in float64 before the cast, as the single
        network takes it of a Python float."""
        v = per_network(values, self.k, name)
        if bool((v == v[0]).all()):
            x = float(v[0])
            return 1.0 - x if one_minus else x
        v = 1.0 - v if one_minus else v
        return v.to(device=r.device, dtype=r.dtype).view(self.k, 1, 1)

    def _leak(self):
        alpha = self.alpha.double()
        return (self._column(alpha, "alpha", self.alpha, one_minus=True),
                self._column(alpha.float(), "alpha", self.alpha))

    def _columns(self, params: StepParams, r: torch.Tensor):
        p = StepParams(*(self._column(getattr(params, f), f, r)
                         for f in ("b_a", "tau_a", "lambda_v", "noise_std")))
        return p, self._column(params.lambda_v, "lambda_v", r, one_minus=True)

    def _noise_block(self, steps: int, r: torch.Tensor, generators) -> torch.Tensor:
        """One generator per network, each drawing its (T, B, N) noise at once: on the CPU
        that is bitwise the single network's per-step draws (see NoisyRNN._noise_source)."""
        if isinstance(generators, torch.Generator) or generators is None or len(generators) != self.k:
            raise ValueError(f"a population of {self.k} networks needs one noise generator per network")
        batch = r.shape[1]
        return torch.stack([self._noise(steps, batch, r, g) for g in generators], dim=1)

    def _noise_source(self, steps: int, r: torch.Tensor, generators):
        noise = self._noise_block(steps, r, generators)
        return lambda t: noise[t]

    def _to_k(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def _drive_to_time_major(self, d: torch.Tensor) -> torch.Tensor:
        return d.permute(2, 0, 1, 3)

    def _hidden_from_time_major(self, hidden: torch.Tensor) -> torch.Tensor:
        return hidden.permute(1, 2, 0, 3)

    # -- stacking -----------------------------------------------------------------------------
    @classmethod
    def stack(cls, models: Sequence[NoisyRNN]) -> "PopulationRNN":
        """A population holding copies of ``models`` (same shapes and model config)."""
        first = models[0]
        for m in models[1:]:
            if (m.cfg, m.n_in, m.n_code, m.n_out) != (first.cfg, first.n_in, first.n_code, first.n_out):
                raise ValueError("networks of a population must share the model config and shapes")
        pop = cls(first.n_in, first.n_code, first.n_out, first.cfg, [float(m.alpha) for m in models])
        params = dict(pop.named_parameters())
        with torch.no_grad():
            for name, _ in first.named_parameters():
                params[name].copy_(torch.stack([dict(m.named_parameters())[name] for m in models]))
        return pop.to(first.alpha.device)

    @classmethod
    def build(cls, n_in: int, n_code: int, n_out: int, cfg: ModelConfig, alphas: Sequence[float],
              seeds: Sequence[int]) -> "PopulationRNN":
        """Network k initialised exactly as ``build_model(..., alphas[k], seed=seeds[k])``."""
        if len(alphas) != len(seeds):
            raise ValueError(f"{len(alphas)} alphas for {len(seeds)} seeds")
        return cls.stack([build_model(n_in, n_code, n_out, cfg, a, seed=s)
                          for a, s in zip(alphas, seeds)])

    def network(self, k: int) -> NoisyRNN:
        """Network ``k`` as a plain NoisyRNN (its own copy of the weights)."""
        net = NoisyRNN(self.n_in, self.n_code, self.n_out, self.cfg, float(self.alpha[k]))
        state = {name: p.detach()[k].clone() for name, p in self.named_parameters()}
        state["alpha"] = self.alpha[k].detach().clone()
        net.load_state_dict(state)
        return net.to(self.alpha.device)

