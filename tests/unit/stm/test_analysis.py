"""Per-network analyses of the stm study against planted structure (STM.md §4)."""

from __future__ import annotations

import numpy as np
import pytest

from noisyrnn.studies.stm.analysis import (
    agreement,
    index_label,
    outcome_class,
    psd_ratio,
    rotations,
    second_label,
    top_pcs,
)

N = 20
T = 360  # e.g. a 40-step trial run 9x


def _plane(rng):
    q, _ = np.linalg.qr(rng.normal(size=(N, 2)))
    return q


def limit_cycle(rng, period=30.0, amp=0.5, noise=1e-3, T=T):
    """Rates rotating in a random 2-D plane of N dims, about an offset, plus noise."""
    t = np.arange(T)
    z = amp * np.stack([np.cos(2 * np.pi * t / period), np.sin(2 * np.pi * t / period)], axis=1)
    offset = rng.uniform(-0.3, 0.3, size=N)
    return offset + z @ _plane(rng).T + noise * rng.normal(size=(T, N))


def fixed_point(rng, tau=15.0, noise=2e-4, T=T):
    """Rates decaying (with a damped wobble) from a random start to a random fixed point."""
    t = np.arange(T)[:, None]
    x_star = rng.uniform(-0.5, 0.5, size=N)
    v, w = rng.normal(size=(2, N)) * 0.3
    x = x_star + np.exp(-t / tau) * (v + np.sin(t / 4.0) * w)
    return x + noise * rng.normal(size=(T, N))


# ---------------------------------------------------------------- mechanism index


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_limit_cycle_has_low_psd_ratio(seed):
    rng = np.random.default_rng(seed)
    ratio = psd_ratio(limit_cycle(rng))
    assert ratio < 0.5
    assert index_label(ratio) == "LC"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fixed_point_has_high_psd_ratio(seed):
    rng = np.random.default_rng(seed)
    ratio = psd_ratio(fixed_point(rng))
    assert ratio > 0.5
    assert index_label(ratio) == "SP"


