"""The delayed cue-discrimination task: layouts, trials, loss weights and padding, by hand."""

from __future__ import annotations

import numpy as np
import pytest

from noisyrnn.studies.stm import tasks


def test_layout_delay_20ms_by_hand():
    lay = tasks.trial_layout(20)
    # 30 ms cue = 6 steps, 20 ms delay = 4, 50 ms reaction = 10, no post
    assert lay["n_steps"] == 20
    assert (lay["cue"], lay["delay"], lay["reaction"], lay["post"]) == ((0, 6), (6, 10), (10, 20), (20, 20))
    assert lay["last_window"] == 10
    assert lay["accuracy"] == (10, 20)


def test_layout_with_post_and_other_dt():
    lay = tasks.trial_layout(100, t_post_ms=30)
    assert lay["n_steps"] == 6 + 20 + 10 + 6
    assert lay["reaction"] == (26, 36) and lay["post"] == (36, 42)
    assert lay["last_window"] == 16
    lay = tasks.trial_layout(40, dt_ms=10)
    assert lay["n_steps"] == 3 + 4 + 5


@pytest.mark.parametrize("kw, name", [
    ({"delay_ms": 7}, "delay_ms"),
    ({"delay_ms": -20}, "delay_ms"),
    ({"delay_ms": 20, "t_post_ms": 12}, "t_post_ms"),
    ({"delay_ms": 20, "t_post_ms": -5}, "t_post_ms"),
    ({"delay_ms": 20, "t_in_ms": 31}, "t_in_ms"),
    ({"delay_ms": 20, "t_resp_ms": 0}, "t_resp_ms"),
    ({"delay_ms": 20, "dt_ms": 0}, "dt_ms"),
    ({"delay_ms": 0, "control": True, "control_window_ms": 33}, "control_window_ms"),
])
def test_layout_rejects_bad_lengths_naming_the_argument(kw, name):
    delay = kw.pop("delay_ms")
    with pytest.raises(ValueError, match=name):
        tasks.trial_layout(delay, **kw)


def test_trials_inputs_targets_and_weights_by_hand():
    lay = tasks.trial_layout(100)  # T = 36, n = 10
    tr = tasks.trials(lay, 3)
    assert tr.u.shape == (6, 36, 2) and tr.targets.shape == (6, 36, 2) and tr.u.dtype == np.float32
    assert tr.labels.tolist() == [0, 0, 0, 1, 1, 1]
    for b in range(6):
        c = tr.labels[b]
        expect_u = np.zeros((36, 2))
        expect_u[:6, c] = 1
        expect_y = np.zeros((36, 2))
        expect_y[26:36, c] = 1
        np.testing.assert_array_equal(tr.u[b], expect_u)
        np.testing.assert_array_equal(tr.targets[b], expect_y)
    # last window (10 steps) weighs 1 - 10/36 = 26/36; the other 26 steps 10/36
    np.testing.assert_allclose(tr.weights[:26], 10 / 36, rtol=1e-7)
    np.testing.assert_allclose(tr.weights[26:], 26 / 36, rtol=1e-7)
    assert tr.window.tolist() == [False] * 26 + [True] * 10


def test_weights_with_post_balance_last_window():
    tr = tasks.trials(tasks.trial_layout(20, t_post_ms=30), 1)  # T = 26, n = 16
    np.testing.assert_allclose(tr.weights[:10], 16 / 26, rtol=1e-7)
    np.testing.assert_allclose(tr.weights[10:], 10 / 26, rtol=1e-7)
    # the post-reaction target is 0, and accuracy reads the reaction window only
    assert tr.targets[:, 20:].sum() == 0 and tr.targets[:, 10:20].sum() == 2 * 10
    assert np.flatnonzero(tr.window).tolist() == list(range(10, 20))


def test_delay_20_weights_are_half():
    tr = tasks.trials(tasks.trial_layout(20), 2)  # n = 10 of T = 20
    np.testing.assert_allclose(tr.weights, 0.5)


def test_no_memory_control():
    # the swept 40 ms window sits where the delay goes: delay 0, window 8 steps
    lay = tasks.trial_layout(40, control=True)
    assert lay["n_steps"] == 6 + 8 and lay["delay"] == (6, 6) and lay["reaction"] == (6, 14)
    assert lay == tasks.trial_layout(0, control=True, control_window_ms=40)
    tr = tasks.trials(lay, 2)
    np.testing.assert_array_equal(tr.weights, np.ones(14))
    # target = its own max over time: the correct channel is 1 for the whole trial
    for b, c in enumerate(tr.labels):
        np.testing.assert_array_equal(tr.targets[b, :, c], np.ones(14))
        np.testing.assert_array_equal(tr.targets[b, :, 1 - c], np.zeros(14))
        np.testing.assert_array_equal(tr.u[b, :6, c], np.ones(6))
        assert tr.u[b, 6:].sum() == 0
    # faithful accuracy window: the final step; "full": the reaction window
    assert np.flatnonzero(tr.window).tolist() == [13]
    full = tasks.trials(tasks.trial_layout(40, control=True, control_acc_window="full"), 2)
    assert np.flatnonzero(full.window).tolist() == list(range(6, 14))
    with pytest.raises(ValueError, match="delay_ms"):
        tasks.trial_layout(20, control=True, control_window_ms=40)


def test_padded_rows_are_the_trials_then_zeros():
    lays = [tasks.trial_layout(0), tasks.trial_layout(40), tasks.trial_layout(20)]
    pad = tasks.padded(lays, 2)
    assert pad.lengths.tolist() == [16, 24, 20]
    assert pad.u.shape == (3, 4, 24, 2) and pad.weights.shape == (3, 24) and pad.window.shape == (3, 24)
    for c, lay in enumerate(lays):
        tr = tasks.trials(lay, 2)
        t = tr.weights.size
        np.testing.assert_array_equal(pad.u[c, :, :t], tr.u)
        np.testing.assert_array_equal(pad.targets[c, :, :t], tr.targets)
        np.testing.assert_array_equal(pad.weights[c, :t], tr.weights)
        np.testing.assert_array_equal(pad.window[c, :t], tr.window)
        assert not pad.u[c, :, t:].any() and not pad.targets[c, :, t:].any()
        assert not pad.weights[c, t:].any() and not pad.window[c, t:].any()
    np.testing.assert_array_equal(pad.labels, [0, 0, 1, 1])
