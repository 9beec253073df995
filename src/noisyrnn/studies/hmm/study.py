"""The hmm study's declaration: its steps (what each reads of the config, the module it runs),
its figures and its products. Plain dicts only: the DAG imports this module (no torch).

Every step reads the HMM it works on and nothing of the other HMMs, so adding an HMM or
changing one's grid retrains nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...core.settings import wildcard
from ...core.study import Step, Study
from .grid import eval_length, family_config, hmms, reference_model, seeds

STEPS_PKG = "studies.hmm.steps"


def _name(wildcards: Any) -> str:
    return wildcard(wildcards, "hmm")


def data_settings(config: Mapping, wildcards: Any) -> dict:
    name = _name(wildcards)
    return {"hmm_params": config["hmm_params"], "n_sequences": config["n_sequences"],
            "data_seed": config["data_seed"],
            "family": {"seq_len": family_config(config, name)["seq_len"]}}


def train_settings(config: Mapping, wildcards: Any) -> dict:
    name = _name(wildcards)
    fam = family_config(config, name)
    return {"hmm_params": config["hmm_params"], "model": config["model"],
            "training": {k: v for k, v in config["training"].items() if k != "seeds"},
            "family": {k: fam[k] for k in ("seq_len", "epochs", "grad_clip")},
            "seeds": seeds(config)}


def analyse_settings(config: Mapping, wildcards: Any) -> dict:
    name = _name(wildcards)
    analysis = {k: v for k, v in config["analysis"].items() if k != "reference"}
    return {"hmm_params": config["hmm_params"], "model": config["model"],
            "evaluation": config["evaluation"], "analysis": analysis,
            "eval_length": eval_length(config, name)}


def stats_settings(config: Mapping, wildcards: Any) -> dict:
    return {"reference": reference_model(config, _name(wildcards)),
            "n_examples": config["n_examples"]}


def figure_settings(config: Mapping, wildcards: Any = None) -> dict:
    return {"hmms": hmms(config), "analysis": {k: config["analysis"][k] for k in
                                               ("plateau_ratio", "rt_transition", "rt_cluster")}}


def claims_settings(config: Mapping, wildcards: Any = None) -> dict:
    return {"hmms": hmms(config), "claims": config["claims"],
            "plateau_ratio": config["analysis"]["plateau_ratio"]}


def config_key(key: str, config: Mapping, wildcards: Any) -> str:
    """Where a settings key lives in the config files: ``family.*`` is ``family.<its HMM>.*``,
    ``seeds`` is ``training.seeds``, ``eval_length`` the evaluation length's source and
    ``reference`` ``analysis.reference``."""
    name = dict(wildcards or {}).get("hmm")
    head, _, rest = key.partition(".")
    if head == "family" and name:
        return f"family.{name}" + (f".{rest}" if rest else "")
    if key == "eval_length" and name:
        return ("evaluation.chain_length" if name.startswith("chain")
                else f"family.{name}.seq_len")
    return {"seeds": "training.seeds", "reference": "analysis.reference",
            "plateau_ratio": "analysis.plateau_ratio"}.get(key, key)


def checks(section: Mapping) -> list[tuple[str, str]]:
    """Cross-key checks: every selected HMM has a family section."""
    fams = section.get("family") or {}
    return [("hmms", f"{name} is selected but family.{name} is not set")
            for name in section.get("hmms") or [] if name not in fams]


STUDY = Study(
    name="hmm",
    title="RNNs emulating hidden Markov models: Sinkhorn training, noise-sustained orbits and "
          "kick neurons found by rule",
    steps={
        "data": Step(f"{STEPS_PKG}.data", data_settings, depth=4, config_key=config_key),
        "train": Step(f"{STEPS_PKG}.train", train_settings, depth=3, config_key=config_key),
        "analyse": Step(f"{STEPS_PKG}.analyse", analyse_settings, depth=2, config_key=config_key),
        "stats": Step(f"{STEPS_PKG}.stats", stats_settings, depth=1, config_key=config_key),
        "figure": Step("studies.hmm.figures", figure_settings, config_key=config_key),
        "claims": Step("studies.hmm.claims", claims_settings, config_key=config_key),
    },
    figures=("hmm_fig_hmms", "hmm_fig_metrics", "hmm_fig_orbits", "hmm_fig_noise",
             "hmm_fig_training", "hmm_fig_regions", "hmm_fig_kick", "hmm_fig_multi"),
    products=("claims.csv", "claims.md"),
    checks=checks,
)
