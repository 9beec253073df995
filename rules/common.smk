# Helpers shared by all rule files - config validation, wildcard constraints, input lists,
# params (the config sections each step reads, the seed, the code hash), resources.
# Plain Python only; every rule file is declarative.

import functools
import hashlib
import os
import sys
from pathlib import Path

import jsonschema
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

# The package of this checkout, for the workflow and every job (also in conda envs and on
# SLURM nodes, which inherit the environment): src/ goes first on the import path.
SRC = str(Path(workflow.basedir) / "src")
sys.path.insert(0, SRC)
_pythonpath = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
os.environ.update(
    PYTHONPATH=os.pathsep.join([SRC, *(p for p in _pythonpath if p != SRC)])
)

from rnnreplay import provenance
from rnnreplay.pipeline import networks, replay_networks

TASKS = ("box", "tmaze", "triangle")
TRACK_TASKS = ("tmaze", "triangle")

# Statistics files each figure reads (figures.draw draws a placeholder for a missing task).
FIGURE_STATS = {
    "fig1_tasks": ("tmaze", "triangle", "box"),
    "fig2_leakage": ("tmaze", "triangle", "gauss_markov"),
    "fig3_adaptation": ("tmaze", "triangle", "box"),
    "fig4_momentum": ("tmaze", "triangle", "box"),
    "fig5_placecells": ("box",),
    "fig6_langevin": ("tmaze", "triangle", "box"),
}
FIGURES = tuple(FIGURE_STATS)

# Package modules each step runs. Their source, and transitively the package modules they
# import, is hashed into the step's `code` param, so editing them reruns the step (params
# trigger) while a bare `touch` does not. pipeline.py is glue that imports every science module:
# it is hashed on its own, not followed. Editing figures.py redraws figures, never retrains.
STEP_MODULES = {
    "dataset": (["tasks", "io"], ["pipeline"]),
    "train": (["training", "model", "tasks", "device", "io"], ["pipeline"]),
    "replay": (["replay", "model", "tasks", "device", "io"], ["pipeline"]),
    "stats": (
        ["stats", "score", "replay", "model", "tasks", "device", "io"],
        ["pipeline"],
    ),
    "gauss_markov": (["score", "io"], ["pipeline"]),
    "figure": (["figures", "plotting", "io"], []),
    "claims": (["claims", "io"], []),
}


# ----------------------------------------------------------------------------- validation
def _error_path(error):
    return ".".join(str(p) for p in error.absolute_path) or "(top level)"


def validate_config(config, schema_file):
    """Check ``config`` against the JSON schema, listing every error with the key it concerns,
    then fill the schema's defaults in (outside ``overrides``, which stay partial)."""
    schema = yaml.safe_load(Path(schema_file).read_text())
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=_error_path)
    if errors:
        lines = [f"  - {_error_path(e)}: {e.message}" for e in errors]
        raise WorkflowError(
            "invalid config (checked against config/schema.yaml):\n" + "\n".join(lines)
        )
    overrides = config.pop("overrides", None)
    validate(config, schema_file)  # Snakemake's validate: fills defaults in place
    config["overrides"] = overrides if overrides is not None else {}


