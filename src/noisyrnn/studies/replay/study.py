"""The replay study's declaration: its steps (what each reads of the config, its seed, the
module it runs), its figures and its products. Plain dicts only: the DAG imports this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...core.settings import wildcard
from ...core.study import Step, Study
from .checks import cross_key_errors
from .nets import PACKING_KEYS, SWEEP_KEYS, sweeps
from .sections import section, task_override

STEPS_PKG = "studies.replay.steps"


def _decode(config: Mapping, task: str) -> Any:
    """Decoding settings matter on the box only (track outputs are positions already)."""
    return config["decode"] if task == "box" else None


def dataset_settings(config: Mapping, wildcards: Any) -> dict:
    return {"task": config["task"][wildcard(wildcards, "task")]}


def train_settings(config: Mapping, wildcards: Any) -> dict:
    task = wildcard(wildcards, "task")
    training = {k: v for k, v in section(config, task, "training").items()
                if k not in SWEEP_KEYS + PACKING_KEYS}
    return {"model": section(config, task, "model"), "training": training,
            "decode": _decode(config, task)}


def replay_settings(config: Mapping, wildcards: Any) -> dict:
    task = wildcard(wildcards, "task")
    return {"replay": section(config, task, "replay"), "decode": _decode(config, task)}


def stats_settings(config: Mapping, wildcards: Any) -> dict:
    task = wildcard(wildcards, "task")
    return {
        "seeds": config["seeds"],
        "sweeps": sweeps(config["training"]),
        "replay": section(config, task, "replay"),
        "stats": section(config, task, "stats"),
        "decode": _decode(config, task),
    }


def gauss_markov_settings(config: Mapping, wildcards: Any = None) -> dict:
    return {"stats": config["stats"]}


def figure_settings(config: Mapping, wildcards: Any = None) -> dict:
    # the figures read which b_a / lambda_v / alpha / k count as "on" from claims
    return {"claims": config["claims"]}


def claims_settings(config: Mapping, wildcards: Any = None) -> dict:
    return {"claims": config["claims"]}


def config_key(key: str, config: Mapping, wildcards: Any) -> str:
    """A settings key as the config files spell it: the dataset's ``task`` section is
    ``task.<task>``, a section key set by ``overrides.<task>`` names the override, and
    ``sweeps`` are the sweep keys of ``training``."""
    head, _, rest = key.partition(".")
    task = dict(wildcards or {}).get("task")
    if task is None:
        return key
    if head == "task":
        return f"task.{task}" + (f".{rest}" if rest else "")
    if head == "sweeps":
        return f"training.{rest}" if rest else "training"
    first = rest.split(".")[0]
    if rest and first in (task_override(config, task).get(head) or {}):
        return f"overrides.{task}.{key}"
    return key


def dataset_seed(config: Mapping, wildcards: Any = None) -> int:
    return int(config["dataset_seed"])


def network_seed(config: Mapping, wildcards: Any) -> int:
    return int(wildcard(wildcards, "seed"))


STUDY = Study(
    name="replay",
    title="Leakage, adaptation and momentum in noisy-RNN replay",
    steps={
        "dataset": Step(f"{STEPS_PKG}.dataset", dataset_settings, dataset_seed, depth=4,
                        config_key=config_key),
        "train": Step(f"{STEPS_PKG}.train", train_settings, network_seed, depth=3,
                      config_key=config_key),
        "replay": Step(f"{STEPS_PKG}.replay", replay_settings, network_seed, depth=2,
                       config_key=config_key),
        "stats": Step(f"{STEPS_PKG}.stats", stats_settings, depth=1, config_key=config_key),
        "gauss_markov": Step(f"{STEPS_PKG}.gauss_markov", gauss_markov_settings, depth=1),
        "figure": Step("studies.replay.figures", figure_settings),
        "claims": Step("studies.replay.claims", claims_settings),
    },
    figures=("fig1_tasks", "fig2_leakage", "fig3_adaptation", "fig4_momentum",
             "fig5_placecells", "fig6_langevin"),
    products=("claims.csv", "claims.md"),
    checks=cross_key_errors,
)
