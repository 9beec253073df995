"""The hmm model and trainer: initialisation, the Gumbel readout, the first-symbol convention,
epoch batching, and a population that equals each network trained alone."""

import math

import numpy as np
import pytest
import torch

from noisyrnn.studies.hmm import hmms, model, training


def test_init_is_torch_default_and_depends_on_the_seed_alone():
    w = model.init_network(20, 5, seed=3)
    assert w["W_ih"].abs().max() <= 1 / math.sqrt(5)
    assert w["W_hh"].abs().max() <= 1 / math.sqrt(20)
    assert w["A"].shape == (3, 20)
    pop = model.HMMRNNPopulation(20, 5, [7, 3])
    torch.testing.assert_close(pop.W_hh[1].detach(), w["W_hh"])
    with pytest.raises(ValueError, match="init"):
        model.init_network(4, 2, 0, "xavier")


def test_gumbel_hard_is_one_hot_forward_and_softmax_backward():
    logits = torch.tensor([[0.3, -1.0, 2.0]], requires_grad=True)
    u = torch.rand(1, 3, generator=torch.Generator().manual_seed(0))
    out = model.gumbel_hard(logits, u)
    assert out.detach().sum() == 1 and set(out.detach().flatten().tolist()) <= {0.0, 1.0}
    (out * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
    g = -torch.log(-torch.log(u))
    soft = torch.softmax(logits.detach() + g, -1)
    want = soft * (torch.tensor([1.0, 2.0, 3.0]) - (soft * torch.tensor([1.0, 2.0, 3.0])).sum())
    torch.testing.assert_close(logits.grad, want)


def test_gumbel_samples_follow_the_softmax():
    logits = torch.tensor([1.0, 0.0, -1.0]).expand(40000, 3)
    u = torch.rand(40000, 3, generator=torch.Generator().manual_seed(1))
    freq = model.gumbel_hard(logits, u).mean(0)
    torch.testing.assert_close(freq, torch.softmax(logits[0], -1), atol=0.01, rtol=0)


def test_first_symbol_from_h0_is_uniform():
    pop = model.HMMRNNPopulation(8, 2, [0], first_symbol="h0")
    x = torch.randn(1, 3000, 4, 2)
    y = pop.logits(x)
    assert y.shape == (1, 3000, 5, 3) and torch.all(y[:, :, 0] == 0)
    u = torch.rand(1, 3000, 5, 3, generator=torch.Generator().manual_seed(0))
    first = pop.emit(x, u)[0, :, 0].mean(0)
    torch.testing.assert_close(first, torch.full((3,), 1 / 3), atol=0.03, rtol=0)
    after = model.HMMRNNPopulation(8, 2, [0], first_symbol="after_update")
    assert after.logits(torch.randn(1, 2, 5, 2)).shape == (1, 2, 5, 3)
    assert model.steps_for(5, "h0") == 4 and model.steps_for(5, "after_update") == 5


class _Recorder:
    def __init__(self):
        self.batches = []

    def __call__(self, e, target):
        self.batches.append(target.detach().clone())
        return (e - target).pow(2).mean((1, 2))


def test_an_epoch_sees_every_training_sequence_once_with_the_last_batch_kept():
    rng = np.random.default_rng(0)
    _, sym = hmms.sample(hmms.chain(2), 23, 4, rng)
    data = hmms.one_hot(sym)
    obj = training.SinkhornObjective(data, data[:5], seeds=[0], batch_size=10,
                                     batch_order="shuffle_keep_last", val_every=1,
                                     checkpoint_every=0, blur=0.2, scaling=0.5, device="cpu")
    obj.loss_fn = _Recorder()
    pop = model.HMMRNNPopulation(6, 2, [0])
    gens = [training.generators_for(0)]
    assert obj.steps_per_epoch == 3
    for _ in range(3):
        obj.loss(pop, None, gens)
    sizes = [b.shape[1] for b in obj.loss_fn.batches]
    assert sizes == [10, 10, 3]
    seen = torch.cat([b[0] for b in obj.loss_fn.batches]).reshape(23, -1)
    flat = torch.as_tensor(data).reshape(23, -1)
    # the same multiset of sequences: sort rows lexicographically to compare
    key = lambda t: sorted(map(tuple, t.tolist()))  # noqa: E731
    assert key(seen) == key(flat)


def _train(seeds, epochs=3):
    rng = np.random.default_rng(5)
    _, sym = hmms.sample(hmms.chain(2), 120, 6, rng)
    oh = hmms.one_hot(sym)
    return training.train_seeds(
        train=oh[:60], val=oh[60:100], seeds=seeds, n_hidden=10, input_dim=3, init="torch_default",
        first_symbol="h0", tau=1.0, lr=1e-2, betas=(0.9, 0.9), grad_clip=0.9, epochs=epochs,
        batch_size=25, batch_order="shuffle_keep_last", val_every=1, checkpoint_every=1,
        blur=0.2, scaling=0.5, device="cpu")


def test_a_population_equals_each_network_trained_alone():
    both = _train([0, 1])
    alone = _train([1])
    for name in ("W_ih", "W_hh", "A", "W_hh_ckpt"):
        np.testing.assert_allclose(both[name].sel(seed=1).values, alone[name].sel(seed=1).values,
                                   rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(both["val_loss"].sel(seed=1), alone["val_loss"].sel(seed=1), rtol=1e-5)
    assert list(both["checkpoint"].values) == [0, 1, 2, 3]
    # model selection: the weights kept are those of the best validation epoch
    best = int(both["best_epoch"].sel(seed=0))
    assert both["val_loss"].sel(seed=0, epoch=best) == both["val_loss"].sel(seed=0).min()
    np.testing.assert_array_equal(both["W_hh"].sel(seed=0).values,
                                  both["W_hh_ckpt"].sel(seed=0, checkpoint=best).values)
