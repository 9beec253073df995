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
from collections.abc import Callable, Mapping, Sequence
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


def _get(tree: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(tree, Mapping) or part not in tree:
            return _ABSENT
        tree = tree[part]
    return tree


_ABSENT = object()


def key_source(dotted: str, files: Sequence[str | os.PathLike] | None) -> str:
    """Which config file sets the dotted key last (the one that wins), or the schema default."""
    from snakemake.common.configfile import load_configfile

    for f in reversed(list(files or ())):
        try:
            if _get(load_configfile(str(f)), dotted) is not _ABSENT:
                return _shown(f)
        except Exception:  # an unreadable file is reported by the loader, not here
            continue
    return "schema default"


def validate_config(config: dict, schema_dir: str | os.PathLike = DEFAULT_SCHEMA_DIR,
                    files: Sequence[str | os.PathLike] | None = None) -> dict:
    """Check ``config``: ``studies`` names known studies, every top-level key is a study, and
    each study section passes its schema fragment (every error listed with its key). Fills
    the defaults in place, a selected study's section included when the config has none.
    Then the study's cross-key checks (keys that must be among another key's values), each
    error naming the config file of ``files`` that set the key."""
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
            declared = study_mod.load(name)
            found = _validate_section(section, schema_dir / Path(declared.schema).name, name)
            errors.extend(found)
            if not found and declared.checks is not None:
                errors.extend(f"  - {name}.{key}: {message}  [{key_source(f'{name}.{key}', files)}]"
                              for key, message in declared.checks(section))
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
        update_config(config, read_config_file(f))
    return validate_config(copy.deepcopy(config), schema_dir, files=files)


def read_config_file(path: str | os.PathLike) -> dict:
    """One config file as a dict, Snakemake's way; :class:`ConfigError` naming the file, and
    for a YAML syntax error its line and column (Snakemake's own message names neither)."""
    from snakemake.common.configfile import load_configfile

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {_shown(path)} does not exist")
    try:
        return load_configfile(str(path))
    except Exception as err:
        raise ConfigError(f"{_shown(path)}{_yaml_problem(path) or f': {err}'}") from None


def _yaml_problem(path: Path) -> str | None:
    """``:line:column: not valid YAML: problem`` when the file is not YAML, else None."""
    import yaml

    try:
        yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        return f"{where}: not valid YAML: {getattr(err, 'problem', None) or err}"
    except (OSError, UnicodeDecodeError) as err:
        return f": cannot be read ({err})"
    return None


def check_files(files: Sequence[str | os.PathLike],
                schema_dir: str | os.PathLike = DEFAULT_SCHEMA_DIR) -> None:
    """Read, merge and validate ``files`` as the workflow would (``python -m
    noisyrnn.core.settings FILE...``, run by the Makefile before Snakemake, whose own YAML
    error names no file)."""
    load_config(files, schema_dir)


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


class Settings(dict):
    """A step's ``settings`` param: a plain dict whose repr is its digest.

    Snakemake stores a param's repr for the params rerun trigger and prints the old and new
    repr in a job's "reason:" line; the whole config, twice, per job. The digest still changes
    with any value, and ``noisyrnn audit`` names the changed keys."""

    def __repr__(self) -> str:
        import hashlib
        import json

        text = json.dumps(self, sort_keys=True, separators=(",", ":"), default=str)
        return f"<settings sha256:{hashlib.sha256(text.encode()).hexdigest()[:16]}>"

    def __reduce__(self):  # pickles as a plain dict: a job needs no import to unpickle it
        return (dict, (dict(self),))


def diff(old: Any, new: Any, prefix: str = "",
         rename: Callable[[str], str] | None = None) -> list[str]:
    """Dotted keys whose values differ between two settings trees, as ``key: old -> new``.

    ``rename`` maps each dotted key (without ``prefix``) to the name to print, e.g. a step's
    settings key to its path in the config files."""
    show = rename or (lambda key: f"{prefix}.{key}" if prefix and key else (prefix or key))
    out: list[str] = []

    def walk(a: Any, b: Any, key: str) -> None:
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            for k in sorted(set(a) | set(b), key=str):
                sub = f"{key}.{k}" if key else str(k)
                if k not in a:
                    out.append(f"{show(sub)}: (absent) -> {b[k]!r}")
                elif k not in b:
                    out.append(f"{show(sub)}: {a[k]!r} -> (absent)")
                else:
                    walk(a[k], b[k], sub)
        elif a != b:
            out.append(f"{show(key) if key or prefix else '(value)'}: {a!r} -> {b!r}")

    walk(old, new, "")
    return out


if __name__ == "__main__":
    import sys

    try:
        check_files(sys.argv[1:] or ["config/config.yaml"])
    except ConfigError as err:
        print(err, file=sys.stderr)
        sys.exit(2)
