"""A hand-written backward through time for the plain noisy cell, for training.

    pre_t   = W r_t + d_t                     (d_t: input drive U u_t + b, for every step at once)
    r_{t+1} = keep · r_t + gain · φ(pre_t) + ε_t      (keep = 1 − α, gain = α, ε_t = σ ξ_t)

Autograd records about ten ops per step and, backward, one (N, B) @ (B, N) matmul and one
(N, N) accumulation per step for dL/dW. :class:`Rollout` runs the same recurrence with five ops per
step, saves only r and φ(pre), and takes dL/dW as one (N, T·B) @ (T·B, N) matmul after the
backward sweep:

    δ_t       = a_{t+1} · gain · φ'(pre_t)          a_{t+1} = dL/dr_{t+1}, all paths
    a_t       = g_t + keep · a_{t+1} + δ_t W        g_t = dL/dr_t through the readout
    dL/dW     = Σ_t δ_tᵀ r_t,    dL/dd_t = δ_t,    dL/dr_0 = a_0

Everything carries a network axis first (K, B, N); one network is K = 1. Adaptation, momentum,
the GRU and any per-step hook (replay) stay on the cell's autograd loop; so does evaluation
(no gradients). The gradients equal autograd's to float rounding (tests/unit/core/test_bptt.py);
they are not bitwise the same, so :func:`enabled` can switch the fused path off.
"""

from __future__ import annotations

import contextlib

import torch

_ENABLED = True


def enabled() -> bool:
    return _ENABLED


@contextlib.contextmanager
def use_fused(on: bool):
    """Switch the fused backward on or off within a block (tests and benchmarks)."""
    global _ENABLED
    before, _ENABLED = _ENABLED, bool(on)
    try:
        yield
    finally:
        _ENABLED = before


def _derivative(f: torch.Tensor, activation: str) -> torch.Tensor:
    if activation == "relu":
        return (f > 0).to(f.dtype)
    return 1 - f * f  # tanh' = 1 - tanh^2


class Rollout(torch.autograd.Function):
    """r (K, T+1, B, N) from r_0 (K, B, N), drive (K, T, B, N), W (K, N, N), noise (K, T, B, N)
    or None; keep and gain floats or (K, 1, 1) tensors (not trained)."""

    @staticmethod
    def forward(ctx, r0, drive, weight, noise, keep, gain, activation):
        phi = torch.relu if activation == "relu" else torch.tanh
        k, steps = drive.shape[:2]
        wt = weight.mT
        hidden = r0.new_empty(k, steps + 1, *r0.shape[1:])
        acts = r0.new_empty(k, steps, *r0.shape[1:])
        hidden[:, 0] = r0
        r = r0
        for t in range(steps):
            f = phi(torch.baddbmm(drive[:, t], r, wt))
            acts[:, t] = f
            r = keep * r + gain * f
            if noise is not None:
                r = r + noise[:, t]
            hidden[:, t + 1] = r
        ctx.save_for_backward(hidden, acts, weight)
        ctx.keep, ctx.gain, ctx.activation = keep, gain, activation
        ctx.has_noise = noise is not None
        return hidden

    @staticmethod
    def backward(ctx, grad_hidden):
        hidden, acts, weight = ctx.saved_tensors
        keep, gain = ctx.keep, ctx.gain
        k, steps = acts.shape[:2]
        grad_hidden = grad_hidden.contiguous()
        deltas = torch.empty_like(acts)
        a = grad_hidden[:, steps]
        for t in range(steps - 1, -1, -1):
            delta = (a * gain) * _derivative(acts[:, t], ctx.activation)
            deltas[:, t] = delta
            a = torch.baddbmm(grad_hidden[:, t] + keep * a, delta, weight)
        n = weight.shape[-1]
        grad_w = torch.bmm(deltas.reshape(k, -1, n).mT, hidden[:, :steps].reshape(k, -1, n))
        grad_noise = grad_hidden[:, 1:] if ctx.has_noise and ctx.needs_input_grad[3] else None
        return a, deltas, grad_w, grad_noise, None, None, None


def rollout(r0, drive, weight, noise, keep, gain, activation: str) -> torch.Tensor:
    return Rollout.apply(r0, drive, weight, noise, keep, gain, activation)
