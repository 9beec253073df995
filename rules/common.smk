# Helpers shared by all rule files - config validation, wildcard constraints, input lists,
# params (the config sections each step reads, the seed, the code hash), resources.
# Plain Python only; every rule file is declarative.

import functools
import hashlib
import json
import os
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

# The package of this checkout, for the workflow and every job (also in conda envs and on
# SLURM nodes, which inherit the environment): src/ goes first on the import path.
SRC = str(Path(workflow.basedir) / "src")
sys.path.insert(0, SRC)
_pythonpath = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
os.environ.update(
    PYTHONPATH=os.pathsep.join([SRC, *(p for p in _pythonpath if p != SRC)])
)

from rnnreplay import provenance, settings
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
def validate_config(config, schema_file):
    """Validate ``config`` (every error, with its key) and fill the schema's defaults in."""
    try:
        settings.validate_config(config, schema_file)
    except settings.ConfigError as err:
        raise WorkflowError(str(err)) from None


def record_configfiles(schema_file):
    """Tell jobs (and through their provenance, `rnnreplay audit`) which config files this
    run read - the Snakefile's configfile first, then each --configfile on top - and the
    schema that filled the defaults in."""
    cli = [str(f) for f in workflow.overwrite_configfiles]
    files = [str(f) for f in workflow.configfiles if str(f) not in cli] + cli
    os.environ[settings.CONFIGFILES_ENV] = json.dumps(
        {
            "files": [_workdir_path(f) for f in files],
            "schema": _workdir_path(schema_file),
        }
    )


def _workdir_path(path):
    """Relative to the working directory when inside it (records move with results/)."""
    rel = os.path.relpath(path)
    return os.path.abspath(path) if rel.startswith("..") else rel


# ----------------------------------------------------------------------------- config views
def seeds():
    return [int(s) for s in config["seeds"]]


def tasks():
    return list(config["tasks"])


def task_override(task, *sections):
    return settings.task_override(config, task, *sections)


def seed_param(wildcards):
    return settings.step_seed("train", config, wildcards)


def dataset_seed(wildcards):
    return settings.step_seed("dataset", config, wildcards)


# The `settings` param of each rule is the config its step reads, and nothing more
# (rnnreplay.settings.step_settings): it is what the params rerun trigger compares, and
# what `rnnreplay audit` recomputes to find results the config no longer describes.
def dataset_settings(wildcards):
    return settings.step_settings("dataset", config, wildcards)


def train_settings(wildcards):
    return settings.step_settings("train", config, wildcards)


def replay_settings(wildcards):
    return settings.step_settings("replay", config, wildcards)


def stats_settings(wildcards):
    return settings.step_settings("stats", config, wildcards)


def gauss_markov_settings(wildcards):
    return settings.step_settings("gauss_markov", config, wildcards)


def figure_settings(wildcards):
    return settings.step_settings("figure", config, wildcards)


def claims_settings(wildcards):
    return settings.step_settings("claims", config, wildcards)


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