# ----------------------------------------------------------------------------- config views
def canonical(value):
    """Deep copy with dict keys sorted, so a param's repr (the params rerun trigger) does
    not change when keys are only reordered in the YAML."""
    if isinstance(value, dict):
        return {str(k): canonical(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    return value


def seeds():
    return [int(s) for s in config["seeds"]]


def tasks():
    return list(config["tasks"])


SWEEP_KEYS = ("alphas", "mask_k", "modifiers_in_training", "replay_alphas")


def task_override(task, *sections):
    """The task's overrides (all sections, or only ``sections``)."""
    override = (config.get("overrides") or {}).get(task) or {}
    return {k: v for k, v in override.items() if not sections or k in sections}


def decode_section(task):
    """Decoding settings matter on the box only (track outputs are positions already)."""
    return config["decode"] if task == "box" else None


def seed_param(wildcards):
    return int(wildcards.seed)


def dataset_seed(wildcards):
    return int(config["dataset_seed"])


# The settings params below name the config each step reads. They are what the params rerun
# trigger compares, so each step lists what it reads and nothing more: adding a seed, an alpha
# or a mask k trains the new networks and keeps the trained ones.
def dataset_settings(wildcards):
    """Settings the dataset step reads - the task's generator section."""
    return canonical({"task": config["task"][wildcards.task]})


def train_settings(wildcards):
    """Settings the training step reads - model, training without the sweeps (the network id
    carries alpha, k and the regime), decoding (logged error), model/training overrides.
    """
    training = {k: v for k, v in config["training"].items() if k not in SWEEP_KEYS}
    return canonical(
        {
            "model": config["model"],
            "training": training,
            "decode": decode_section(wildcards.task),
            "overrides": task_override(wildcards.task, "model", "training"),
        }
    )


def replay_settings(wildcards):
    """Settings the replay step reads - replay, decoding, the task's replay override."""
    return canonical(
        {
            "replay": config["replay"],
            "decode": decode_section(wildcards.task),
            "overrides": task_override(wildcards.task, "replay"),
        }
    )


def stats_settings(wildcards):
    """Settings the statistics step reads - seeds, networks, replay variants, stats,
    decoding, claims.momentum_lambda_v (friction of the reference sampler), overrides.
    """
    return canonical(
        {
            "seeds": config["seeds"],
            "training": config["training"],
            "replay": config["replay"],
            "stats": config["stats"],
            "decode": decode_section(wildcards.task),
            "claims": {"momentum_lambda_v": config["claims"]["momentum_lambda_v"]},
            "overrides": task_override(wildcards.task),
        }
    )


def gauss_markov_settings(wildcards):
    return canonical({"stats": config["stats"]})


def figure_settings(wildcards):
    """figures.draw reads the claims section (which b_a / lambda_v / alpha / k count as on)."""
    return canonical({"claims": config["claims"]})


def claims_settings(wildcards):
    return canonical({"claims": config["claims"], "stats": config["stats"]})


def checkpoint_path(wildcards):
    """Resumable training checkpoint (training.checkpoint_every > 0). Not an output, so a
    failed or killed job leaves it for the rerun; the name carries a digest of the training
    settings and code, so a changed config or package never resumes a stale state."""
    digest = provenance.to_json(
        {"settings": train_settings(wildcards), "code": _package_hash("train")}
    )
    short = hashlib.sha256(digest.encode()).hexdigest()[:12]
    return f"results/models/{wildcards.task}/{wildcards.net}/seed{wildcards.seed}.{short}.ckpt"


@functools.lru_cache(maxsize=None)
def _package_hash(step):
    modules, exact = STEP_MODULES[step]
    return provenance.package_hash(modules, exact=exact)


def package_hash(step):
    """The `code` param of ``step``: which package modules it runs and their content hash
    (STEP_MODULES). Recorded in every provenance record, so `rnnreplay.provenance.check`
    can recompute it later."""
    modules, exact = STEP_MODULES[step]
    return {"modules": modules, "exact": exact, "sha256": _package_hash(step)}


# ----------------------------------------------------------------------------- resources
# Memory grows with the scale of the config, so it is estimated from it here (cluster
# specifics such as partitions, GPUs and time limits live in the profiles). A retried job
# (--retries) asks for 50 % more per attempt.
def _task_value(task, key, default):
    return (config["task"].get(task) or {}).get(key, default)


def _dataset_mb(task):
    n = _task_value(task, "n_train", 1000) + _task_value(task, "n_test", 200)
    steps = _task_value(task, "seq_len", 100) + 1
    code = _task_value(task, "n_place_cells", 512) if task == "box" else 2
    return 4 * n * steps * (code + 4) / 1e6


def _replay_mb(task):
    replay = {**config["replay"], **task_override(task).get("replay", {})}
    model = {**config["model"], **task_override(task).get("model", {})}
    variants = len(replay["b_a"]) * len(replay["lambda_v"])
    positions = variants * replay["n_traj"] * (replay["steps"] + 1) * 2 * 2
    hidden = (
        variants
        * replay["hidden_trials"]
        * (replay["steps"] // replay["hidden_every"] + 1)
        * model["n_hidden"]
    )
    return 4 * (positions + hidden) / 1e6


def _scaled(mb, attempt):
    return int(mb * (1 + 0.5 * (attempt - 1)))


def dataset_mem_mb(wildcards, attempt):
    return _scaled(1500 + 3 * _dataset_mb(wildcards.task), attempt)


def train_mem_mb(wildcards, attempt):
    return _scaled(2000 + 4 * _dataset_mb(wildcards.task), attempt)


def replay_mem_mb(wildcards, attempt):
    return _scaled(
        2000 + 2 * _dataset_mb(wildcards.task) + 4 * _replay_mb(wildcards.task), attempt
    )


def stats_mem_mb(wildcards, attempt):
    return _scaled(
        3000 + 2 * _dataset_mb(wildcards.task) + 6 * _replay_mb(wildcards.task), attempt
    )


# ----------------------------------------------------------------------------- paths
def dataset_path(task):
    return f"results/datasets/{task}.nc"


def stats_path(name):
    return f"results/stats/{name}.nc"


def model_paths(task, nets, suffix):
    return expand(
        "results/models/{task}/{net}/seed{seed}{suffix}",
        task=task,
        net=nets,
        seed=seeds(),
        suffix=suffix,
    )


def stats_inputs(wildcards):
    task = wildcards.task
    return {
        "dataset": dataset_path(task),
        "models": model_paths(task, networks(config, task), ".pt"),
        "histories": model_paths(task, networks(config, task), ".history.nc"),
        "replays": expand(
            "results/replay/{task}/{net}/seed{seed}.nc",
            task=task,
            net=replay_networks(config, task),
            seed=seeds(),
        ),
    }


def stats_files(names):
    """{name: path} for the configured tasks among ``names`` (and gauss_markov)."""
    return {
        name: stats_path(name)
        for name in names
        if name == "gauss_markov" or name in config["tasks"]
    }


def figure_inputs(wildcards):
    return stats_files(FIGURE_STATS[wildcards.fig])


def claims_inputs(wildcards):
    return stats_files([*TASKS, "gauss_markov"])


def figure_files(fig):
    return [f"results/figures/{fig}.pdf", f"results/figures/{fig}.png"]


def all_targets(wildcards):
    targets = [path for fig in FIGURES for path in figure_files(fig)]
    return targets + ["results/claims.csv", "results/claims.md"]


# ----------------------------------------------------------------------------- wildcards
wildcard_constraints:
    task="|".join(TASKS),
    net=r"a[0-9.]+_k[0-9]+_m[01]",
    seed=r"[0-9]+",
    fig="|".join(FIGURES),
