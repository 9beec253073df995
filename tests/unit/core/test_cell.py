"""The cell's special cases must equal hand-written reduced cells exactly (same seed)."""

import pytest
import torch

from noisyrnn.core.cell import ModelConfig
from noisyrnn.core.cell import NoisyRNN, StepParams, build_model, from_blob, save_blob

B, T, N_IN, N_CODE, N_OUT = 5, 12, 2, 3, 4


def make(alpha, **cfg):
    cfg = ModelConfig(n_hidden=16, **cfg)
    return build_model(N_IN, N_CODE, N_OUT, cfg, alpha=alpha, seed=3)


def inputs():
    g = torch.Generator().manual_seed(0)
    return torch.randn(B, T, N_IN, generator=g), torch.randn(B, N_CODE, generator=g)


def noise_for(model, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(T, B, model.n_hidden, generator=g)


def reference(model, u, code0, sigma, seed, *, b_a=0.0, tau_a=8.0, lambda_v=1.0, kind="full"):
    """Hand-written loops of the reduced cells, independent of NoisyRNN.run."""
    xi = noise_for(model, seed)
    W, U = model.W.weight, model.U.weight
    r = model.encoder(code0)
    v = torch.zeros_like(r)
    a = torch.zeros_like(r)
    alpha = float(model.alpha)
    rs = [r]
    for t in range(T):
        pre = r @ W.T + u[:, t] @ U.T
        if kind == "plain":  # r' = phi(W r + U u) + sigma xi
            r = torch.relu(pre) + sigma * xi[t]
        elif kind == "leaky":  # no momentum, no adaptation
            r = (1 - alpha) * r + alpha * torch.relu(pre) + sigma * xi[t]
        else:
            delta = alpha * (-r + torch.relu(pre - a)) + sigma * xi[t]
            v = (1 - lambda_v) * v + delta
            a_next = a + (-a + b_a * r) / tau_a
            r = r + v
            a = a_next
        rs.append(r)
    return torch.stack(rs, 1)


def run(model, u, code0, sigma, seed, **mods):
    g = torch.Generator().manual_seed(seed)
    _, r = model(u, code0, StepParams(noise_std=sigma, **mods), generator=g, return_hidden=True)
    return r


def test_alpha1_no_modifiers_is_the_plain_rnn_exactly():
    model = make(alpha=1.0)
    u, code0 = inputs()
    with torch.no_grad():
        got = run(model, u, code0, 0.1, seed=7)
        want = reference(model, u, code0, 0.1, seed=7, kind="plain")
    assert torch.equal(got, want)


def test_lambda1_b0_is_the_leaky_cell_exactly():
    model = make(alpha=0.2)
    u, code0 = inputs()
    with torch.no_grad():
        got = run(model, u, code0, 0.1, seed=7, b_a=0.0, lambda_v=1.0)
        want = reference(model, u, code0, 0.1, seed=7, kind="leaky")
    assert torch.equal(got, want)


def test_b0_with_momentum_equals_cell_without_adaptation_exactly():
    model = make(alpha=0.2)
    u, code0 = inputs()
    lv = torch.full((B,), 0.6)
    # One trajectory with b_a > 0 forces the adaptation code path on for the whole batch; the
    # rows with b_a = 0 must then equal, bit for bit, a run that skips adaptation entirely.
    b = torch.tensor([0.0, 0.0, 0.0, 0.0, 0.5])
    with torch.no_grad():
        without = run(model, u, code0, 0.1, seed=1, b_a=0.0, lambda_v=lv)
        with_path = run(model, u, code0, 0.1, seed=1, b_a=b, lambda_v=lv)
    assert torch.equal(with_path[:4], without[:4])
    assert not torch.allclose(with_path[4], without[4])


def test_full_cell_matches_the_equations():
    model = make(alpha=0.3)
    u, code0 = inputs()
    with torch.no_grad():
        got = run(model, u, code0, 0.05, seed=2, b_a=0.4, tau_a=5.0, lambda_v=0.7)
        want = reference(model, u, code0, 0.05, seed=2, b_a=0.4, tau_a=5.0, lambda_v=0.7)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)


