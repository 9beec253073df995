"""The HMM families against HMM.md §1's table, and the sampler against closed forms and
hmmlearn's CategoricalHMM."""

import numpy as np
import pytest

from noisyrnn.studies.hmm import hmms, metrics


@pytest.mark.parametrize("m,q,end_stay,interior_stay", [
    (2, 0.05, 0.95, None), (3, 0.2236, 0.7764, 0.5528), (4, 0.3684, 0.6316, 0.2632),
    (5, 0.4729, 0.5271, 0.0543)])
def test_chain_matches_the_table(m, q, end_stay, interior_stay):
    h = hmms.chain(m)
    assert h.transition[0, 1] == pytest.approx(q, abs=1e-4)
    assert h.transition[0, 0] == pytest.approx(end_stay, abs=1e-4)
    assert h.transition[-1, -1] == pytest.approx(end_stay, abs=1e-4)
    if interior_stay is not None:
        assert h.transition[1, 1] == pytest.approx(interior_stay, abs=1e-4)
        assert h.transition[1, 0] == h.transition[1, 2] == pytest.approx(q, abs=1e-4)
    np.testing.assert_allclose(h.transition.sum(1), 1)
    np.testing.assert_allclose(h.emission.sum(1), 1)
    # the ends emit symbol 0 or 2 with 0.99; symbol 1 is the rare 1 %
    np.testing.assert_allclose(h.emission[0], [0.99, 0.01, 0])
    np.testing.assert_allclose(h.emission[-1], [0, 0.01, 0.99])


def test_fully_and_cyclic():
    f = hmms.fully()
    np.testing.assert_allclose(np.diag(f.transition), 0.95)
    assert f.transition[0, 1] == pytest.approx(0.025)
    assert f.emission[0, 0] == pytest.approx(0.98) and f.emission[0, 1] == pytest.approx(0.01)
    c = hmms.cyclic()
    assert c.n_states == 4
    assert c.transition[0, 1] == c.transition[0, 3] == pytest.approx(0.025)
    assert c.transition[0, 2] == 0
    np.testing.assert_allclose(c.emission[3], [0, 0.9, 0.1])


def test_build_names_and_errors():
    cfg = {"chain": {"end_target": 0.05, "rare": 0.01}, "fully": {"stay": 0.95, "emit_diag": 0.98},
           "cyclic": {"stay": 0.95, "emission": [[.9, .1, 0], [.1, .9, 0], [0, .1, .9], [0, .9, .1]]}}
    assert hmms.build("chain4", cfg).n_states == 4
    assert hmms.build("cyclic", cfg).n_states == 4
    with pytest.raises(KeyError, match="unknown HMM"):
        hmms.build("ring", cfg)


def _pair_probabilities(h: hmms.HMM, length: int) -> np.ndarray:
    """Exact P(symbol_t = a, symbol_{t+1} = b) pooled over t (closed form)."""
    out = np.zeros((3, 3))
    p = h.start.copy()
    for _ in range(length - 1):
        joint = (p[:, None] * h.transition)                       # P(s_t = i, s_{t+1} = j)
        out += h.emission.T @ joint @ h.emission
        p = p @ h.transition
    return out / (length - 1)


@pytest.mark.parametrize("name", ["chain3", "cyclic"])
def test_sampler_matches_the_closed_form(name):
    cfg = {"chain": {"end_target": 0.05, "rare": 0.01},
           "cyclic": {"stay": 0.95, "emission": None}}
    h = hmms.build(name, cfg) if name != "cyclic" else hmms.cyclic()
    n, length = 20000, 8
    _, sym = hmms.sample(h, n, length, np.random.default_rng(1))
    counts = np.zeros((3, 3))
    np.add.at(counts, (sym[:, :-1].ravel(), sym[:, 1:].ravel()), 1)
    emp = counts / counts.sum()
    want = _pair_probabilities(h, length)
    # binomial sd of each cell (pooled counts are correlated within a sequence: 3 sd is loose
    # enough for that, and still catches an off-by-one in the transition step)
    sd = np.sqrt(want * (1 - want) / (n * (length - 1)) * length)
    assert np.all(np.abs(emp - want) <= 4 * sd + 1e-4), (emp, want)


def test_sampler_agrees_with_hmmlearn():
    from hmmlearn.hmm import CategoricalHMM

    h = hmms.chain(3)
    ref = CategoricalHMM(n_components=3, random_state=0)
    ref.startprob_, ref.transmat_, ref.emissionprob_ = h.start, h.transition, h.emission
    ref.n_features = 3
    n, length = 3000, 10
    theirs = np.stack([ref.sample(length, random_state=i)[0].ravel() for i in range(n)])
    _, ours = hmms.sample(h, n, length, np.random.default_rng(2))
    t_ours, t_theirs = metrics.transition_matrix(ours), metrics.transition_matrix(theirs)
    np.testing.assert_allclose(t_ours, t_theirs, atol=0.03)
    np.testing.assert_allclose(metrics.marginals(ours).mean(0), metrics.marginals(theirs).mean(0),
                               atol=0.02)
    np.testing.assert_allclose(metrics.volatility(ours).mean(), metrics.volatility(theirs).mean(),
                               rtol=0.05)


def test_one_hot_and_states_shapes():
    states, sym = hmms.sample(hmms.chain(2), 5, 7, np.random.default_rng(0))
    assert states.shape == sym.shape == (5, 7)
    oh = hmms.one_hot(sym)
    assert oh.shape == (5, 7, 3) and np.all(oh.sum(-1) == 1)
    assert np.all(oh.argmax(-1) == sym)
