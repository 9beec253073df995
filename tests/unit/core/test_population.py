"""The population trainer against the single-network trainer, which is the reference.

Truth here is :func:`noisyrnn.core.training.train` on one NoisyRNN with torch.optim.Adam (and
torch.optim.SGD / clip_grad_norm_ for the optimiser tests): independent code paths (nn.Linear
and torch's optimisers, not bmm and the batched optimisers).

* K = 1 through the population equals the single trainer bitwise (weights and history), with
  the hand-written backward through time (core.bptt, the default for the plain cell) and with
  autograd through the cell's loop.
* K > 1 with per-network lr, seed, leak, mask and modifiers: each network matches itself
  trained alone within TOL over 20 iterations (on this CPU it is bitwise; the tolerance is
  what is promised where BLAS kernels differ by batch count).
* One diverging network is frozen at its last finite weights; the others are unaffected.
* A checkpointed, interrupted and resumed population is bitwise the uninterrupted one.
"""

from __future__ import annotations

import pytest
import torch

from noisyrnn.core import bptt, packing
from noisyrnn.core.cell import ModelConfig, StepParams, build_model
from noisyrnn.core.optim import PopulationAdam, PopulationSGD, clip_grad_norm_
from noisyrnn.core.population import PopulationRNN
from noisyrnn.core.training import train, train_population
from noisyrnn.studies.replay import tasks
from noisyrnn.studies.replay.tasks import TaskConfig
from noisyrnn.studies.replay.training import (
    PathBatcher,
    PopulationPathBatcher,
    TrainConfig,
    training_params,
)

CPU = torch.device("cpu")
# Stated tolerance for K > 1: max |w_pop - w_alone| <= TOL * max(1, max |w_alone|), after 20
# iterations (float32 weights of order 0.1-1; Adam steps of order lr).
TOL = 1e-5


@pytest.fixture(scope="module")
def box():
    return tasks.generate(TaskConfig(name="box", n_train=48, n_test=24, seq_len=12,
                                     n_place_cells=36), seed=0)


@pytest.fixture(scope="module")
def tmaze():
    return tasks.generate(TaskConfig(name="tmaze", n_train=48, n_test=24, seq_len=12), seed=0)


def _cfg(**kw):
    base = dict(alpha=0.2, iterations=20, batch_size=8, log_every=5, n_eval=8)
    return TrainConfig(**{**base, **kw})


def _alone(ds, mcfg, cfg, init_seed, seed, sigma=0.01, **train_kw):
    batcher = PathBatcher(ds, cfg, CPU)
    model = build_model(batcher.n_in, batcher.n_code, batcher.n_out, mcfg, cfg.alpha, seed=init_seed)
    hist = train(model, batcher, cfg, training_params(cfg, sigma), seed=seed, **train_kw)
    return model, hist


def _population(ds, mcfg, cfgs, init_seeds, seeds, sigma=0.01, params=None, **train_kw):
    objective = PopulationPathBatcher(ds, cfgs, CPU)
    pop = PopulationRNN.build(objective.n_in, objective.n_code, objective.n_out, mcfg,
                              [c.alpha for c in cfgs], init_seeds)
    params = params or training_params(cfgs[0], sigma)
    hists = train_population(pop, objective, cfgs, params, seeds=seeds, **train_kw)
    return pop, hists


