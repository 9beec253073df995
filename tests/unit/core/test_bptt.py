"""The hand-written backward through time against autograd through the cell's own loop.

Truth: the same cell with the fused path switched off (``bptt.use_fused(False)``), where
autograd differentiates every op of the time loop. Same weights, inputs and noise; the
outputs and every gradient must agree to float32 rounding.
"""

from __future__ import annotations

import pytest
import torch

from noisyrnn.core import bptt
from noisyrnn.core.cell import ModelConfig, StepParams, build_model
from noisyrnn.core.population import PopulationRNN

B, T, N_IN, N_CODE, N_OUT, N = 6, 15, 2, 3, 4, 20


def _grads(model, u, code0, params, gens, fused):
    model.zero_grad(set_to_none=True)
    weights = torch.linspace(-1, 1, N_OUT)
    with bptt.use_fused(fused):
        y = model(u, code0, params, generator=gens())
        loss = (torch.sin(3 * y) * weights).sum()
        loss.backward()
    # U gets no gradient in a zero-input run: compare what both paths reach
    return y.detach(), {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


def _check(model, u, code0, params, gens):
    y_ref, g_ref = _grads(model, u, code0, params, gens, fused=False)
    y, g = _grads(model, u, code0, params, gens, fused=True)
    torch.testing.assert_close(y, y_ref, rtol=1e-5, atol=1e-6)
    assert g.keys() == g_ref.keys()
    for name in g_ref:
        scale = float(g_ref[name].abs().max())
        torch.testing.assert_close(g[name], g_ref[name], rtol=1e-4, atol=1e-5 * max(scale, 1.0),
                                   msg=name)
    # the gradients are not trivially zero (the comparison means something)
    assert float(g_ref["W.weight"].abs().max()) > 1e-3


@pytest.mark.parametrize("activation,bias,noise,inputs", [
    ("relu", False, 0.05, True),
    ("tanh", True, 0.05, True),
    ("relu", True, 0.0, True),
    ("tanh", False, 0.1, False),
])
def test_fused_backward_equals_autograd_single_network(activation, bias, noise, inputs):
    cfg = ModelConfig(n_hidden=N, activation=activation, bias=bias)
    model = build_model(N_IN, N_CODE, N_OUT, cfg, alpha=0.3, seed=1)
    g = torch.Generator().manual_seed(0)
    u = torch.randn(B, T, N_IN, generator=g) if inputs else None
    code0 = torch.randn(B, N_CODE, generator=g)
    params = StepParams(noise_std=noise)
    if u is None:
        model_forward = model.forward

        def fwd(u_, code0_, params_, generator=None):
            return model_forward(None, code0_, params_, steps=T, generator=generator)
        model.forward = fwd
    _check(model, u, code0, params, lambda: torch.Generator().manual_seed(5))


def test_fused_backward_equals_autograd_population_with_per_network_leak_and_noise():
    cfg = ModelConfig(n_hidden=N, activation="tanh", bias=True)
    pop = PopulationRNN.build(N_IN, N_CODE, N_OUT, cfg, [0.2, 1.0, 0.5], [1, 2, 3])
    g = torch.Generator().manual_seed(0)
    u, code0 = torch.randn(3, B, T, N_IN, generator=g), torch.randn(3, B, N_CODE, generator=g)
    params = StepParams(noise_std=torch.tensor([0.0, 0.05, 0.1]))
    _check(pop, u, code0, params, lambda: [torch.Generator().manual_seed(s) for s in (4, 5, 6)])


def test_modifiers_and_replay_hooks_keep_the_autograd_loop(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the fused path must not run here")

    monkeypatch.setattr(bptt, "rollout", refuse)
    model = build_model(N_IN, N_CODE, N_OUT, ModelConfig(n_hidden=N), alpha=0.3, seed=1)
    u, code0 = torch.randn(B, T, N_IN), torch.randn(B, N_CODE)
    model(u, code0, StepParams(b_a=0.3)).sum().backward()  # adaptation
    model(u, code0, StepParams(lambda_v=0.5)).sum().backward()  # momentum
    with torch.no_grad():  # evaluation and replay
        model(u, code0, StepParams(noise_std=0.1), generator=torch.Generator().manual_seed(0))
    gru = build_model(N_IN, N_CODE, N_OUT, ModelConfig(n_hidden=N, cell="gru"), 0.3, seed=1)
    gru(u, code0, StepParams()).sum().backward()
