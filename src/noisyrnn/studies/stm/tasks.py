"""The delayed cue-discrimination task (DCDT, STM.md §1): trial layouts, trials and loss weights.

Nothing is sampled: a trial type fixes the inputs and targets, and the copies of a class differ
only by the network's initial state and noise (drawn by the model). A trial is, in steps of
``dt_ms``::

    cue (one-hot input on the cue's channel) | delay | reaction (one-hot target) | post (target 0)

The loss weights balance the last window (reaction, plus post when present; n steps) against the
rest of a T-step trial: last-window steps weigh 1 − n/T, all others n/T, so both parts carry the
same total weight whatever the delay.

**No-memory control.** Delay 0; the swept variable is the reaction-window length. The target is
its own maximum over time (the correct channel is 1 for the whole trial, cue included) and the
weights are uniform (1).

Several conditions (delays, or control windows) train in one batched population padded to the
longest trial (:func:`padded`): the cell is causal, so steps past a trial's end, weighted 0, change
neither its loss nor its gradient.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

ACC_WINDOWS = ("final", "full")


def _steps(value: float, dt_ms: float, name: str, *, positive: bool = False) -> int:
    """``value`` ms as a whole number of ``dt_ms`` steps; ValueError naming ``name`` otherwise."""
    v = float(value)
    if not math.isfinite(v) or v < 0 or (positive and v == 0):
        need = "> 0" if positive else ">= 0"
        raise ValueError(f"{name}={value!r} must be {need} ms")
    n = round(v / dt_ms)
    if abs(n * dt_ms - v) > 1e-9 * max(1.0, abs(v)):
        raise ValueError(f"{name}={value!r} ms is not a multiple of dt_ms={dt_ms!r} ms")
    return int(n)


def trial_layout(
    delay_ms: float,
    *,
    dt_ms: float = 5,
    t_in_ms: float = 30,
    t_resp_ms: float = 50,
    t_post_ms: float = 0,
    control: bool = False,
    control_window_ms: float | None = None,
    control_acc_window: str = "final",
) -> dict[str, Any]:
    """The step ranges of one trial condition.

    Returns a dict of plain numbers (so it can be logged and compared): ``n_steps`` (T),
    ``dt_ms``, ``delay_ms`` (the delay actually used), ``window_ms`` (reaction-window length),
    the half-open step ranges ``cue``, ``delay``, ``reaction``, ``post``, ``last_window`` (n:
    reaction plus post steps), ``control`` and ``accuracy`` (the half-open range of the steps
    that accuracy and reliability read).

    ``control``: the no-memory control. Its delay is 0 and its reaction window lasts
    ``control_window_ms``; when that is None, ``delay_ms`` is taken as the window length (the
    control's swept variable sits where the other families put the delay, STM.md §1), else
    ``delay_ms`` must be 0. ``control_acc_window``: "final" scores only the trial's last step
    (the authors' window lies past the trial end, STM.md §7), "full" the whole reaction window.
    Outside the control the accuracy window is the reaction window.

    ValueError, naming the argument, when a length is negative, not a multiple of ``dt_ms``, or
    (cue, reaction) empty.
    """
    dt = float(dt_ms)
    if not math.isfinite(dt) or dt <= 0:
        raise ValueError(f"dt_ms={dt_ms!r} must be > 0")
    if control_acc_window not in ACC_WINDOWS:
        raise ValueError(f"control_acc_window={control_acc_window!r} is not one of {ACC_WINDOWS}")
    n_in = _steps(t_in_ms, dt, "t_in_ms", positive=True)
    n_post = _steps(t_post_ms, dt, "t_post_ms")
    if control:
        if control_window_ms is None:
            n_resp = _steps(delay_ms, dt, "delay_ms", positive=True)
            n_delay = 0
        else:
            n_resp = _steps(control_window_ms, dt, "control_window_ms", positive=True)
            n_delay = _steps(delay_ms, dt, "delay_ms")
            if n_delay != 0:
                raise ValueError(f"delay_ms={delay_ms!r}: the no-memory control has no delay")
    else:
        n_delay = _steps(delay_ms, dt, "delay_ms")
        n_resp = _steps(t_resp_ms, dt, "t_resp_ms", positive=True)
    c, d, r = n_in, n_in + n_delay, n_in + n_delay + n_resp
    t = r + n_post
    if control and control_acc_window == "final":
        accuracy = (t - 1, t)
    else:
        accuracy = (d, r)
    return {
        "n_steps": t,
        "dt_ms": dt,
        "delay_ms": n_delay * dt,
        "window_ms": n_resp * dt,
        "cue": (0, c),
        "delay": (c, d),
        "reaction": (d, r),
        "post": (r, t),
        "last_window": n_resp + n_post,
        "control": bool(control),
        "accuracy": accuracy,
    }


class Trials(NamedTuple):
    """One condition's batch. u, targets (B, T, 2) float32; labels (B,) int64 (0: cue 1);
    weights (T,) float32; window (T,) bool, the steps accuracy and reliability read."""

    u: np.ndarray
    targets: np.ndarray
    labels: np.ndarray
    weights: np.ndarray
    window: np.ndarray


class Padded(NamedTuple):
    """C conditions padded to the longest trial: u, targets (C, B, Tmax, 2); weights, window
    (C, Tmax), zero / False past each trial's end; lengths (C,) int64; labels (B,)."""

    u: np.ndarray
    targets: np.ndarray
    weights: np.ndarray
    window: np.ndarray
    lengths: np.ndarray
    labels: np.ndarray


def trials(layout: dict[str, Any], copies_per_class: int) -> Trials:
    """The batch of one condition: ``copies_per_class`` cue-1 trials (label 0) first, then as many
    cue-2 trials (label 1); B = 2 · copies_per_class. The copies are identical here (they differ
    by the network's initial state and noise)."""
    copies = int(copies_per_class)
    if copies < 1:
        raise ValueError(f"copies_per_class={copies_per_class!r} must be >= 1")
    t = int(layout["n_steps"])
    labels = np.repeat(np.arange(2, dtype=np.int64), copies)
    b = labels.size
    u = np.zeros((b, t, 2), np.float32)
    y = np.zeros((b, t, 2), np.float32)
    c0, c1 = layout["cue"]
    r0, r1 = layout["reaction"]
    for i, lab in enumerate(labels):
        u[i, c0:c1, lab] = 1.0
        if layout["control"]:
            y[i, :, lab] = 1.0  # the reaction target's max over time: 1 for the whole trial
        else:
            y[i, r0:r1, lab] = 1.0
    if layout["control"]:
        w = np.ones(t, np.float32)
    else:
        n = int(layout["last_window"])
        w = np.full(t, n / t, np.float64)
        w[t - n:] = 1.0 - n / t
        w = w.astype(np.float32)
    window = np.zeros(t, bool)
    a0, a1 = layout["accuracy"]
    window[a0:a1] = True
    return Trials(u, y, labels, w, window)


def padded(layouts: list[dict[str, Any]], copies_per_class: int) -> Padded:
    """The conditions of ``layouts`` padded with zeros to the longest trial.

    Past a trial's end its inputs, targets and weights are 0 and its window False, so a network
    trained on row c sees, up to its own length, exactly the trial of :func:`trials`; with the
    loss normalised by each trial's own length (``lengths``), its loss and gradient are those of
    that trial alone.
    """
    if not layouts:
        raise ValueError("padded needs at least one layout")
    each = [trials(lay, copies_per_class) for lay in layouts]
    lengths = np.array([tr.weights.size for tr in each], np.int64)
    c, tmax, b = len(each), int(lengths.max()), each[0].labels.size
    u = np.zeros((c, b, tmax, 2), np.float32)
    y = np.zeros((c, b, tmax, 2), np.float32)
    w = np.zeros((c, tmax), np.float32)
    window = np.zeros((c, tmax), bool)
    for i, (tr, t) in enumerate(zip(each, lengths)):
        u[i, :, :t] = tr.u
        y[i, :, :t] = tr.targets
        w[i, :t] = tr.weights
        window[i, :t] = tr.window
    return Padded(u, y, w, window, lengths, each[0].labels)
