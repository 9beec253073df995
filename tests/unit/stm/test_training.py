"""The stm model and training: init, dynamics against a numpy loop, paired seeds, padding
exactness, population = single runs, metrics from the training pass, the free run."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from noisyrnn.core import bptt
from noisyrnn.core.training import generators as run_generators
from noisyrnn.studies.stm import model, tasks, training

N = 6


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny matmuls: one thread avoids thread-pool contention on a shared machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _grid(specs, **kw):
    args = dict(model_kw={"n_hidden": N, "dtype": torch.float64}, task_kw={}, copies_per_class=2,
                sigma=1e-3, device="cpu", label="test")
    args.update(kw)
    return training.train_grid(specs, **args)


def _spec(lr=0.1, delay_ms=20, seed=0, epochs=4, alpha=0.5):
    return {"lr": lr, "delay_ms": delay_ms, "seed": seed, "epochs": epochs, "alpha": alpha}


# ---------------------------------------------------------------------------------- model
def test_init_diag_zero_xavier_and_bias_bounds():
    n = 40
    w = model.build(1, n, [3], 0.5).network_weights(0)
    assert np.all(np.diag(w["W"]) == 0)
    assert np.count_nonzero(w["W"]) == n * n - n
    for name, fan_in, fan_out in (("W", n, n), ("W_in", 2, n), ("W_out", n, 2)):
        bound = math.sqrt(6 / (fan_in + fan_out))
        assert np.abs(w[name]).max() <= bound
        assert np.abs(w[name]).max() > 0.8 * bound  # uniform over the whole Xavier range
    for name, fan_in in (("b_in", 2), ("b_rec", n), ("b_out", n)):
        assert 0 < np.abs(w[name]).max() <= 1 / math.sqrt(fan_in)
    z = model.build(1, n, [3], 0.5, bias_init="zeros").network_weights(0)
    for name in ("b_in", "b_rec", "b_out"):
        assert not z[name].any()
    for name in ("W", "W_in", "W_out"):  # the bias choice leaves the weights alone
        np.testing.assert_array_equal(z[name], w[name])
    with pytest.raises(ValueError, match="bias_init"):
        model.build(1, n, [3], 0.5, bias_init="normal")


def test_paired_seeds_same_init_anywhere():
    pop = model.build(3, N, [5, 6, 5], [0.5, 0.5, 0.25])
    alone = model.build(1, N, [5], 0.5).network_weights(0)
    a, b, c = (pop.network_weights(j) for j in range(3))
    for name in model.WEIGHT_NAMES:
        np.testing.assert_array_equal(a[name], c[name])
        np.testing.assert_array_equal(a[name], alone[name])
        assert not np.array_equal(a[name], b[name])
    # through the trainer: lr 0 leaves the init; the same at every delay and position
    ds = _grid([_spec(lr=0.0, delay_ms=0, seed=5, epochs=1), _spec(lr=0.0, delay_ms=80, seed=5, epochs=1),
                _spec(lr=0.3, delay_ms=40, seed=6, epochs=2)])
    for j in (0, 1):
        for name in model.WEIGHT_NAMES:
            np.testing.assert_array_equal(ds[name].values[j], alone[name].astype(np.float64))


def _numpy_run(w, u, r0, alpha, linear=False):
    """r_{t+1} = (1-α) r_t + α tanh(W r_t + b_rec + W_in u_t + b_in); o_t from r_t."""
    r = r0.astype(np.float64)
    outs, rates = [], [r]
    for t in range(u.shape[1]):
        logit = r @ w["W_out"].T + w["b_out"]
        outs.append(logit if linear else 1 / (1 + np.exp(-logit)))
        r = (1 - alpha) * r + alpha * np.tanh(r @ w["W"].T + w["b_rec"] + u[:, t] @ w["W_in"].T + w["b_in"])
        rates.append(r)
    return np.stack(outs, 1), np.stack(rates, 1)


@pytest.mark.parametrize("alpha, linear", [(1.0, False), (0.5, False), (0.25, True)])
def test_noise_free_forward_equals_numpy_loop(alpha, linear):
    pop = model.build(2, N, [1, 2], alpha, linear_readout=linear, dtype=torch.float64)
    tr = tasks.trials(tasks.trial_layout(20), 2)
    u = torch.from_numpy(tr.u).double().expand(2, -1, -1, -1)
    rng = np.random.default_rng(0)
    r0 = rng.uniform(-0.5, 0.5, (2, 4, N))
    gens = [torch.Generator().manual_seed(s) for s in (0, 1)]
    with torch.no_grad():
        out, rates = pop(u, gens, 0.0, r0=torch.from_numpy(r0))
    assert out.shape == (2, 4, 20, 2) and rates.shape == (2, 4, 21, N)
    for j in range(2):
        o_np, r_np = _numpy_run(pop.network_weights(j), tr.u.astype(np.float64), r0[j], alpha, linear)
        np.testing.assert_allclose(out[j].numpy(), o_np, rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(rates[j].numpy(), r_np, rtol=1e-12, atol=1e-13)


def test_fused_rollout_equals_the_autograd_loop():
    """Training uses the core's fused BPTT with the noise folded into the drive; the plain
    autograd loop is the reference: same outputs, same gradients."""
    tr = tasks.trials(tasks.trial_layout(40), 2)
    u = torch.from_numpy(tr.u).double().expand(2, -1, -1, -1)
    y = torch.from_numpy(tr.targets).double()
    results = []
    for fused in (True, False):
        pop = model.build(2, N, [3, 4], [0.5, 0.25], dtype=torch.float64)
        gens = [torch.Generator().manual_seed(s) for s in (0, 1)]
        with bptt.use_fused(fused):
            out, rates = pop(u, gens, 0.05)
            ((out - y) ** 2).sum().backward()
        results.append((out.detach(), rates.detach(), {n: p.grad.clone() for n, p in pop.named_parameters()}))
    (o1, r1, g1), (o2, r2, g2) = results
    torch.testing.assert_close(o1, o2, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(r1, r2, rtol=1e-12, atol=1e-14)
    assert set(g1) == {"rec.weight", "rec.bias", "inp.weight", "inp.bias", "out.weight", "out.bias"}
    for name in g1:
        assert g1[name].abs().max() > 0, name
        torch.testing.assert_close(g1[name], g2[name], rtol=1e-10, atol=1e-14)


def test_noise_is_inside_tanh_and_r0_is_redrawn():
    pop = model.build(1, 50, [0], 1.0, bias_init="zeros", dtype=torch.float64)
    with torch.no_grad():
        for p in pop.parameters():
            p.zero_()
    u = torch.zeros(1, 40, 30, 2, dtype=torch.float64)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        _, rates = pop(u, [g], 3.0)
        _, again = pop(u, [g], 3.0)
    # zero weights, α = 1: r_{t+1} = tanh(ε_t), so |r| < 1 and atanh(r) ~ N(0, 3²)
    later = rates[0, :, 1:].numpy()
    assert np.abs(later).max() < 1
    assert abs(np.arctanh(np.clip(later, -1 + 1e-15, 1 - 1e-15)).std() - 3.0) < 0.15
    # r_0 = tanh(z), z ~ N(0, 0.1²), a new draw on each pass
    z = np.arctanh(rates[0, :, 0].numpy())
    assert abs(z.std() - 0.1) < 0.01
    assert not torch.equal(rates[0, :, 0], again[0, :, 0])


def test_from_weights_round_trip():
    pop = model.build(2, N, [4, 9], [0.5, 0.25])
    w = pop.stacked_weights()
    back = model.from_weights(w)
    one = model.from_weights(pop.network_weights(1))
    assert one.k == 1 and float(one.alpha[0]) == 0.25
    for name in model.WEIGHT_NAMES:
        np.testing.assert_array_equal(back.stacked_weights()[name], w[name])
        np.testing.assert_array_equal(one.network_weights(0)[name], w[name][1])


# ------------------------------------------------------------------------------- training
def test_epochs_for_by_hand():
    assert training.epochs_for(0.3, 30, 1000) == 1000
    assert training.epochs_for(0.01, 30, 1000) == 3000
    assert training.epochs_for(0.001, 100, 1000) == 100000
    assert training.epochs_for(0.02, 30, 1000) == 1500
    assert training.epochs_for(0.0248, 30, 1000) == 1210  # 1209.7 rounded up
    assert training.epochs_for(1.0, 30, 0) == 30


def test_padding_is_exact():
    short = _spec(lr=0.2, delay_ms=20, seed=0, epochs=6)
    long = _spec(lr=0.3, delay_ms=80, seed=1, epochs=4)
    together = _grid([long, short])
    alone = _grid([short])
    assert together["n_steps"].values.tolist() == [32, 20] and alone["n_steps"].values.tolist() == [20]
    np.testing.assert_allclose(together["loss"].values[1], alone["loss"].values[0], rtol=1e-10, atol=0)
    for var in ("accuracy", "reliability"):
        np.testing.assert_allclose(together[var].values[1], alone[var].values[0], rtol=1e-10)
    for name in model.WEIGHT_NAMES:
        np.testing.assert_allclose(together[name].values[1], alone[name].values[0], rtol=1e-9, atol=1e-12)
    # the short network was really trained (and differently from its init)
    init = model.build(1, N, [0], 0.5).network_weights(0)
    assert np.abs(alone["W"].values[0] - init["W"]).max() > 1e-4


def test_population_equals_single_runs():
    specs = [_spec(lr=0.3, seed=0, epochs=5), _spec(lr=0.05, seed=1, epochs=3),
             _spec(lr=0.1, delay_ms=40, seed=2, epochs=4, alpha=0.25)]
    kw = {"model_kw": {"n_hidden": N}}
    pop = _grid(specs, **kw)
    assert pop["W"].dtype == np.float32
    for j, s in enumerate(specs):
        one = _grid([s], **kw)
        n_ep = s["epochs"]
        np.testing.assert_allclose(pop["loss"].values[j, :n_ep], one["loss"].values[0], rtol=1e-5)
        assert np.isnan(pop["loss"].values[j, n_ep:]).all()  # frozen after its own epochs
        assert np.isnan(pop["accuracy"].values[j, n_ep:]).all()
        for name in model.WEIGHT_NAMES:
            np.testing.assert_allclose(pop[name].values[j], one[name].values[0], rtol=1e-5, atol=1e-6)


def test_first_epoch_metrics_are_the_training_pass_by_hand():
    """Epoch 1's loss, accuracy and reliability, recomputed in numpy from the same forward."""
    lay = tasks.trial_layout(40)
    ds = _grid([_spec(lr=0.1, delay_ms=40, seed=7, epochs=2)])
    pop = model.build(1, N, [7], 0.5, dtype=torch.float64)
    tr = tasks.trials(lay, 2)
    g = run_generators(7, torch.device("cpu"))["noise"]
    with torch.no_grad():
        out, _ = pop(torch.from_numpy(tr.u).double()[None], [g], 1e-3)
    o = out[0].numpy()
    t = lay["n_steps"]
    loss = (tr.weights[None, :, None] * (o - tr.targets) ** 2).sum() / (4 * t * 2)
    win = tr.window
    p = o / o.sum(-1, keepdims=True)
    acc = 1 - np.abs(p[:, win].argmax(-1) - tr.targets[:, win].argmax(-1)).mean()
    rel = np.mean([p[b, win, tr.labels[b]].mean() for b in range(4)])
    np.testing.assert_allclose(ds["loss"].values[0, 0], loss, rtol=1e-6)
    np.testing.assert_allclose(ds["accuracy"].values[0, 0], acc, rtol=1e-12)
    np.testing.assert_allclose(ds["reliability"].values[0, 0], rel, rtol=1e-6)


