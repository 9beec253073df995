"""How a study declares itself to the core: its steps, figures and targets.

Each study package ``noisyrnn.studies.<name>`` has a module ``study.py`` holding ``STUDY``, a
:class:`Study`. The workflow (rule names, figure target rules, code-hash and settings params)
and the audit (which step a record came from, how to recompute its settings, print order) read
these declarations, so adding a study means adding its files and one entry in ``studies:``.
Studies are found by name, never imported here by hand: core stays study-neutral.

A declaration module must not import torch: the DAG imports it.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STUDIES_DIR = Path(__file__).resolve().parent.parent / "studies"
NAME_RE = re.compile(r"^[a-z][a-z0-9]*$")

Settings = Callable[[Mapping[str, Any], Any], dict]
Seed = Callable[[Mapping[str, Any], Any], "int | None"]
# (dotted settings key, study section, wildcards) -> dotted key in the study's config files
ConfigKey = Callable[[str, Mapping[str, Any], Any], str]
# (study section, with defaults filled in) -> [(dotted key within the section, message)]: the
# checks a schema cannot state, keys whose values must be among another key's values.
Checks = Callable[[Mapping[str, Any]], "list[tuple[str, str]]"]


@dataclass(frozen=True)
class Step:
    """One rule of a study.

    ``module``: the package module the step runs (dotted, from the package root); its source
    and, transitively, every package module it imports make the step's code hash.
    ``settings(study_config, wildcards)``: the config the step reads, and nothing more (the
    rule's ``settings`` param, which the params rerun trigger and the audit compare).
    ``seed(study_config, wildcards)``: the step's ``seed`` param, or None.
    ``depth``: audit print order, 0 for final products, larger further upstream.
    ``config_key(key, study_config, wildcards)``: where a dotted key of the settings lives in
    the study's config files, when the settings reshape the config (a per-task section
    handed over as ``task``); None when the settings keys are config keys already.
    """

    module: str
    settings: Settings
    seed: Seed | None = None
    depth: int = 0
    config_key: ConfigKey | None = None


@dataclass(frozen=True)
class Study:
    """A study: its name (also its config section and results/ folder), steps and figures."""

    name: str
    title: str
    steps: Mapping[str, Step]
    figures: tuple[str, ...] = ()
    # Products besides the figures, relative to results/<name>/.
    products: tuple[str, ...] = ()
    schema: str = field(default="")
    # Cross-key checks, run with the schema before any job is planned (core.settings).
    checks: Checks | None = None

    def __post_init__(self):
        if not NAME_RE.match(self.name):
            raise ValueError(f"study name {self.name!r} must match {NAME_RE.pattern}")
        if not self.schema:
            object.__setattr__(self, "schema", f"config/schema/{self.name}.yaml")

    def rule(self, step: str) -> str:
        """Rule name of ``step``: namespaced by the study."""
        return f"{self.name}_{step}"


def available() -> list[str]:
    """Names of the study packages in this checkout."""
    return sorted(p.parent.name for p in STUDIES_DIR.glob("*/study.py")
                  if NAME_RE.match(p.parent.name))


def load(name: str) -> Study:
    """The declaration of study ``name``."""
    if name not in available():
        raise KeyError(f"unknown study {name!r}; studies are {', '.join(available())}")
    study = importlib.import_module(f"noisyrnn.studies.{name}.study").STUDY
    if study.name != name:
        raise ValueError(f"noisyrnn.studies.{name}.study declares study {study.name!r}")
    return study


def step_of(rule: str) -> tuple[Study, str] | None:
    """(study, step) a rule name belongs to, or None (a rule no study declares)."""
    name, _, step = str(rule).partition("_")
    if name not in available():
        return None
    study = load(name)
    return (study, step) if step in study.steps else None
