"""The stm study's declaration: its steps (what each reads of the config, the module it runs),
its figures and its products. Plain dicts only: the DAG imports this module (no torch).

Every step reads the family it works on and nothing of the other families, so adding a family
or changing one's grid retrains nothing else. ``training.lrs_per_job`` only packs networks into
jobs and is left out of every step's settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...core.settings import wildcard
from ...core.study import Step, Study
from .grid import families, family_config, job_networks

STEPS_PKG = "studies.stm.steps"
TASK_KEYS = ("dt_ms", "t_in_ms", "t_resp_ms", "t_post_ms", "copies_per_class", "control_acc_window")
PACKING_KEYS = ("lrs_per_job",)


def _family(config: Mapping, wildcards: Any) -> dict:
    return family_config(config, wildcard(wildcards, "family"))


def _task(config: Mapping) -> dict:
    return {k: config[k] for k in TASK_KEYS}


def task_settings(config: Mapping, wildcards: Any) -> dict:
    return {"task": _task(config), "family": _family(config, wildcards)}


def train_settings(config: Mapping, wildcards: Any) -> dict:
    training = {k: v for k, v in config["training"].items() if k not in PACKING_KEYS}
    return {"task": _task(config), "family": _family(config, wildcards),
            "model": config["model"], "training": training,
            # the networks of this job: which lrs a job holds is packing, but the list is
            # what the job computes, so it is part of what the job is
            "networks": job_networks(config, wildcard(wildcards, "family"),
                                     int(wildcard(wildcards, "job")))}


def analysis_settings(config: Mapping, wildcards: Any) -> dict:
    return {"task": _task(config), "family": _family(config, wildcards),
            "model": config["model"], "analysis": config["analysis"]}


def stats_settings(config: Mapping, wildcards: Any) -> dict:
    return {"family": _family(config, wildcards), "scaling": config["scaling"],
            "task": _task(config)}


def theory_settings(config: Mapping, wildcards: Any = None) -> dict:
    return {"task": _task(config), "family": family_config(config, "nopost")
            if "nopost" in (config.get("family") or {}) else None}


def figure_settings(config: Mapping, wildcards: Any = None) -> dict:
    return {"families": families(config), "analysis": config["analysis"],
            "scaling": config["scaling"]}


def claims_settings(config: Mapping, wildcards: Any = None) -> dict:
    return {"families": families(config), "claims": config["claims"],
            "scaling": config["scaling"]}


def config_key(key: str, config: Mapping, wildcards: Any) -> str:
    """``family.*`` of a step is ``family.<its family>.*`` in the config files."""
    family = dict(wildcards or {}).get("family")
    head, _, rest = key.partition(".")
    if head == "family" and family:
        return f"family.{family}" + (f".{rest}" if rest else "")
    return key


STUDY = Study(
    name="stm",
    title="Dynamical phases of short-term memory: slow points, limit cycles and the "
          "critical learning rate",
    steps={
        "task": Step(f"{STEPS_PKG}.task", task_settings, depth=4, config_key=config_key),
        "train": Step(f"{STEPS_PKG}.train", train_settings, depth=3, config_key=config_key),
        "analyse": Step(f"{STEPS_PKG}.analyse", analysis_settings, depth=2, config_key=config_key),
        "stats": Step(f"{STEPS_PKG}.stats", stats_settings, depth=1, config_key=config_key),
        "theory": Step(f"{STEPS_PKG}.theory", theory_settings, depth=1),
        "figure": Step("studies.stm.figures", figure_settings),
        "claims": Step("studies.stm.claims", claims_settings),
    },
    figures=("stm_fig_task", "stm_fig_losses", "stm_fig_fractions", "stm_fig_scaling",
             "stm_fig_phase", "stm_fig_theory", "stm_fig_index", "stm_fig_control"),
    products=("claims.csv", "claims.md"),
)
