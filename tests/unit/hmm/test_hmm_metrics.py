"""Emission metrics on hand-made sequences with known answers."""

import numpy as np
import pytest

from noisyrnn.studies.hmm import metrics


def test_distances_are_sqrt_two_mismatches():
    a = np.array([[0, 1, 2, 0]])
    b = np.array([[0, 1, 2, 0], [0, 2, 2, 1], [1, 0, 0, 2]])
    np.testing.assert_allclose(metrics.distances(a, b), [[0, np.sqrt(4), np.sqrt(8)]])


def test_aligned_distance_of_a_permuted_copy_is_zero():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 3, (60, 12))
    assert len({tuple(r) for r in a}) == 60
    assert metrics.aligned_distance(a, a[rng.permutation(60)]) == pytest.approx(0.0)


def test_aligned_distance_matches_the_one_mismatch_shift():
    # every sequence of b differs from its twin in a by exactly one symbol, and from every
    # other sequence of a by many more: the plan matches twins, so the mean is √2
    a = np.random.default_rng(1).integers(0, 3, (40, 20))   # pairs differ in about 13 symbols
    b = a.copy()
    b[:, 0] = (b[:, 0] + 1) % 3
    assert metrics.aligned_distance(a, b, eps=0.01) == pytest.approx(np.sqrt(2), rel=1e-6)


def test_transition_matrix_by_hand():
    s = np.array([[0, 0, 2, 2], [2, 0, 1, 1]])
    # pairs: 00 02 22 | 20 01 11
    want = np.array([[1 / 3, 1 / 3, 1 / 3], [0, 1, 0], [0.5, 0, 0.5]])
    np.testing.assert_allclose(metrics.transition_matrix(s), want)
    t = metrics.transition_matrix(np.array([[0, 0, 0]]))
    assert np.isnan(t[1]).all() and t[0, 0] == 1


def test_marginals_and_volatility_by_hand():
    s = np.array([[0, 0, 2, 2], [2, 0, 1, 1]])
    np.testing.assert_allclose(metrics.marginals(s), [[0.5, 0, 0.5], [0.25, 0.5, 0.25]])
    np.testing.assert_allclose(metrics.volatility(s), [1, 2])


def test_iid_volatility_closed_form_against_simulation():
    p = np.array([0.5, 0.01, 0.49])
    rng = np.random.default_rng(3)
    s = rng.choice(3, size=(20000, 30), p=p)
    assert metrics.volatility(s).mean() == pytest.approx(metrics.iid_volatility(30, p), rel=0.01)
    assert metrics.iid_volatility(30, [1, 0, 0]) == 0


def test_left_plateau_rule():
    p = [0.5, 0, 0.5]                         # i.i.d. volatility (T - 1) / 2 = 14.5 at T = 30
    assert metrics.left_plateau(2.0, 30, p, 0.5)
    assert not metrics.left_plateau(14.0, 30, p, 0.5)
    assert metrics.left_plateau(7.25, 30, p, 0.5) and not metrics.left_plateau(7.26, 30, p, 0.5)
    assert not metrics.left_plateau(np.nan, 30, p, 0.5)


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="non-empty"):
        metrics.volatility(np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="length"):
        metrics.distances(np.zeros((2, 3), int), np.zeros((2, 4), int))