def test_dataset_metadata_and_coords():
    ds = _grid([_spec(epochs=2), _spec(lr=0.05, delay_ms=0, seed=1, epochs=3)],
               task_kw={"t_post_ms": 30})
    assert ds.sizes["net"] == 2 and ds["epoch"].values.tolist() == [1, 2, 3]
    assert ds["lr"].values.tolist() == [0.1, 0.05] and ds["delay_ms"].values.tolist() == [20, 0]
    assert ds["seed"].values.tolist() == [0, 1] and ds["epochs"].values.tolist() == [2, 3]
    assert ds["W"].dims == ("net", "neuron", "neuron_in") and ds["W_out"].shape == (2, 2, N)
    assert ds["n_steps"].values.tolist() == [26, 22]
    for name in (*ds.data_vars, *ds.coords):
        assert "long_name" in ds[name].attrs and "units" in ds[name].attrs, name


def test_free_run_is_the_cue1_trial_then_zeros():
    lay = tasks.trial_layout(40)
    ds = _grid([_spec(epochs=2), _spec(lr=0.2, delay_ms=40, seed=3, epochs=3)])
    rates = training.free_run(ds, 1, lay, extra_factor=9, sigma=1e-3, seed=11)
    t = lay["n_steps"]
    assert rates.shape == (10 * t, N) and rates.dtype == np.float64
    # by hand: cue 1 (channel 0) for the 6 cue steps, then zero input for the rest
    u = np.zeros((1, 1, 10 * t, 2))
    u[0, 0, :6, 0] = 1
    pop = model.from_weights({n: ds[n].values[1] for n in training.WEIGHT_VARS}, dtype=torch.float64)
    with torch.no_grad():
        _, expect = pop(torch.from_numpy(u), [torch.Generator().manual_seed(11)], 1e-3)
    np.testing.assert_allclose(rates, expect[0, 0, :-1].numpy(), rtol=1e-12, atol=1e-14)
    other = training.free_run(ds, 1, lay, extra_factor=9, sigma=1e-3, seed=12)
    assert not np.array_equal(other, rates)


