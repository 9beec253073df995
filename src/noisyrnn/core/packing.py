"""How many networks train together in one population job, from a memory budget.

Torch-free: the DAG imports it to size group jobs and their memory requests.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def training_memory_mb(n_hidden: int, batch: int, steps: int, n_in: int, n_out: int,
                       saved_per_step: int = 10) -> float:
    """Rough peak memory (MB) one network adds to a population in training: the activations
    autograd keeps, about ``saved_per_step`` (B, N) float32 tensors per step (pre-activation,
    activation, states, noise and their gradients), inputs, targets and outputs, and the
    weights with their gradient and two Adam moments."""
    activations = saved_per_step * batch * steps * n_hidden
    io = 3 * batch * steps * (n_in + n_out)
    weights = 4 * (n_hidden * n_hidden + n_hidden * (n_in + n_out + 2))
    return 4 * (activations + io + weights) / 1e6


def group_size(per_network_mb: float, budget_mb: float, n: int, requested: int = 0) -> int:
    """Networks per population: ``requested`` when > 0, else as many of ``n`` as fit in
    ``budget_mb`` (at least one)."""
    if requested > 0:
        return min(requested, n)
    return max(1, min(n, int(math.floor(budget_mb / max(per_network_mb, 1e-9)))))


def chunks(items: Sequence, size: int) -> list[list]:
    """``items`` in ceil(n / size) consecutive groups, as equal in size as possible (9 seeds
    at size 4: 3 + 3 + 3, not 4 + 4 + 1, so no group job runs far longer than the others)."""
    if size < 1:
        raise ValueError(f"group size {size} must be >= 1")
    items = list(items)
    n_groups = max(1, math.ceil(len(items) / size))
    base, extra = divmod(len(items), n_groups)
    out, start = [], 0
    for g in range(n_groups):
        end = start + base + (1 if g < extra else 0)
        out.append(items[start:end])
        start = end
    return [c for c in out if c]
