"""The workflow's config, as each step sees it: loading, validation and per-step settings.

One implementation serves two callers. ``rules/common.smk`` turns the settings into the
``settings`` param of every rule (Snakemake's params rerun trigger compares it), and
``rnnreplay audit`` recomputes them from the config files as they are now, to say which
recorded results the config no longer describes. Loading and merging use Snakemake's own
functions, so both callers read a config file the same way.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

# The workflow tells its jobs which config files it read (provenance stores them, the audit
# rereads them) through this environment variable.
from .provenance import CONFIGFILES_ENV

# Training sweeps name networks (the net id carries alpha, k and the regime); a step reads the
# rest of the training section, so adding a seed or an alpha never retrains existing networks.
SWEEP_KEYS = ("alphas", "mask_k", "modifiers_in_training", "replay_alphas")

# Rules whose `settings` param this module computes (rule name == step name).
STEPS = ("dataset", "train", "replay", "stats", "gauss_markov", "figure", "claims")

DEFAULT_SCHEMA = Path("config") / "schema.yaml"


class ConfigError(ValueError):
    """A config that fails the schema; the message lists every offending key."""


# ----------------------------------------------------------------------------- loading
def _error_path(error) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "(top level)"


def _shown(path: str | os.PathLike) -> str:
    """``config/schema.yaml`` rather than an absolute path, when under the working directory."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def validate_config(config: dict, schema_file: str | os.PathLike) -> dict:
    """Check ``config`` against the JSON schema, listing every error with the key it concerns,
    then fill the schema's defaults in place (outside ``overrides``, which stay partial)."""
    import jsonschema
    import yaml
    from snakemake.utils import validate

    schema = yaml.safe_load(Path(schema_file).read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=_error_path)
    if errors:
        lines = [f"  - {_error_path(e)}: {e.message}" for e in errors]
        raise ConfigError(
            f"invalid config (checked against {_shown(schema_file)}):\n" + "\n".join(lines)
        )
    overrides = config.pop("overrides", None)
    validate(config, str(Path(schema_file).resolve()))  # fills the defaults in place
    config["overrides"] = overrides if overrides is not None else {}
    return config


def load_config(
    files: Sequence[str | os.PathLike], schema_file: str | os.PathLike = DEFAULT_SCHEMA
) -> dict:
    """The config the workflow would see for ``files`` (first = the Snakefile's configfile,
    then each ``--configfile`` on top), merged and validated as Snakemake does."""
    from snakemake.common.configfile import load_configfile
    from snakemake.utils import update_config

    if not files:
        raise ConfigError("no config file given")
    config: dict = {}
    for f in files:
        if not Path(f).is_file():
            raise ConfigError(f"config file {f} does not exist")
        update_config(config, load_configfile(str(f)))
    return validate_config(copy.deepcopy(config), schema_file)


# ----------------------------------------------------------------------------- views
def canonical(value: Any) -> Any:
    """Deep copy with dict keys sorted, so a param's repr (the params rerun trigger) does
    not change when keys are only reordered in the YAML."""
    if isinstance(value, Mapping):
        return {str(k): canonical(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    return value


def task_override(config: Mapping, task: str, *sections: str) -> dict:
    """The task's overrides (all sections, or only ``sections``)."""
    override = (config.get("overrides") or {}).get(task) or {}
    return {k: v for k, v in override.items() if not sections or k in sections}


def decode_section(config: Mapping, task: str) -> Any:
    """Decoding settings matter on the box only (track outputs are positions already)."""
    return config["decode"] if task == "box" else None


def _wildcard(wildcards: Any, name: str) -> str:
    if isinstance(wildcards, Mapping):
        return str(wildcards[name])
    return str(getattr(wildcards, name))


def step_settings(step: str, config: Mapping, wildcards: Any = None) -> dict:
    """The config a step reads, and nothing more (its ``settings`` param).

    ``wildcards`` is a Snakemake Wildcards object or a mapping (``task`` for the per-task
    steps). Each step lists only what it reads, so a config change reruns exactly the steps
    that read the changed key.
    """
    if step == "dataset":
        task = _wildcard(wildcards, "task")
        return canonical({"task": config["task"][task]})
    if step == "train":
        task = _wildcard(wildcards, "task")
        training = {k: v for k, v in config["training"].items() if k not in SWEEP_KEYS}
        return canonical(
            {
                "model": config["model"],
                "training": training,
                "decode": decode_section(config, task),
                "overrides": task_override(config, task, "model", "training"),
            }
        )
    if step == "replay":
        task = _wildcard(wildcards, "task")
        return canonical(
            {
                "replay": config["replay"],
                "decode": decode_section(config, task),
                "overrides": task_override(config, task, "replay"),
            }
        )
    if step == "stats":
        # claims.momentum_lambda_v sets the friction of the reference sampler
        task = _wildcard(wildcards, "task")
        return canonical(
            {
                "seeds": config["seeds"],
                "training": config["training"],
                "replay": config["replay"],
                "stats": config["stats"],
                "decode": decode_section(config, task),
                "claims": {"momentum_lambda_v": config["claims"]["momentum_lambda_v"]},
                "overrides": task_override(config, task),
            }
        )
    if step == "gauss_markov":
        return canonical({"stats": config["stats"]})
    if step == "figure":
        # figures.draw reads which b_a / lambda_v / alpha / k count as "on" from claims
        return canonical({"claims": config["claims"]})
    if step == "claims":
        return canonical({"claims": config["claims"], "stats": config["stats"]})
    raise KeyError(f"unknown step {step!r}; steps are {', '.join(STEPS)}")


def step_seed(step: str, config: Mapping, wildcards: Any = None) -> int | None:
    """The ``seed`` param of a step: the dataset seed, or the network's seed wildcard."""
    if step == "dataset":
        return int(config["dataset_seed"])
    if step in ("train", "replay"):
        return int(_wildcard(wildcards, "seed"))
    return None


def diff(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two settings trees, as ``key: old -> new``."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        out: list[str] = []
        for key in sorted(set(old) | set(new), key=str):
            name = f"{prefix}.{key}" if prefix else str(key)
            if key not in old:
                out.append(f"{name}: (absent) -> {new[key]!r}")
            elif key not in new:
                out.append(f"{name}: {old[key]!r} -> (absent)")
            else:
                out.extend(diff(old[key], new[key], name))
        return out
    return [] if old == new else [f"{prefix or '(value)'}: {old!r} -> {new!r}"]