def test_checkpoint_resume_ends_as_an_uninterrupted_run(tmp_path, monkeypatch):
    specs = [_spec(lr=0.2, seed=0, epochs=5), _spec(lr=0.1, delay_ms=40, seed=1, epochs=3)]
    whole = _grid(specs)
    ckpt = tmp_path / "pop.pt"
    real = training.train_population
    monkeypatch.setattr(training, "train_population", lambda *a, **kw: real(*a, stop_after=2, **kw))
    _grid(specs, checkpoint=ckpt, checkpoint_every=2)  # interrupted after epoch 2
    assert ckpt.exists()
    assert torch.load(ckpt, weights_only=False)["iteration"] == 2
    monkeypatch.setattr(training, "train_population", real)
    calls = []
    loss = training.DelayObjective.loss
    monkeypatch.setattr(training.DelayObjective, "loss", lambda self, *a: calls.append(1) or loss(self, *a))
    resumed = _grid(specs, checkpoint=ckpt, checkpoint_every=2)
    assert len(calls) == 3  # epochs 3, 4, 5 only: it resumed
    np.testing.assert_array_equal(resumed["loss"].values, whole["loss"].values)
    np.testing.assert_array_equal(resumed["accuracy"].values, whole["accuracy"].values)
    for name in model.WEIGHT_NAMES:
        np.testing.assert_array_equal(resumed[name].values, whole[name].values)


def test_control_trains_with_a_linear_readout():
    ds = _grid([_spec(lr=0.05, delay_ms=40, epochs=3), _spec(lr=0.05, delay_ms=80, epochs=3)],
               model_kw={"n_hidden": N, "linear_readout": True},
               task_kw={"control": True})
    assert ds.attrs["linear_readout"] == 1 and ds.attrs["task_control"] == 1
    assert ds["n_steps"].values.tolist() == [6 + 8, 6 + 16]
    assert np.isfinite(ds["loss"].values).all()
    # a linear readout is not squashed: the same weights through a sigmoid give other outputs
    lay = tasks.trial_layout(40, control=True)
    u = torch.from_numpy(tasks.trials(lay, 1).u).double()[:1][None]
    w = {n: ds[n].values[0] for n in training.WEIGHT_VARS}
    outs = []
    for linear in (True, False):
        pop = model.from_weights(w, linear_readout=linear, dtype=torch.float64)
        with torch.no_grad():
            outs.append(pop(u, [torch.Generator().manual_seed(0)], 0.0)[0])
    torch.testing.assert_close(torch.sigmoid(outs[0]), outs[1])
