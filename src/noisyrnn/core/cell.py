"""The noisy RNN cell with leakage, adaptation and momentum (SCIENCE.md §1).

    Δ_t     = α (−r_t + φ(W r_t + U u_t + b − a_t)) + σ ξ_t        (adaptation inside φ)
    Δ_t     = α (−r_t + φ(W r_t + U u_t + b) − a_t) + σ ξ_t        (adaptation outside φ)
    v_{t+1} = (1 − λ_v) v_t + Δ_t
    r_{t+1} = r_t + v_{t+1}
    a_{t+1} = a_t + (1/τ_a)(−a_t + b_a r_t)
    y_t     = D r_t + c,     r_0 = E code(x_0)

The update is evaluated as r_{t+1} = ((1 − α) r_t + α φ_t + σ ξ_t) + (1 − λ_v) v_t, which is the
same algebra but makes the special cases *bitwise* equal to the reduced cells: with α = 1 the
first bracket is 0·r + φ + σξ, and with λ_v = 1 the momentum term adds an exact zero. With
b_a = 0 and a_0 = 0 the adaptation stays exactly zero. Tests rely on this.

Replay parameters (b_a, τ_a, λ_v, noise std) may be scalars or per-trajectory tensors of shape
(B,), so every replay variant runs as one batch through one trained network. This module is
study-neutral: later studies reuse the cell.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import torch
from torch import nn

from . import bptt
from .config import Section


@dataclass(frozen=True)
class ModelConfig(Section):
    """The noisy RNN cell (SCIENCE.md §1)."""

    cell: str = "rnn"  # rnn | gru (continuous-time GRU baseline)
    n_hidden: int = 128
    activation: str = "relu"  # relu | tanh
    sigma_train: float = 0.01  # noise std in training (sigma^2 = 1e-4)
    noise: str = "gaussian"  # gaussian | uniform (predecessor quirk, fidelity option)
    adaptation_site: str = "inside"  # inside | outside phi (reconstructed)
    bias: bool = False  # recurrent bias b (predecessor: off)
    encoder_bias: bool = True  # so a start at the origin is not r0 = 0 (reconstructed)
    # Predecessor: no readout bias. With one, its initial values (~±1/sqrt(N)) dwarf a softmax
    # place code (mean 1/n_cells), so a top-k decode picks cells by their bias and never learns.
    readout_bias: bool = False

    def __post_init__(self):
        checks = {
            "cell": ("rnn", "gru"),
            "activation": ("relu", "tanh"),
            "noise": ("gaussian", "uniform"),
            "adaptation_site": ("inside", "outside"),
        }
        for key, allowed in checks.items():
            if getattr(self, key) not in allowed:
                raise ValueError(f"model.{key}={getattr(self, key)!r} is not one of {allowed}")


@dataclass(frozen=True)
class Modifiers(Section):
    """Adaptation and momentum parameters; the defaults switch both off."""

    b_a: float = 0.0  # adaptation strength (0: none)
    tau_a: float = 8.0  # adaptation time constant, steps
    lambda_v: float = 1.0  # momentum friction (1: none)

Param = Union[float, torch.Tensor]


@dataclass
class StepParams:
    """Per-trajectory modifier parameters, each a float or a (B,) tensor."""

    b_a: Param = 0.0
    tau_a: Param = 8.0
    lambda_v: Param = 1.0
    noise_std: Param = 0.0

    @classmethod
    def from_modifiers(cls, mods: Modifiers, noise_std: float) -> "StepParams":
        return cls(b_a=mods.b_a, tau_a=mods.tau_a, lambda_v=mods.lambda_v, noise_std=noise_std)

    def as_columns(self, batch: int, device, dtype) -> "StepParams":
        """Tensors of shape (B, 1) (or Python floats kept as floats) for broadcasting."""

        def col(x):
            if isinstance(x, torch.Tensor):
                x = x.to(device=device, dtype=dtype)
                if x.ndim == 0:
                    return float(x)
                if x.shape != (batch,):
                    raise ValueError(f"per-trajectory parameter has shape {tuple(x.shape)}, expected ({batch},)")
                return x[:, None]
            return float(x)

        return StepParams(col(self.b_a), col(self.tau_a), col(self.lambda_v), col(self.noise_std))


def _is_const(x: Param, value: float) -> bool:
    if isinstance(x, torch.Tensor):
        return bool(torch.all(x == value))
    return x == value


class NoisyRNN(nn.Module):
    """Noisy leaky RNN with optional adaptation and momentum; linear readout.

    ``n_in``: input size; ``n_out``: readout size. The start state is injectable: with
    ``n_code > 0`` a linear encoder maps a start code (B, n_code) to r_0 (the replay study's
    place or position code); with ``n_code = 0`` the caller passes r_0 (B, N) itself.
    ``alpha`` (leak) is a property of the trained network, stored as a buffer.
    """

    def __init__(self, n_in: int, n_code: int, n_out: int, cfg: ModelConfig, alpha: float):
        super().__init__()
        self.cfg = cfg
        n = cfg.n_hidden
        self.n_in, self.n_code, self.n_out = n_in, n_code, n_out
        self._register_alpha(alpha)
        self.encoder = self._linear(n_code, n, cfg.encoder_bias) if n_code > 0 else None
        self.readout = self._linear(n, n_out, cfg.readout_bias)
        if cfg.cell == "rnn":
            self.W = self._linear(n, n, cfg.bias)
            self.U = self._linear(n_in, n, False)
            self.phi = torch.relu if cfg.activation == "relu" else torch.tanh
        else:  # continuous-time GRU baseline: the GRU update replaces phi(W r + U u)
            self.gru = self._gru_cell(n_in, n, cfg.bias)

    # Layer factories and shape hooks: the population (core.population) overrides these to
    # stack K networks on a leading axis and reuses everything else, the time loop included.
    def _register_alpha(self, alpha: float) -> None:
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"alpha={alpha} must lie in (0, 1]")
        self.register_buffer("alpha", torch.tensor(float(alpha)))

    def _linear(self, n_in: int, n_out: int, bias: bool) -> nn.Module:
        return nn.Linear(n_in, n_out, bias=bias)

    def _gru_cell(self, n_in: int, n: int, bias: bool) -> nn.Module:
        return nn.GRUCell(n_in, n, bias=bias)

    def _check_input(self, u: torch.Tensor, code0: torch.Tensor) -> None:
        batch = code0.shape[0]
        if u.ndim != 3 or u.shape[0] != batch or u.shape[2] != self.n_in:
            raise ValueError(f"input u has shape {tuple(u.shape)}, expected ({batch}, T, {self.n_in})")

    def _leak(self):
        """(1 − α, α) of the update, as Python floats: 0-d tensor ops stay out of the loop."""
        alpha = float(self.alpha)
        return 1.0 - alpha, alpha

    def _columns(self, params: StepParams, r: torch.Tensor):
        """Modifier parameters shaped to broadcast against the state ``r``, and 1 − λ_v."""
        p = params.as_columns(r.shape[0], r.device, r.dtype)
        return p, 1.0 - p.lambda_v

    # The fused training path (core.bptt) works on a leading network axis; one network is K = 1.
    def _to_k(self, x: torch.Tensor) -> torch.Tensor:
        return x.unsqueeze(0)

    def _noise_block(self, steps: int, r: torch.Tensor, generator) -> torch.Tensor:
        """The whole run's noise (T, K, B, N), bitwise the per-step draws on the CPU."""
        return self._noise(steps, r.shape[-2], r, generator).unsqueeze(1)

    def _drive_to_time_major(self, d: torch.Tensor) -> torch.Tensor:
        """U u (B, T, N) -> (T, 1, B, N)."""
        return d.transpose(0, 1).unsqueeze(1)

    def _hidden_from_time_major(self, hidden: torch.Tensor) -> torch.Tensor:
        """(T+1, 1, B, N) -> the cell's layout (B, T+1, N)."""
        return hidden[:, 0].transpose(0, 1)

    def _fused_applies(self, use_adapt, use_momentum, on_step, keep_hidden, p) -> bool:
        """Training of the plain cell: no modifiers, no per-step hook, gradients wanted, and
        one noise std per network (per-trajectory stds are a replay feature)."""
        return (self.cfg.cell == "rnn" and not use_adapt and not use_momentum and on_step is None
                and keep_hidden and torch.is_grad_enabled() and bptt.enabled()
                and (not isinstance(p.noise_std, torch.Tensor) or p.noise_std.shape[-2:] == (1, 1)
                     and p.noise_std.ndim == 3))

    def _fused_run(self, u, r0, p, keep, gain, steps, use_noise, generator) -> dict:
        r0k = self._to_k(r0)
        k, batch, n = r0k.shape
        if u is not None:
            drive = self._drive_to_time_major(self.U(u))
        else:
            drive = r0k.new_zeros(steps, k, batch, n)
        if self.W.bias is not None:
            drive = drive + self._to_k(self.W.bias).unsqueeze(1)
        drive = drive.contiguous()
        noise = None
        if use_noise:
            noise = self._noise_block(steps, r0, generator) * p.noise_std
        hidden = bptt.rollout(r0k, drive, self._to_k(self.W.weight), noise, keep, gain,
                              self.cfg.activation)
        out_r = self._hidden_from_time_major(hidden)
        r_last = out_r.select(-2, steps)
        zeros = torch.zeros_like(r_last)
        return {"state": (r_last, zeros, zeros.clone()), "r": out_r}

    def _noise_source(self, steps: int, r: torch.Tensor, generator):
        """``t -> ξ_t`` for a run of ``steps`` steps from state ``r`` (B, N)."""
        batch = r.shape[0]
        # On the CPU the noise is drawn step by step: torch's CPU normal_ fills blocks of 16
        # numbers in stream order (rand is plain sequential), so per-step draws of B*N numbers, a
        # multiple of 16, are bitwise the (T, B, N) draw sliced by step, without holding
        # T*B*N floats (5 GB for a paper-scale replay: 25 variants x 200 trajectories x 500
        # steps x N = 512). CUDA's generator offsets differ, so CUDA keeps the single draw.
        if r.device.type == "cpu" and (batch * r.shape[-1]) % 16 == 0:
            return lambda t: self._noise(1, batch, r, generator)[0]
        noise = self._noise(steps, batch, r, generator)
        return lambda t: noise[t]

    @property
    def n_hidden(self) -> int:
        return self.cfg.n_hidden

    def init_state(self, start: torch.Tensor):
        """(r_0, v_0, a_0) from a start code (through the encoder) or from r_0 itself."""
        r0 = self.encoder(start) if self.encoder is not None else start
        zeros = torch.zeros_like(r0)
        return r0, zeros, zeros.clone()

    def _noise(self, steps: int, batch: int, like: torch.Tensor, generator) -> torch.Tensor:
        shape = (steps, batch, self.cfg.n_hidden)
        if self.cfg.noise == "gaussian":
            return torch.randn(shape, generator=generator, device=like.device, dtype=like.dtype)
        # Predecessor quirk (fidelity option): uniform [0, 1) noise, not centred.
        return torch.rand(shape, generator=generator, device=like.device, dtype=like.dtype)

    def _nonlinear(self, r, a, inp_t, u_t, adapt_inside: bool):
        """φ(W r + U u + b [− a]) for the RNN, or the GRU update for the baseline."""
        if self.cfg.cell == "rnn":
            pre = self.W(r)
            if inp_t is not None:
                pre = pre + inp_t
            if adapt_inside:
                pre = pre - a
            return self.phi(pre)
        if u_t is None:
            u_t = r.new_zeros(r.shape[0], self.n_in)
        return self.gru(u_t, r - a if adapt_inside else r)

    def forward(
        self,
        u: torch.Tensor | None,
        code0: torch.Tensor,
        params: StepParams | None = None,
        *,
        steps: int | None = None,
        generator: torch.Generator | None = None,
        return_hidden: bool = False,
        state=None,
    ):
        """Run the cell.

        ``u``: (B, T, n_in) inputs, or None for zero input (then ``steps`` gives T).
        Returns y (B, T, n_out) for r_1..r_T, and with ``return_hidden`` also r (B, T+1, N).
        ``generator`` draws the noise (a population takes one generator per network).
        """
        params = params or StepParams()
        out = self.run(u, code0, params, steps=steps, generator=generator, state=state)
        y = self.readout(out["r"][..., 1:, :])
        return (y, out["r"]) if return_hidden else y

    def run(self, u, code0, params: StepParams, *, steps=None, generator=None, state=None,
            keep_hidden: bool = True, on_step=None):
        """Core loop. Returns dict with r (B, T+1, N) when ``keep_hidden``, and final state.

        ``on_step(t, r, v, a)`` is called after each step (replay uses it to decode and to
        detect divergence without keeping every hidden state); it may return a new (r, v, a).
        """
        if u is not None:
            self._check_input(u, code0)
            steps = u.shape[-2]
        if steps is None:
            raise ValueError("zero-input run needs steps=")
        r, v, a = state if state is not None else self.init_state(code0)
        p, keep_v = self._columns(params, r)
        use_adapt = not _is_const(p.b_a, 0.0)
        use_momentum = not _is_const(p.lambda_v, 1.0)
        use_noise = not _is_const(p.noise_std, 0.0)
        adapt_inside = self.cfg.adaptation_site == "inside"
        keep, gain = self._leak()
        if self._fused_applies(use_adapt, use_momentum, on_step, keep_hidden, p):
            return self._fused_run(u, r, p, keep, gain, steps, use_noise, generator)
        # One matmul for the input projection of every step, outside the time loop.
        inp = [None] * steps
        if u is not None and self.cfg.cell == "rnn":
            # unbind, not inp[t]: the backward of per-step indexing allocates and zero-fills a
            # full (T, B, N) gradient at every step (quadratic in T); unbind's backward is one stack.
            inp = self.U(u).movedim(-2, 0).unbind(0)
        u_steps = u.unbind(-2) if u is not None else [None] * steps
        noise = self._noise_source(steps, r, generator) if use_noise else None
        hidden = [r] if keep_hidden else None
        for t in range(steps):
            f = self._nonlinear(r, a, inp[t], u_steps[t], use_adapt and adapt_inside)
            if use_adapt and not adapt_inside:
                f = f - a
            r_new = keep * r + gain * f
            if use_noise:
                r_new = r_new + p.noise_std * noise(t)
            if use_momentum:
                r_new = r_new + keep_v * v
                v = r_new - r
            if use_adapt:
                a = a + (-a + p.b_a * r) / p.tau_a
            r = r_new
            if on_step is not None:
                new_state = on_step(t, r, v, a)
                if new_state is not None:
                    r, v, a = new_state
            if keep_hidden:
                hidden.append(r)
        out = {"state": (r, v, a)}
        if keep_hidden:
            out["r"] = torch.stack(hidden, dim=-2)
        return out

    @torch.no_grad()
    def drift(self, r: torch.Tensor, b_a: Param = 0.0, lambda_v: Param = 1.0,
              velocity: str = "terminal") -> torch.Tensor:
        """Zero-input, noise-free drift f(r) = E[r' − r] at states r (M, N); for a population,
        (K, M, N) with b_a / lambda_v a float or one value per network.

        Adaptation is taken at its quasi-static value a = b_a r. With momentum the increment Δ
        accumulates in v; ``velocity="terminal"`` reports the terminal velocity Δ/λ_v under a
        constant Δ (the effective step of the underdamped sampler), ``"first_step"`` reports Δ.
        """
        p, _ = self._columns(StepParams(b_a=b_a, lambda_v=lambda_v), r)
        a = p.b_a * r
        adapt_inside = self.cfg.adaptation_site == "inside"
        f = self._nonlinear(r, a, None, None, adapt_inside)
        if not adapt_inside:
            f = f - a
        delta = self._leak()[1] * (f - r)
        if velocity == "terminal":
            return delta / p.lambda_v
        if velocity == "first_step":
            return delta
        raise ValueError(f"velocity={velocity!r} is not one of terminal, first_step")


def build_model(n_in: int, n_code: int, n_out: int, cfg: ModelConfig, alpha: float,
                seed: int) -> NoisyRNN:
    """Build a network with PyTorch default init drawn from ``seed`` (predecessor's choice)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return NoisyRNN(n_in, n_code, n_out, cfg, alpha)


def save_blob(model: NoisyRNN, **extra) -> dict:
    return {
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "model_config": model.cfg.to_dict(),
        "n_in": model.n_in,
        "n_code": model.n_code,
        "n_out": model.n_out,
        "alpha": float(model.alpha),
        **extra,
    }


def from_blob(blob: dict, device=None) -> NoisyRNN:
    cfg = ModelConfig.from_dict(blob["model_config"])
    model = NoisyRNN(blob["n_in"], blob["n_code"], blob["n_out"], cfg, blob["alpha"])
    model.load_state_dict(blob["state_dict"])
    return model.to(device) if device is not None else model
