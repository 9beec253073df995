"""The replay study's config, as each step sees it: sections with per-task overrides merged.

``overrides.<task>.<section>`` replaces keys of ``<section>`` for one task. This is the one
place where that merge happens: the step settings (``study.py``), the resource estimates of the
rules and the steps themselves all go through :func:`section`. Plain dicts only: the DAG
imports this module.
"""

from __future__ import annotations

from collections.abc import Mapping


def task_override(config: Mapping, task: str) -> dict:
    """All override sections of ``task``."""
    return dict((config.get("overrides") or {}).get(task) or {})


def section(config: Mapping, task: str | None, name: str) -> dict:
    """Section ``name`` of the study config, with ``task``'s overrides on top."""
    base = dict(config.get(name) or {})
    if task is not None:
        base.update(task_override(config, task).get(name) or {})
    return base
