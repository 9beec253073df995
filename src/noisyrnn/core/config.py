"""Typed config sections: the shared base of every study's section dataclasses.

A study's YAML section (validated by its schema fragment, ``config/schema/<study>.yaml``) maps
onto dataclasses one sub-section at a time. Each dataclass lives beside the code that reads it,
so a step's code hash covers the settings it uses and no others. Every choice a brief marks
*(reconstructed)* is a field with its documented default.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any


def from_mapping(cls, mapping: dict[str, Any] | None):
    """Build dataclass ``cls`` from a mapping, rejecting unknown keys by name."""
    mapping = dict(mapping or {})
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(mapping) - names)
    if unknown:
        raise ValueError(
            f"{cls.__name__}: unknown key(s) {unknown}; allowed keys are {sorted(names)}"
        )
    return cls(**mapping)


class Section:
    """Mixin for frozen config dataclasses: ``from_dict`` (strict keys) and ``to_dict``."""

    @classmethod
    def from_dict(cls, mapping: dict[str, Any] | None):
        return from_mapping(cls, mapping)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