def test_psd_ratio_matches_a_hand_checkerboard():
    # the correlation matrix of a latent that flips side every `half` steps is the outer product
    # of a +-1 square wave; with 12 cycles its power sits at frequency index 12 on each axis,
    # outside radius 3, so the ratio is ~0; a latent that never changes side gives 1.
    t = np.arange(240)
    s = np.where((t // 10) % 2 == 0, 1.0, -1.0)
    latent = np.stack([s, -s], axis=1) + 0.01 * np.stack([np.cos(t), np.sin(t)], axis=1)
    rates = latent @ np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    assert psd_ratio(rates) < 1e-6
    c = np.outer(s, s)
    f = np.abs(np.fft.fft2(c)) ** 2
    assert f[12, 12] + f[-12, -12] + f[12, -12] + f[-12, 12] > 0.5 * f.sum()


def test_psd_ratio_radius_and_rotation_count():
    # two cycles in the run put the checkerboard's power within radius 3: the index calls a
    # slow rotation SP (a documented limit of the paper's index, caught by the second label)
    rng = np.random.default_rng(3)
    slow = limit_cycle(rng, period=T / 2)
    assert psd_ratio(slow) > 0.5
    assert psd_ratio(slow, radius=1) < 0.5
    assert second_label(slow, tail_frac=1.0)[0] == "LC"


def test_index_label_threshold():
    assert index_label(0.49) == "LC"
    assert index_label(0.5) == "SP"
    assert index_label(0.7, threshold=0.8) == "LC"
    assert index_label(float("nan")) == "SP"


# ---------------------------------------------------------------- second label


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_second_label_limit_cycle(seed):
    rng = np.random.default_rng(seed)
    label, speed, turns = second_label(limit_cycle(rng, period=30.0), tail_frac=0.5)
    assert label == "LC"
    # planted: radius 0.5, 2*pi*0.5/30 per step; 180 tail steps = 6 turns
    assert speed == pytest.approx(2 * np.pi * 0.5 / 30, rel=0.05)
    assert turns == pytest.approx(6.0, abs=0.1)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_second_label_fixed_point(seed):
    rng = np.random.default_rng(seed)
    label, speed, _ = second_label(fixed_point(rng), tail_frac=0.5)
    assert label == "SP"
    assert speed < 1e-3


def test_second_label_needs_both_speed_and_winding():
    rng = np.random.default_rng(4)
    # a straight slow drift: fast enough, but it does not wind
    t = np.arange(T)[:, None]
    drift = 0.01 * t * rng.normal(size=N) / np.sqrt(N) + 1e-4 * rng.normal(size=(T, N))
    label, speed, turns = second_label(drift, tail_frac=0.5)
    assert label == "SP" and speed > 1e-3 and turns < 1
    # a tiny rotation: winds, but below the speed tolerance
    tiny = limit_cycle(rng, amp=1e-3, noise=0.0)
    label, speed, turns = second_label(tiny, tail_frac=0.5)
    assert label == "SP" and speed < 1e-3 and turns >= 1
    assert second_label(tiny, tail_frac=0.5, sp_speed_tol=1e-5)[0] == "LC"
    # fewer turns in the tail than required
    lc = limit_cycle(rng, period=30.0)
    assert second_label(lc, tail_frac=0.5, lc_min_rotations=7)[0] == "SP"


def test_rotations_counts_net_turns():
    t = np.linspace(0, 3 * 2 * np.pi, 301)
    circle = np.stack([np.cos(t), np.sin(t)], axis=1) + [5.0, -2.0]
    assert rotations(circle) == pytest.approx(3.0, abs=1e-6)
    # back and forth: no net winding
    back = np.concatenate([circle, circle[::-1]])
    assert rotations(back) == pytest.approx(0.0, abs=1e-6)
    # about a far-away centre the circle does not wind
    assert rotations(circle, centre=[50.0, 50.0]) < 0.01


def test_top_pcs_recovers_the_plane():
    rng = np.random.default_rng(5)
    x = limit_cycle(rng, noise=0.0)
    z = top_pcs(x)
    assert z.shape == (T, 2)
    # rotation of radius 0.5: variance 0.125 on each axis, all the variance
    assert np.var(z, axis=0).sum() == pytest.approx(np.var(x, axis=0).sum(), rel=1e-9)
    assert np.var(z, axis=0).sum() == pytest.approx(0.25, rel=0.01)


# ---------------------------------------------------------------- agreement


def test_agreement_table():
    a = ["LC", "LC", "SP", "SP", "LC"]
    b = ["LC", "SP", "SP", "SP", "SP"]
    frac, table = agreement(a, b)
    assert frac == pytest.approx(3 / 5)
    np.testing.assert_array_equal(table, [[1, 2], [0, 2]])
    frac, table = agreement([], [])
    assert np.isnan(frac) and table.sum() == 0
    with pytest.raises(ValueError):
        agreement(["LC", "XX"], ["LC", "SP"])
    with pytest.raises(ValueError):
        agreement(["LC"], ["LC", "SP"])


# ---------------------------------------------------------------- outcome class


def _ramp(n, start, level, t_on):
    x = np.full(n, start, dtype=float)
    x[t_on:] = level
    return x


def test_outcome_learned():
    acc = _ramp(1000, 0.5, 0.95, 300)
    rel = _ramp(1000, 0.5, 0.9, 310)
    assert outcome_class(acc, rel) == "learned"


def test_outcome_no_learning():
    # accuracy reaches 0.9 but reliability never passes 0.8 at the same epoch
    acc = _ramp(1000, 0.5, 0.9, 200)
    rel = np.full(1000, 0.75)
    assert outcome_class(acc, rel) == "no_learning"
    # both cross 0.8, but never at the same epoch
    acc = np.where(np.arange(1000) % 2 == 0, 0.9, 0.5)
    rel = np.where(np.arange(1000) % 2 == 1, 0.9, 0.5)
    assert outcome_class(acc, rel) == "no_learning"


def test_outcome_unstable_by_collapses():
    # learns at 200, then collapses to 0.5 on 150 of the 800 later epochs but is good at the end:
    # bad/good = 300 / 1300 = 0.23 > 0.1
    acc = _ramp(1000, 0.5, 0.95, 200)
    rel = _ramp(1000, 0.5, 0.95, 200)
    acc[300:450] = rel[300:450] = 0.5
    assert acc[-100:].mean() > 0.8 and rel[-100:].mean() > 0.8
    assert outcome_class(acc, rel) == "unstable"
    # with only 40 collapsed epochs: 80 / 1520 = 0.053 < 0.1, learned
    acc = _ramp(1000, 0.5, 0.95, 200)
    rel = _ramp(1000, 0.5, 0.95, 200)
    acc[300:340] = rel[300:340] = 0.5
    assert outcome_class(acc, rel) == "learned"
    assert outcome_class(acc, rel, stability_max=0.05) == "unstable"


def test_outcome_unstable_by_final_window():
    # learned, then lost in the last 10%
    acc = _ramp(1000, 0.5, 0.95, 200)
    rel = _ramp(1000, 0.5, 0.95, 200)
    rel[920:] = 0.7  # last 100 epochs: mean 0.95*0.2 + 0.7*0.8 = 0.75
    assert outcome_class(acc, rel) == "unstable"
    # over the last half the mean is (420 * 0.95 + 80 * 0.7) / 500 = 0.91: learned
    assert outcome_class(acc, rel, last_frac=0.5) == "learned"


def test_outcome_ignores_nan_padding():
    # a 500-epoch network padded to 1000: its last 10% are epochs 450-499, not NaN
    acc = _ramp(500, 0.5, 0.95, 100)
    rel = _ramp(500, 0.5, 0.95, 100)
    pad = np.full(500, np.nan)
    assert outcome_class(np.r_[acc, pad], np.r_[rel, pad]) == "learned"
    # if the padding were counted as 10% of 1000 epochs the result would be NaN means; a
    # network lost in its own last 50 epochs must be unstable, whatever the padding
    rel2 = rel.copy()
    rel2[450:] = 0.5
    assert outcome_class(np.r_[acc, pad], np.r_[rel2, pad]) == "unstable"
    assert outcome_class(np.full(10, np.nan), np.full(10, np.nan)) == "no_learning"


def test_outcome_boundaries_are_strict():
    # exactly 0.8 is not "exceeds 0.8"
    acc = np.full(100, 0.8)
    rel = np.full(100, 0.9)
    assert outcome_class(acc, rel) == "no_learning"
    with pytest.raises(ValueError):
        outcome_class(np.ones(3), np.ones(4))
