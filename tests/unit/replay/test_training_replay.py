"""Training learns, resumes bit-exactly, fails loudly on divergence; replay batches variants."""

import numpy as np
import pytest
import torch

from noisyrnn.core.cell import ModelConfig, StepParams, build_model
from noisyrnn.core.training import TrainingDiverged, train
from noisyrnn.studies.replay import replay, tasks
from noisyrnn.studies.replay.replay import ReplayConfig
from noisyrnn.studies.replay.tasks import DecodeConfig, TaskConfig
from noisyrnn.studies.replay.training import PathBatcher, TrainConfig, training_params

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def tmaze():
    return tasks.generate(TaskConfig(name="tmaze", n_train=200, n_test=40, seq_len=30), seed=0)


@pytest.fixture(scope="module")
def box():
    cfg = TaskConfig(name="box", n_train=100, n_test=20, seq_len=20, n_place_cells=64)
    return tasks.generate(cfg, seed=0)


def _net(batcher, alpha=0.2, n=32, seed=0, **model):
    return build_model(batcher.n_in, batcher.n_code, batcher.n_out, ModelConfig(n_hidden=n, **model),
                       alpha, seed=seed)


def test_training_reduces_loss_and_position_error(tmaze):
    cfg = TrainConfig(iterations=150, batch_size=32, log_every=50, n_eval=40)
    b = PathBatcher(tmaze, cfg, CPU)
    hist = train(_net(b), b, cfg, training_params(cfg, 0.01), seed=0)
    assert list(hist["iteration"].values) == [50, 100, 150]
    loss = hist["test_loss"].values
    assert loss[-1] < 0.5 * loss[0]
    # a 2-d position readout: the error is in metres and must beat the trivial spread of the
    # T-maze (~0.4 m from the mean position)
    assert hist["position_error"].values[-1] < 0.2


def test_box_training_uses_place_code_targets(box):
    cfg = TrainConfig(iterations=5, batch_size=8, log_every=5, n_eval=10)
    b = PathBatcher(box, cfg, CPU)
    assert b.n_out == 64 and b.n_code == 64
    batch = b.train_batch(torch.Generator().manual_seed(0), torch.Generator().manual_seed(1))
    torch.testing.assert_close(batch.target.sum(-1), torch.ones(8, 20))
    hist = train(_net(b), b, cfg, training_params(cfg, 0.01), seed=0)
    assert np.isfinite(hist["position_error"].values).all()


