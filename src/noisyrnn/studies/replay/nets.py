"""Network identities of the replay study: the net id and which networks a config trains.

The DAG imports this module (rule inputs and wildcard constraints), so it must not import
torch. A net id carries the training variant: ``a<alpha>_k<k>_m<0|1>`` (leak α, mask k,
modifiers on in training).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Keys of the training section that name networks rather than set how one trains: adding a
# seed or an alpha never retrains existing networks.
SWEEP_KEYS = ("alphas", "mask_k", "modifiers_in_training", "replay_alphas")
SWEEP_DEFAULTS = {"alphas": [1.0, 0.2], "mask_k": [1, 2, 4, 8],
                  "modifiers_in_training": [False, True], "replay_alphas": [0.2]}
# Keys of the training section that say how networks are packed into population jobs, not how
# one trains: results do not depend on them (tests/unit/replay/test_train_groups.py), so
# changing them retrains nothing.
PACKING_KEYS = ("group_size", "group_memory_mb")
PACKING_DEFAULTS = {"group_size": 0, "group_memory_mb": 4000}
NET_PATTERN = r"a[0-9.]+_k[0-9]+_m[01]"
NET_RE = re.compile(r"^a(?P<alpha>[0-9.]+)_k(?P<k>[0-9]+)_m(?P<m>[01])$")
# The study's tasks: the one list (tracks first, the order of tables and figures).
TRACK_TASKS = ("tmaze", "triangle")
TASKS = (*TRACK_TASKS, "box")


def net_id(alpha: float, k: int, modifiers: bool) -> str:
    return f"a{float(alpha):g}_k{int(k)}_m{int(bool(modifiers))}"


def parse_net(net: str) -> tuple[float, int, bool]:
    m = NET_RE.match(net)
    if not m:
        raise ValueError(f"network id {net!r} is not of the form a<alpha>_k<k>_m<0|1>")
    return float(m["alpha"]), int(m["k"]), m["m"] == "1"


def sweeps(training: Mapping[str, Any] | None) -> dict[str, list]:
    """The sweep lists of a training section (defaults where absent)."""
    training = training or {}
    return {key: list(training.get(key, default)) for key, default in SWEEP_DEFAULTS.items()}


def replay_networks(training: Mapping[str, Any] | None) -> list[str]:
    """Networks that are replayed: alpha in replay_alphas, k = 1, every regime."""
    sw = sweeps(training)
    return [net_id(a, 1, m) for a in sw["replay_alphas"] for m in sw["modifiers_in_training"]]


def networks(training: Mapping[str, Any] | None, task: str) -> list[str]:
    """Every network trained for ``task`` (docs/design.md): the α × k grid without
    modifiers on the tracks, plus the replayed networks."""
    sw = sweeps(training)
    nets = []
    if task in TRACK_TASKS:
        nets = [net_id(a, k, False) for a in sw["alphas"] for k in sw["mask_k"]]
    for n in replay_networks(training):
        if n not in nets:
            nets.append(n)
    return nets


def network_seeds(nets: list[str], seeds: list[int]) -> list[tuple[str, int]]:
    """(net, seed) pairs in the order rule inputs list their files (net outer, seed inner)."""
    return [(net, int(seed)) for net in nets for seed in seeds]
