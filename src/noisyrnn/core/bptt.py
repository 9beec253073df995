"""A hand-written backward through time for the plain noisy cell, for training.

    pre_t   = W r_t + d_t                     (d_t: input drive U u_t + b, for every step at once)
    r_{t+1} = keep · r_t + gain · φ(pre_t) + ε_t      (keep = 1 − α, gain = α, ε_t = σ ξ_t)

Autograd records about ten ops per step and, backward, one (N, B) @ (B, N) matmul and one
(N, N) accumulation per step for dL/dW. :class:`Rollout` runs the same recurrence with four ops per
step forward and three backward, saves only r and φ(pre), and takes dL/dW as one (N, T·B) @ (T·B, N) matmul after the
backward sweep:

    δ_t       = a_{t+1} · gain · φ'(pre_t)          a_{t+1} = dL/dr_{t+1}, all paths
    a_t       = g_t + keep · a_{t+1} + δ_t W        g_t = dL/dr_t through the readout
    dL/dW     = Σ_t δ_tᵀ r_t,    dL/dd_t = δ_t,    dL/dr_0 = a_0

State carries a network axis (K, B, N), one network being K = 1; time comes first in the saved
tensors (T, K, B, N), so each step reads and writes contiguous slices in place. Adaptation, momentum,
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


def _as_tensor(x, like: torch.Tensor) -> torch.Tensor:
    """A float as a 0-d tensor of ``like``'s dtype: the same float32 factor torch makes of a
    Python scalar, without the scalar-to-tensor conversion at every op."""
    if isinstance(x, torch.Tensor):
        return x.to(device=like.device, dtype=like.dtype)
    return torch.tensor(x, device=like.device, dtype=like.dtype)


class Rollout(torch.autograd.Function):
    """Time-major: r (T+1, K, B, N) from r_0 (K, B, N), drive (T, K, B, N), W (K, N, N), noise
    (T, K, B, N) or None; keep and gain floats or (K, 1, 1) tensors (not trained)."""

    @staticmethod
    def forward(ctx, r0, drive, weight, noise, keep, gain, activation):
        # clamp_min is relu with an out= (relu has none): max(x, 0), NaN kept
        phi = torch.clamp_min if activation == "relu" else torch.tanh
        steps = drive.shape[0]
        wt = weight.mT
        keep_t, gain_t = _as_tensor(keep, r0), _as_tensor(gain, r0)
        hidden = r0.new_empty(steps + 1, *r0.shape)
        acts = r0.new_empty(steps, *r0.shape)
        hidden[0] = r0
        for t in range(steps):
            pre = torch.baddbmm(drive[t], hidden[t], wt)
            f = phi(pre, 0.0, out=acts[t]) if activation == "relu" else phi(pre, out=acts[t])
            if noise is None:
                torch.mul(hidden[t], keep_t, out=hidden[t + 1])
            else:
                torch.addcmul(noise[t], hidden[t], keep_t, out=hidden[t + 1])
            hidden[t + 1].addcmul_(f, gain_t)
        ctx.save_for_backward(hidden, acts, weight, keep_t, gain_t)
        ctx.activation = activation
        ctx.has_noise = noise is not None
        return hidden

    @staticmethod
    def backward(ctx, grad_hidden):
        hidden, acts, weight, keep_t, gain_t = ctx.saved_tensors
        steps, k = acts.shape[:2]
        n = weight.shape[-1]
        grad_hidden = grad_hidden.contiguous()
        # gain * phi'(pre_t) for every step at once, outside the sequential sweep
        if ctx.activation == "relu":
            slope = (acts > 0).to(acts.dtype) * gain_t
        else:
            slope = torch.addcmul(torch.ones_like(acts), acts, acts, value=-1) * gain_t
        deltas = torch.empty_like(acts)
        a = grad_hidden[steps]
        for t in range(steps - 1, -1, -1):
            delta = torch.mul(a, slope[t], out=deltas[t])
            a = torch.baddbmm(torch.addcmul(grad_hidden[t], a, keep_t), delta, weight)
        # dL/dW = sum_t delta_t^T r_t: one (N, T*B) @ (T*B, N) matmul per network
        d = deltas.permute(1, 3, 0, 2).reshape(k, n, -1)
        r = hidden[:steps].permute(1, 0, 2, 3).reshape(k, -1, n)
        grad_w = torch.bmm(d, r)
        grad_noise = grad_hidden[1:] if ctx.has_noise and ctx.needs_input_grad[3] else None
        return a, deltas, grad_w, grad_noise, None, None, None


def rollout(r0, drive, weight, noise, keep, gain, activation: str) -> torch.Tensor:
    return Rollout.apply(r0, drive, weight, noise, keep, gain, activation)