def test_resumed_training_equals_uninterrupted(tmaze, tmp_path):
    cfg = TrainConfig(iterations=40, batch_size=16, log_every=10, checkpoint_every=10, mask_k=2,
                      modifiers_in_training=True, train_lambda_v=0.7)
    b = PathBatcher(tmaze, cfg, CPU)
    full = _net(b, seed=1)
    h_full = train(full, b, cfg, training_params(cfg, 0.01), seed=3)

    ckpt = tmp_path / "ckpt.pt"
    part = _net(b, seed=1)
    train(part, b, cfg, training_params(cfg, 0.01), seed=3, checkpoint=ckpt, stop_after=20)
    assert ckpt.exists()
    resumed = _net(b, seed=99)  # different init: everything must come from the checkpoint
    h_res = train(resumed, b, cfg, training_params(cfg, 0.01), seed=3, checkpoint=ckpt)
    for (k, v), w in zip(full.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(v, w), k
    np.testing.assert_array_equal(h_full["test_loss"].values, h_res["test_loss"].values)
    np.testing.assert_array_equal(h_full["train_loss"].values, h_res["train_loss"].values)


def test_diverging_training_names_iteration_and_last_finite_loss(tmaze):
    cfg = TrainConfig(iterations=50, batch_size=8, log_every=10, lr=1e3)
    b = PathBatcher(tmaze, cfg, CPU)
    net = _net(b, alpha=1.0)
    with torch.no_grad():
        # r grows x50 per step: float32 overflows within the 30-step sequence
        net.W.weight.copy_(50.0 * torch.eye(32))
        net.encoder.bias.fill_(1.0)
    with pytest.raises(TrainingDiverged, match=r"iteration \d+.*last finite loss"):
        train(net, b, cfg, training_params(cfg, 0.01), seed=0)


def _replay(tmaze, **rc):
    cfg = TrainConfig(iterations=30, batch_size=16, log_every=30)
    b = PathBatcher(tmaze, cfg, CPU)
    net = _net(b)
    train(net, b, cfg, training_params(cfg, 0.01), seed=0)
    info = tasks.task_info(tmaze)
    rcfg = ReplayConfig(**{"steps": 25, "n_traj": 6, "b_a": (0.0, 0.5), "lambda_v": (1.0, 0.5),
                           "hidden_every": 5, "hidden_trials": 2, **rc})
    starts = replay.start_positions(info, tmaze, rcfg.n_traj, seed=0)
    out = replay.replay(net, info, starts, rcfg, sigma_train=0.01, decode=DecodeConfig(), seed=0)
    return net, info, starts, rcfg, out


def test_replay_batches_variants_and_equals_a_single_variant_run(tmaze):
    net, info, starts, rcfg, out = _replay(tmaze, noise_scale=0.0)
    assert out["position"].shape == (4, 6, 26, 2)
    assert out["hidden"].shape == (4, 2, 6, 32)
    np.testing.assert_allclose(out["b_a"].values, [0, 0, 0.5, 0.5])
    np.testing.assert_allclose(out["lambda_v"].values, [1, 0.5, 1, 0.5])
    # T-maze replays start at the stem base
    np.testing.assert_allclose(starts, 0.0)
    # variant 3 (b_a=0.5, lambda_v=0.5) run on its own, noise off, must give the same path
    with torch.no_grad():
        code0 = tasks.encode(info, torch.as_tensor(starts))
        _, r = net(None, code0, StepParams(b_a=0.5, lambda_v=0.5, tau_a=rcfg.tau_a), steps=25,
                   return_hidden=True)
        y = net.readout(r)
    np.testing.assert_allclose(out["position"].values[3], y.numpy(), rtol=1e-5, atol=1e-6)
    assert (out["diverge_step"].values == -1).all()


def test_replay_records_divergence_without_crashing(tmaze):
    cfg = TrainConfig(iterations=1, batch_size=4, log_every=1)
    b = PathBatcher(tmaze, cfg, CPU)
    net = _net(b, alpha=1.0)
    with torch.no_grad():
        net.W.weight.copy_(3.0 * torch.eye(32))  # r grows x3 per step once positive
        net.encoder.bias.fill_(1.0)
    info = tasks.task_info(tmaze)
    rcfg = ReplayConfig(steps=20, n_traj=3, b_a=(0.0,), lambda_v=(1.0,), noise_scale=0.0,
                        divergence_threshold=100.0, hidden_trials=1)
    starts = replay.start_positions(info, tmaze, 3, seed=0)
    out = replay.replay(net, info, starts, rcfg, sigma_train=0.01, decode=DecodeConfig(), seed=0)
    # |r| starts near 1 and triples each step: above 100 first at step 5 (3^5 = 243 > 100)
    r0 = net.encoder(tasks.encode(info, torch.as_tensor(starts))).detach().relu().amax(1)
    expected = int(np.ceil(np.log(100.0 / float(r0[0])) / np.log(3.0)))
    assert (out["diverge_step"].values == expected).all()
    pos = out["position"].values
    assert np.isnan(pos[0, :, expected:]).all()
    assert np.isfinite(pos[0, :, :expected]).all()
    assert (out["diverged"].values == 1).all()


def test_replay_out_of_bounds_is_recorded_not_clipped(tmaze):
    net, info, starts, rcfg, out = _replay(tmaze, noise_scale=0.0)
    pos = out["position"].values
    inside = tasks.in_bounds(info, pos, rcfg.bounds_tolerance)
    np.testing.assert_allclose(out["out_of_bounds"].values, (~inside).mean(-1), atol=1e-6)


def test_box_defaults_are_the_predecessor_s(box):
    """No readout bias and the per-step displacement as input (issue: with velocity in m/s and a
    readout bias the box network stays at chance)."""
    assert ModelConfig().readout_bias is False and TaskConfig().input_units == "displacement"
    cfg = TrainConfig(iterations=1, batch_size=4, n_eval=4)
    b = PathBatcher(box, cfg, CPU)
    net = _net(b)
    assert net.readout.bias is None
    assert _net(b, readout_bias=True).readout.bias.shape == (64,)
    batch = b.train_batch(torch.Generator().manual_seed(0), torch.Generator().manual_seed(1))
    # the input of step t is x[t+1] - x[t] in metres, not m/s
    torch.testing.assert_close(batch.u[:, 1:], batch.position[:, 1:] - batch.position[:, :-1])
    # box steps are Rayleigh(0.26π m/s)·dt long (mean b·√(π/2)·dt; walls slow a few)
    step = torch.linalg.vector_norm(batch.u, dim=-1)
    assert float(step.mean()) == pytest.approx(0.26 * np.pi * np.sqrt(np.pi / 2) * 0.02, rel=0.3)


def test_online_batches_are_fresh_seeded_and_from_the_generator(box):
    cfg = TrainConfig(iterations=1, batch_size=6, n_eval=4, data="online")
    b = PathBatcher(box, cfg, CPU)
    g = lambda s: torch.Generator().manual_seed(s)  # noqa: E731
    one, two = b.train_batch(g(0), g(1)), b.train_batch(g(0), g(1))
    torch.testing.assert_close(one.u, two.u)  # same seed, same batch
    idx = g(0)
    first, second = b.train_batch(idx, g(1)), b.train_batch(idx, g(1))
    assert not torch.equal(first.position, second.position)  # a fresh batch every iteration
    # not rows of the stored split
    stored = torch.as_tensor(tasks.split_arrays(box, "train")[0][:, 1:])
    assert not any(torch.equal(first.position[0], s) for s in stored)
    # paths of the box generator: inside the box, the input is the step of the positions
    assert float(first.position.abs().max()) <= 1.1
    torch.testing.assert_close(first.u[:, 1:], first.position[:, 1:] - first.position[:, :-1])
    torch.testing.assert_close(first.target, tasks.encode(b.info, first.position))
    with pytest.raises(ValueError, match="training.data"):
        TrainConfig(data="fresh")