def _state(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _max_rel_diff(a: dict, b: dict) -> float:
    worst = 0.0
    for key in a:
        scale = max(1.0, float(a[key].abs().max()))
        worst = max(worst, float((a[key] - b[key]).abs().max()) / scale)
    return worst


@pytest.mark.parametrize("case", [
    dict(task="box", model={}, train={}),
    dict(task="tmaze", model={"activation": "tanh", "bias": True}, train={"mask_k": 2}),
    dict(task="tmaze", model={}, train={"modifiers_in_training": True, "train_lambda_v": 0.7,
                                        "grad_clip": 0.05}),
    dict(task="tmaze", model={"cell": "gru"}, train={"mask_mode": "bernoulli", "mask_k": 3}),
])
@pytest.mark.parametrize("fused", [True, False], ids=["fused-bptt", "autograd"])
def test_k1_population_is_bitwise_the_single_trainer(case, fused, box, tmaze):
    ds = box if case["task"] == "box" else tmaze
    mcfg = ModelConfig(n_hidden=24, **case["model"])
    cfg = _cfg(**case["train"])
    with bptt.use_fused(fused):
        single, hist = _alone(ds, mcfg, cfg, init_seed=11, seed=5)
        pop, hists = _population(ds, mcfg, [cfg], [11], [5])
    net = pop.network(0)
    for key, value in single.state_dict().items():
        assert torch.equal(value, net.state_dict()[key]), key
    assert hist.equals(hists[0])
    assert hists[0].sizes["iteration"] == 4  # logged at 5, 10, 15, 20


def test_each_network_of_a_population_trains_as_it_would_alone(tmaze):
    mcfg = ModelConfig(n_hidden=24)
    cfgs = [_cfg(alpha=0.2, lr=1e-3, mask_k=1), _cfg(alpha=1.0, lr=3e-3, mask_k=2),
            _cfg(alpha=0.5, lr=1e-2, mask_k=4, modifiers_in_training=True, train_lambda_v=0.7),
            _cfg(alpha=0.2, lr=3e-4, mask_k=1)]
    init_seeds, seeds = [21, 22, 23, 24], [1, 2, 3, 4]
    # per-network modifiers in training: network 2 has momentum and adaptation, the others none
    params = StepParams(b_a=torch.tensor([0.0, 0.0, 0.3, 0.0]), tau_a=8.0,
                        lambda_v=torch.tensor([1.0, 1.0, 0.7, 1.0]), noise_std=0.01)
    pop, hists = _population(tmaze, mcfg, cfgs, init_seeds, seeds, params=params)
    for j, cfg in enumerate(cfgs):
        single, hist = _alone(tmaze, mcfg, cfg, init_seeds[j], seeds[j])
        assert _max_rel_diff(_state(single), _state(pop.network(j))) <= TOL, j
        assert abs(float(hist["test_loss"][-1]) - float(hists[j]["test_loss"][-1])) <= 1e-4
    # different lrs and seeds really give different networks (the test can fail)
    w = [pop.network(j).W.weight for j in range(4)]
    assert not torch.allclose(w[0], w[3])


def test_group_size_does_not_change_a_network(tmaze):
    mcfg = ModelConfig(n_hidden=24)
    cfg = _cfg()
    together, _ = _population(tmaze, mcfg, [cfg] * 3, [31, 32, 33], [7, 8, 9])
    apart, _ = _population(tmaze, mcfg, [cfg], [32], [8])
    assert _max_rel_diff(_state(apart.network(0)), _state(together.network(1))) <= TOL


def test_a_diverging_network_is_frozen_and_the_others_go_on(tmaze, caplog):
    mcfg = ModelConfig(n_hidden=24)
    good, bad = _cfg(lr=1e-3), _cfg(lr=1e4)
    pop, hists = _population(tmaze, mcfg, [good, bad, good], [41, 42, 43], [1, 2, 3],
                             sigma=0.0)
    assert "diverged" not in " ".join(hists[0].attrs) and "diverged_at_iteration" not in hists[2].attrs
    at = hists[1].attrs["diverged_at_iteration"]
    assert 1 < at <= 20 and "diverged at iteration" in caplog.text
    # the others are what they are alone
    for j, init in ((0, 41), (2, 43)):
        single, _ = _alone(tmaze, mcfg, good, init, j + 1, sigma=0.0)
        assert _max_rel_diff(_state(single), _state(pop.network(j))) <= TOL
    # the diverged one holds its last finite weights: those after iteration at - 1
    frozen = _state(pop.network(1))
    assert all(torch.isfinite(v).all() for v in frozen.values())
    before, _ = _alone(tmaze, mcfg, bad, 42, 2, sigma=0.0, stop_after=at - 1)
    assert _max_rel_diff(_state(before), frozen) <= TOL
    # its history stops before the divergence
    assert int(hists[1]["iteration"].max()) < at if hists[1].sizes["iteration"] else True


def test_each_network_stops_after_its_own_iterations(tmaze):
    mcfg = ModelConfig(n_hidden=24)
    short, long = _cfg(iterations=7), _cfg(iterations=20, lr=2e-3)
    pop, hists = _population(tmaze, mcfg, [short, long], [51, 52], [1, 2])
    assert list(hists[0]["iteration"].values) == [5, 7]
    assert list(hists[1]["iteration"].values) == [5, 10, 15, 20]
    single, hist = _alone(tmaze, mcfg, short, 51, 1)
    assert _max_rel_diff(_state(single), _state(pop.network(0))) <= TOL
    assert list(hist["iteration"].values) == [5, 7]


def test_resumed_population_is_bitwise_the_uninterrupted_one(tmaze, tmp_path):
    mcfg = ModelConfig(n_hidden=24)
    cfgs = [_cfg(checkpoint_every=5, lr=1e-3), _cfg(checkpoint_every=5, lr=5e-3, mask_k=2)]
    whole, whole_h = _population(tmaze, mcfg, cfgs, [61, 62], [1, 2])
    ckpt = tmp_path / "pop.ckpt"
    _population(tmaze, mcfg, cfgs, [61, 62], [1, 2], checkpoint=ckpt, stop_after=12)
    assert ckpt.exists()  # saved at 10; the run stopped at 12, so 11 and 12 are redone
    resumed, resumed_h = _population(tmaze, mcfg, cfgs, [61, 62], [1, 2], checkpoint=ckpt)
    for j in range(2):
        a, b = _state(whole.network(j)), _state(resumed.network(j))
        assert all(torch.equal(a[k], b[k]) for k in a)
        assert whole_h[j].equals(resumed_h[j])


def test_checkpoint_of_another_population_size_is_refused(tmaze, tmp_path):
    mcfg = ModelConfig(n_hidden=24)
    cfg = _cfg(checkpoint_every=5)
    ckpt = tmp_path / "pop.ckpt"
    _population(tmaze, mcfg, [cfg, cfg], [1, 2], [1, 2], checkpoint=ckpt, stop_after=5)
    with pytest.raises(ValueError, match="holds 2 networks, not 1"):
        _population(tmaze, mcfg, [cfg], [1], [1], checkpoint=ckpt)


# ----------------------------------------------------------------------------- optimisers
def _grads(k, shape, steps, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(k, *shape, generator=g) for _ in range(steps)]


@pytest.mark.parametrize("kind", ["adam", "sgd"])
def test_batched_optimisers_are_torch_per_network(kind):
    k, shape, steps = 4, (6, 5), 8
    lrs = [1e-3, 3e-2, 0.316, 1e-4]
    wds = [0.0, 1e-7, 1e-2, 0.0]
    start = torch.randn(k, *shape, generator=torch.Generator().manual_seed(1))
    pop = start.clone().requires_grad_()
    opt = (PopulationAdam([pop], lrs, weight_decay=wds) if kind == "adam"
           else PopulationSGD([pop], lrs, momentum=0.9, weight_decay=wds))
    grads = _grads(k, shape, steps)
    for g in grads:
        pop.grad = g.clone()
        opt.step()
    for j in range(k):
        p = start[j].clone().requires_grad_()
        ref = (torch.optim.Adam([p], lr=lrs[j], weight_decay=wds[j]) if kind == "adam"
               else torch.optim.SGD([p], lr=lrs[j], momentum=0.9, weight_decay=wds[j]))
        for g in grads:
            p.grad = g[j].clone()
            ref.step()
        assert torch.equal(p.detach(), pop.detach()[j]), (kind, j)


def test_step_leaves_inactive_networks_and_their_moments_untouched():
    k = 3
    p = torch.randn(k, 4, 4).requires_grad_()
    opt = PopulationAdam([p], 1e-2)
    p.grad = torch.randn(k, 4, 4)
    opt.step()
    before = p.detach().clone()
    moments = {n: s.clone() for n, s in opt.state[0].items()}
    p.grad = torch.full((k, 4, 4), float("nan"))
    p.grad[0] = 1.0
    opt.step(torch.tensor([True, False, False]))
    assert not torch.equal(p.detach()[0], before[0])
    assert torch.equal(p.detach()[1:], before[1:])
    for n, s in opt.state[0].items():
        assert torch.equal(s[1:], moments[n][1:]), n


def test_clip_grad_norm_per_network_matches_torch():
    k = 3
    g = torch.Generator().manual_seed(4)
    a, b = torch.randn(k, 5, 5, generator=g).requires_grad_(), torch.randn(k, 7, generator=g).requires_grad_()
    a.grad, b.grad = torch.randn(k, 5, 5, generator=g) * 3, torch.randn(k, 7, generator=g)
    ref = [(a.grad[j].clone(), b.grad[j].clone()) for j in range(k)]
    norms = clip_grad_norm_([a, b], 2.0)
    for j in range(k):
        pa, pb = torch.zeros(5, 5, requires_grad=True), torch.zeros(7, requires_grad=True)
        pa.grad, pb.grad = ref[j][0].clone(), ref[j][1].clone()
        total = torch.nn.utils.clip_grad_norm_([pa, pb], 2.0)
        torch.testing.assert_close(norms[j], total)
        torch.testing.assert_close(a.grad[j], pa.grad)
        torch.testing.assert_close(b.grad[j], pb.grad)


def test_optimiser_refuses_wrong_shapes():
    with pytest.raises(ValueError, match="needs a float or 3 values"):
        PopulationSGD([torch.zeros(3, 2, requires_grad=True)], [0.1, 0.2])
    with pytest.raises(ValueError, match="Nesterov"):
        PopulationSGD([torch.zeros(3, 2, requires_grad=True)], 0.1, nesterov=True)


# ----------------------------------------------------------------------------- model
def test_stack_and_network_round_trip_and_shape_errors():
    cfg = ModelConfig(n_hidden=8)
    nets = [build_model(2, 3, 3, cfg, a, seed=s) for a, s in ((0.2, 1), (1.0, 2))]
    pop = PopulationRNN.stack(nets)
    assert pop.W.weight.shape == (2, 8, 8) and pop.alpha.tolist() == pytest.approx([0.2, 1.0])
    for j, net in enumerate(nets):
        back = pop.network(j).state_dict()
        assert all(torch.equal(v, back[k]) for k, v in net.state_dict().items())
    with pytest.raises(ValueError, match="share the model config"):
        PopulationRNN.stack([nets[0], build_model(2, 3, 3, ModelConfig(n_hidden=9), 0.2, seed=1)])
    u, code = torch.zeros(2, 4, 5, 2), torch.zeros(2, 4, 3)
    with pytest.raises(ValueError, match="one noise generator per network"):
        pop(u, code, StepParams(noise_std=0.1), generator=torch.Generator())
    with pytest.raises(ValueError, match=r"expected \(2, 4, T, 2\)"):
        pop(torch.zeros(2, 4, 5, 3), code, StepParams())
    with pytest.raises(ValueError, match="one value per network"):
        pop(u, code, StepParams(b_a=torch.tensor([0.1, 0.2, 0.3])))


def test_population_drift_is_each_networks_drift():
    # 8 states x N = 16: above torch's size where bmm and mm switch to a naive loop (< 400
    # multiply-adds per product), so both take the same gemm
    cfg = ModelConfig(n_hidden=16, adaptation_site="outside")
    nets = [build_model(2, 3, 3, cfg, a, seed=s) for a, s in ((0.2, 1), (1.0, 2), (0.5, 3))]
    pop = PopulationRNN.stack(nets)
    r = torch.randn(3, 8, 16, generator=torch.Generator().manual_seed(0))
    b_a, lam = [0.0, 0.3, 0.5], [1.0, 0.7, 0.5]
    for velocity in ("terminal", "first_step"):
        got = pop.drift(r, b_a=torch.tensor(b_a), lambda_v=torch.tensor(lam), velocity=velocity)
        for j, net in enumerate(nets):
            want = net.drift(r[j], b_a=b_a[j], lambda_v=lam[j], velocity=velocity)
            assert torch.equal(got[j], want), (velocity, j)


# ----------------------------------------------------------------------------- packing
def test_chunks_and_group_sizes_by_hand():
    assert packing.chunks(range(9), 4) == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert packing.chunks([5, 6, 7], 8) == [[5, 6, 7]]
    assert packing.chunks(range(5), 2) == [[0, 1], [2, 3], [4]]
    assert packing.chunks([3], 1) == [[3]]
    assert packing.group_size(100.0, 1000.0, 5) == 5
    assert packing.group_size(300.0, 1000.0, 5) == 3
    assert packing.group_size(5000.0, 1000.0, 5) == 1
    assert packing.group_size(1.0, 1000.0, 5, requested=2) == 2
    # 10 (B, N) float32 tensors per step: 10 * 2 * 3 * 4 floats, io 3 * 2 * 3 * (1 + 1),
    # weights 4 * (16 + 4 * 4)
    assert packing.training_memory_mb(4, 2, 3, 1, 1) == pytest.approx(4 * (240 + 36 + 128) / 1e6)
    with pytest.raises(ValueError, match="group size 0"):
        packing.chunks([1], 0)


def test_k1_sgd_population_is_bitwise_the_single_trainer(tmaze):
    """The short-term-memory study's optimiser: SGD with momentum and weight decay."""
    import dataclasses

    @dataclasses.dataclass(frozen=True)
    class Sgd:
        base: TrainConfig
        optimizer: str = "sgd"
        momentum: float = 0.9
        weight_decay: float = 1e-3

        def __getattr__(self, name):
            return getattr(self.base, name)

    mcfg = ModelConfig(n_hidden=24, activation="tanh", bias=True)
    cfg = Sgd(_cfg(lr=0.05))
    batcher = PathBatcher(tmaze, cfg.base, CPU)
    single = build_model(batcher.n_in, batcher.n_code, batcher.n_out, mcfg, 0.2, seed=3)
    hist = train(single, batcher, cfg, training_params(cfg.base, 0.01), seed=4)
    pop, hists = _population(tmaze, mcfg, [cfg], [3], [4])
    net = pop.network(0).state_dict()
    assert all(torch.equal(v, net[k]) for k, v in single.state_dict().items())
    assert hist.equals(hists[0])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device (runs on the GPU machine)")
def test_population_on_cuda_matches_the_cpu_within_tolerance(tmaze):
    """CUDA's generators and kernels differ from the CPU's, so only the noise-free loop can be
    compared; it must agree within float32 tolerance after 20 iterations."""
    mcfg = ModelConfig(n_hidden=24)
    cfgs = [_cfg(lr=1e-3), _cfg(lr=3e-3, alpha=1.0)]
    results = {}
    for dev in ("cpu", "cuda"):
        objective = PopulationPathBatcher(tmaze, cfgs, torch.device(dev))
        pop = PopulationRNN.build(objective.n_in, objective.n_code, objective.n_out, mcfg,
                                  [c.alpha for c in cfgs], [1, 2])
        train_population(pop, objective, cfgs, training_params(cfgs[0], 0.0), seeds=[1, 2])
        results[dev] = {k: v.cpu() for k, v in pop.state_dict().items()}
    assert _max_rel_diff(results["cpu"], results["cuda"]) <= 1e-3
