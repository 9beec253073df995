# Helpers shared by every study: config validation, the params each job
# carries (the config its step reads, the seed, the code hash), memory scaling and target lists.
# Plain Python only; rule files stay declarative.

import functools
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

from noisyrnn.core import lastrun, lifeline, provenance, settings, study

# Jobs watch this process and stop when it dies (a SIGKILLed run leaves nothing running).
lifeline.mark_workflow()

SCHEMA_DIR = Path(workflow.basedir) / "config" / "schema"


# ----------------------------------------------------------------------------- validation
def validate_config(config):
    """Validate ``config`` (every error, with its key and the file that set it) and fill the
    schemas' defaults in, before any job is planned."""
    try:
        settings.validate_config(config, SCHEMA_DIR, files=configfiles_read())
    except settings.ConfigError as err:
        raise WorkflowError(str(err)) from None
    STUDIES.update((name, study.load(name)) for name in config["studies"])
    seen = {}
    for name, declared in STUDIES.items():
        for fig in declared.figures:
            if fig in seen:
                raise WorkflowError(
                    f"figure {fig} is declared by studies {seen[fig]} and {name}"
                )
            seen[fig] = name


def configfiles_read():
    """The config files this run read: the Snakefile's configfile first, then each
    --configfile on top (each once)."""
    cli = [str(f) for f in workflow.overwrite_configfiles]
    files = [str(f) for f in workflow.configfiles if str(f) not in cli] + cli
    return [_workdir_path(f) for f in dict.fromkeys(files)]


def record_configfiles():
    """Tell jobs (and through their provenance, `noisyrnn audit`) which config files this
    run read, the schema folder that filled the defaults in, and the Snakefile (the audit's
    repair command names it when run from another directory)."""
    os.environ[provenance.CONFIGFILES_ENV] = json.dumps(
        {
            "files": configfiles_read(),
            "schema": _workdir_path(SCHEMA_DIR),
            "snakefile": _workdir_path(workflow.main_snakefile),
        }
    )


def _workdir_path(path):
    """Relative to the working directory when inside it (records move with results/)."""
    rel = os.path.relpath(path)
    return os.path.abspath(path) if rel.startswith("..") else rel


def selected_studies():
    return list(config["studies"])


# The selected studies' declarations (noisyrnn.core.study), filled in by validate_config.
STUDIES = {}


# ----------------------------------------------------------------------------- params
# The params of each step: `settings` is the config the step reads and nothing more (what the
# params rerun trigger compares and `noisyrnn audit` recomputes); `code` is the content hash of
# the package modules the step runs; `seed`, where the step has one.
def settings_param(name, step):
    def settings_of(wildcards):
        # printed by its digest in "reason:" lines (settings.Settings), not as the whole dict
        return settings.Settings(settings.step_settings(name, step, config, wildcards))

    settings_of.__name__ = f"{name}_{step}_settings"
    return settings_of


def seed_param(name, step):
    def seed_of(wildcards):
        return settings.step_seed(name, step, config, wildcards)

    seed_of.__name__ = f"{name}_{step}_seed"
    return seed_of


@functools.lru_cache(maxsize=None)
def _code_hash(runs):
    return provenance.package_hash([runs])


def code_param(name, step):
    """Which package module the step runs and the hash of its import closure. Recorded in
    every provenance record, so the audit can recompute it later."""
    runs = STUDIES[name].steps[step].module
    return {"modules": [runs], "sha256": _code_hash(runs)}


# ----------------------------------------------------------------------------- resources
# Memory grows with the scale of the config, so each study estimates it from its config;
# cluster specifics (partitions, GPUs, time limits) live in the profiles. A retried job
# (--retries) asks for 50 % more per attempt.
def scaled_mb(mb, attempt):
    return int(mb * (1 + 0.5 * (attempt - 1)))


# ----------------------------------------------------------------------------- targets
def results(name, path):
    return f"results/{name}/{path}"


def figure_files(name, fig):
    return [results(name, f"figures/{fig}.pdf"), results(name, f"figures/{fig}.png")]


def all_targets():
    targets = []
    for name, declared in STUDIES.items():
        for fig in declared.figures:
            targets.extend(figure_files(name, fig))
        targets.extend(results(name, p) for p in declared.products)
    return targets


# ----------------------------------------------------------------------------- run hooks
def on_start():
    """Record the config files this run read (`make report` describes this run)."""
    lastrun.record(configfiles_read(), [str(t) for t in workflow.dag.targetfiles or []])


def on_success():
    """End a run with where its results are: figures, claims tables with verdict counts,
    the report and audit commands."""
    figures = {
        name: [f for fig in declared.figures for f in figure_files(name, fig)]
        for name, declared in STUDIES.items()
    }
    tables = {
        name: [results(name, p) for p in declared.products]
        for name, declared in STUDIES.items()
    }
    print(lastrun.summary(figures, tables, configfiles_read()), flush=True)