def test_per_trajectory_parameters_equal_separate_runs():
    model = make(alpha=0.2)
    u, code0 = inputs()
    b = torch.tensor([0.0, 0.1, 0.3, 0.5, 1.0])
    lv = torch.tensor([1.0, 0.9, 0.7, 0.5, 0.3])
    with torch.no_grad():
        batched = run(model, u, code0, 0.0, seed=0, b_a=b, lambda_v=lv)
        for i in range(B):
            single = run(model, u[i : i + 1], code0[i : i + 1], 0.0, seed=0, b_a=float(b[i]),
                         lambda_v=float(lv[i]))
            torch.testing.assert_close(batched[i : i + 1], single, rtol=1e-6, atol=1e-6)


def test_noise_off_is_deterministic_and_noise_on_depends_on_seed():
    model = make(alpha=0.2)
    u, code0 = inputs()
    with torch.no_grad():
        a = run(model, u, code0, 0.0, seed=1)
        b = run(model, u, code0, 0.0, seed=2)
        c = run(model, u, code0, 0.1, seed=1)
        d = run(model, u, code0, 0.1, seed=2)
    assert torch.equal(a, b)
    assert not torch.equal(c, d)


def test_uniform_noise_option_is_nonnegative_and_not_centred():
    model = make(alpha=1.0, noise="uniform")
    code0 = torch.zeros(2000, N_CODE)
    model.W.weight.data.zero_()
    model.encoder.weight.data.zero_()
    model.encoder.bias.data.zero_()
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        _, r = model(None, code0, StepParams(noise_std=1.0), steps=1, generator=g, return_hidden=True)
    # with W = 0, r_1 = relu(0) + xi: uniform [0,1) has mean 1/2
    assert float(r[:, 1].min()) >= 0.0
    assert abs(float(r[:, 1].mean()) - 0.5) < 0.01


@pytest.mark.parametrize("site", ["inside", "outside"])
def test_adaptation_site(site):
    model = make(alpha=0.5, adaptation_site=site)
    r = torch.rand(4, 16)
    f = model.drift(r, b_a=0.3, lambda_v=1.0)
    pre = r @ model.W.weight.T
    a = 0.3 * r
    if site == "inside":
        want = 0.5 * (torch.relu(pre - a) - r)
    else:
        want = 0.5 * (torch.relu(pre) - a - r)
    torch.testing.assert_close(f, want)
    torch.testing.assert_close(model.drift(r, b_a=0.3, lambda_v=0.5), want / 0.5)


def test_blob_roundtrip_and_bad_alpha():
    model = make(alpha=0.2)
    again = from_blob(save_blob(model))
    for (k, v), (_, w) in zip(model.state_dict().items(), again.state_dict().items()):
        assert torch.equal(v, w), k
    with pytest.raises(ValueError, match="alpha"):
        NoisyRNN(2, 2, 2, ModelConfig(), alpha=0.0)


def test_gru_baseline_runs_and_learns_shape():
    model = make(alpha=0.5, cell="gru")
    u, code0 = inputs()
    y = model(u, code0, StepParams(noise_std=0.01), generator=torch.Generator().manual_seed(0))
    assert y.shape == (B, T, N_OUT)
    assert torch.isfinite(y).all()


def test_lambda1_rows_equal_cell_without_momentum_exactly():
    model = make(alpha=0.2)
    u, code0 = inputs()
    b = torch.full((B,), 0.3)
    lv = torch.tensor([1.0, 1.0, 1.0, 1.0, 0.5])  # the last row forces the momentum path on
    with torch.no_grad():
        without = run(model, u, code0, 0.1, seed=4, b_a=b, lambda_v=1.0)
        with_path = run(model, u, code0, 0.1, seed=4, b_a=b, lambda_v=lv)
    assert torch.equal(with_path[:4], without[:4])
    assert not torch.allclose(with_path[4], without[4])
