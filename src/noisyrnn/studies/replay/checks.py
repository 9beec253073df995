"""Checks of the replay config that its schema cannot state: keys whose values must be among
another key's values. They run with the schema, before any job is planned, so a claims key that
names a network or a replay variant the config never makes is an error at the start, not an
empty figure panel or an "inconclusive" row an hour later.

Plain dicts only: the DAG imports this module (through the study's declaration).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .nets import TRACK_TASKS, sweeps
from .sections import section


def _among(value: Any, values: Any) -> bool:
    return any(abs(float(value) - float(v)) < 1e-12 for v in values or ())


def cross_key_errors(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``[(dotted key, message)]`` for every reference that does not resolve; keys are relative
    to the study section (the caller prefixes the study's name)."""
    errors: list[tuple[str, str]] = []
    sw = sweeps(config.get("training"))
    claims = config.get("claims") or {}
    tasks = list(config.get("tasks") or ())
    tracks = [t for t in tasks if t in TRACK_TASKS]

    missing = [a for a in sw["replay_alphas"] if not _among(a, sw["alphas"])]
    if missing and tracks:
        errors.append(("training.replay_alphas",
                       f"{missing} not in training.alphas {sw['alphas']} (a replayed network "
                       "is one of the trained leaks)"))
    if "leaky_alpha" in claims and not _among(claims["leaky_alpha"], sw["replay_alphas"]):
        errors.append(("claims.leaky_alpha",
                       f"{claims['leaky_alpha']} not in training.replay_alphas "
                       f"{sw['replay_alphas']} (claims C2-C6 read the replayed network at this leak)"))
    if tracks and "leaky_alpha" in claims and not _among(claims["leaky_alpha"], sw["alphas"]):
        errors.append(("claims.leaky_alpha",
                       f"{claims['leaky_alpha']} not in training.alphas {sw['alphas']} "
                       "(claim C1 compares this leak with α = 1)"))
    if tracks and "masked_k" in claims and int(claims["masked_k"]) not in sw["mask_k"]:
        errors.append(("claims.masked_k",
                       f"{claims['masked_k']} not in training.mask_k {sw['mask_k']} "
                       "(claim C1 compares networks trained at this k)"))
    # The replay variants: the shared section, and each task that overrides the sweep.
    overrides = config.get("overrides") or {}
    places = [("replay", section(config, None, "replay"))]
    places += [(f"overrides.{task}.replay", section(config, task, "replay")) for task in tasks
               if "replay" in (overrides.get(task) or {})]
    for where, replay in places:
        for key, baseline, claim_key in (("b_a", 0.0, "adapt_b_a"),
                                         ("lambda_v", 1.0, "momentum_lambda_v")):
            if key not in replay:
                continue
            wanted = {f"the baseline {baseline:g}": baseline}
            if claim_key in claims:
                wanted[f"claims.{claim_key} = {claims[claim_key]:g}"] = claims[claim_key]
            for what, value in wanted.items():
                if not _among(value, replay[key]):
                    errors.append((f"{where}.{key}",
                                   f"{replay[key]} lacks {what} (every claim and figure "
                                   "compares a replay variant against it)"))
    return errors
