"""The workflow's config: loading, validation, and what each step of each study reads.

One implementation serves two callers. ``rules/common.smk`` turns the settings into the
``settings`` param of every rule (Snakemake's params rerun trigger compares it), and
``noisyrnn audit`` recomputes them from the config files as they are now, to say which
recorded results the config no longer describes. Loading and merging use Snakemake's own
functions, so both callers read a config file the same way.

The config is composed: a top-level ``studies:`` list, and one section per study, named after
it and validated against the study's own schema fragment ``config/schema/<study>.yaml``
(:mod:`noisyrnn.core.study`). A section's ``overrides`` key stays partial (no defaults filled in).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from . import study as study_mod

DEFAULT_SCHEMA_DIR = Path("config") / "schema"
PARTIAL_KEY = "overrides"


class ConfigError(ValueError):
    """A config that fails the schema; the message lists every offending key."""


# ----------------------------------------------------------------------------- loading
def _error_path(error, prefix: str = "") -> str:
    return ".".join([prefix, *(str(p) for p in error.absolute_path)] if prefix else
                    [str(p) for p in error.absolute_path]) or "(top level)"


def _shown(path: str | os.PathLike) -> str:
    """``config/schema/replay.yaml`` rather than an absolute path, when under the working directory."""
    rel = os.path.relpath(path)
    return str(path) if rel.startswith("..") else rel


def _validate_section(section: dict, schema_file: Path, name: str) -> list[str]:
    """Errors of one study section (keys prefixed by the study), defaults filled in place."""
    import jsonschema
    import yaml
    from snakemake.utils import validate

    if not schema_file.is_file():
        return [f"  - {name}: schema fragment {_shown(schema_file)} not found"]
    schema = yaml.safe_load(schema_file.read_text(encoding="utf-8"))
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(section),
                    key=lambda e: _error_path(e, name))
    if errors:
        return [f"  - {_error_path(e, name)}: {e.message}  [{_shown(schema_file)}]" for e in errors]
    partial = section.pop(PARTIAL_KEY, None)
    validate(section, str(schema_file.resolve()))  # fills the defaults in place
    if PARTIAL_KEY in schema.get("properties", {}):
        section[PARTIAL_KEY] = partial if partial is not None else {}
    return []


def validate_config(config: dict, schema_dir: str | os.PathLike = DEFAULT_SCHEMA_DIR) -> dict:
    """Check ``config``: ``studies`` names known studies, every top-level key is a study, and
    each study section passes its schema fragment (every error listed with its key). Fills
    the defaults in place, a selected study's section included when the config has none."""
    schema_dir = Path(schema_dir)
    known = study_mod.available()
    errors: list[str] = []
    selected = config.get("studies")
    if not isinstance(selected, list) or not selected or not all(isinstance(s, str) for s in selected):
        errors.append(f"  - studies: must be a non-empty list of study names ({', '.join(known)})")
        selected = []
    for name in selected:
        if name not in known:
            errors.append(f"  - studies: unknown study {name!r}; studies are {', '.join(known)}")
    if len(set(selected)) != len(selected):
        errors.append("  - studies: a study is listed twice")
    for key in sorted(set(config) - {"studies"} - set(known)):
        errors.append(f"  - {key}: not a study section; top-level keys are studies and "
                      f"{', '.join(known)}")
    for name in known:
        if name in config or name in selected:
            section = config.setdefault(name, {})
            if not isinstance(section, dict):
                errors.append(f"  - {name}: must be a mapping (the {name} study's section)")
                continue
            schema = study_mod.load(name).schema
            errors.extend(_validate_section(section, schema_dir / Path(schema).name, name))
    if errors:
        raise ConfigError(f"invalid config (checked against {_shown(schema_dir)}/):\n"
                          + "\n".join(errors))
    return config


def load_config(
    files: Sequence[str | os.PathLike], schema_dir: str | os.PathLike = DEFAULT_SCHEMA_DIR
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
    return validate_config(copy.deepcopy(config), schema_dir)


# ----------------------------------------------------------------------------- views
def canonical(value: Any) -> Any:
    """Deep copy with dict keys sorted, so a param's repr (the params rerun trigger) does
    not change when keys are only reordered in the YAML."""
    if isinstance(value, Mapping):
        return {str(k): canonical(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    return value


def wildcard(wildcards: Any, name: str) -> str:
    if isinstance(wildcards, Mapping):
        return str(wildcards[name])
    return str(getattr(wildcards, name))


def step_settings(study: str, step: str, config: Mapping, wildcards: Any = None) -> dict:
    """The config step ``step`` of ``study`` reads, and nothing more (its ``settings`` param),
    from the whole config (the study's section is handed to the study's declaration)."""
    declared = study_mod.load(study).steps
    if step not in declared:
        raise KeyError(f"study {study} has no step {step!r}; steps are {', '.join(declared)}")
    return canonical(declared[step].settings(config[study], wildcards))


def step_seed(study: str, step: str, config: Mapping, wildcards: Any = None) -> int | None:
    """The ``seed`` param of a step, or None for steps without one."""
    seed = study_mod.load(study).steps[step].seed
    return None if seed is None else seed(config[study], wildcards)


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
