"""The one place where random streams are derived from a seed wildcard.

Every step of every study calls :func:`derive_seed` with the network's seed and a salt naming
what the stream is for (task, network, purpose), so train, replay and statistics streams never
coincide and a stream never depends on which other jobs ran.
"""

from __future__ import annotations


def derive_seed(seed: int, *salt: str) -> int:
    """A deterministic integer seed for ``seed`` and the stream named by ``salt``."""
    h = 0
    for ch in "/".join(salt):
        h = (h * 131 + ord(ch)) % 1_000_003
    return int(seed) * 1_000_003 + h
