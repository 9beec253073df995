"""One trial condition of a family: the one place that maps (task settings, family, grid delay)
to the task's layout, so the task file, the training job and the analysis agree.

For the no-memory control the grid's "delay" is the reaction-window length (STM.md §1): the
delay itself is 0 (:func:`.tasks.trial_layout` reads ``delay_ms`` as the window then).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import tasks


def task_kw(task: Mapping[str, Any], fam: Mapping[str, Any]) -> dict[str, Any]:
    """The keywords of :func:`.tasks.trial_layout` but the delay, for ``fam``."""
    return {"dt_ms": task["dt_ms"], "t_in_ms": task["t_in_ms"], "t_resp_ms": task["t_resp_ms"],
            "t_post_ms": task["t_post_ms"] if fam.get("post") else 0,
            "control": bool(fam.get("control")),
            "control_acc_window": task.get("control_acc_window", "final")}


def layout_for(task: Mapping[str, Any], fam: Mapping[str, Any], delay_ms: float) -> dict:
    return tasks.trial_layout(float(delay_ms), **task_kw(task, fam))


def alpha_for(task: Mapping[str, Any], fam: Mapping[str, Any]) -> float:
    """α = Δt / τ (0.5 at τ = 10 ms; 0.25 for the long-τ family)."""
    alpha = float(task["dt_ms"]) / float(fam.get("tau_ms", 10))
    if not 0 < alpha <= 1:
        raise ValueError(f"stm: dt_ms / tau_ms = {alpha:g} must lie in (0, 1]")
    return alpha
