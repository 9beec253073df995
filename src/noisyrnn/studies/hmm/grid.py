"""The one home of the hmm study's identities: which HMMs a config trains, the models of each
(hidden size × input dimension, every seed in one job), and the reference model of the
mechanism figures. Plain Python: the DAG imports it."""

from __future__ import annotations

import re
from collections.abc import Mapping

from .hmms import CHAIN_RE, FAMILIES

MODEL_RE = re.compile(r"^h(?P<hidden>[0-9]+)_d(?P<dim>[0-9]+)$")


def hmms(config: Mapping) -> list[str]:
    return list(config["hmms"])


def family_config(config: Mapping, name: str) -> dict:
    fam = (config.get("family") or {}).get(name)
    if fam is None:
        raise KeyError(f"hmm.family.{name}: no section for HMM {name!r} (it is in hmm.hmms)")
    return dict(fam)


def kind(name: str) -> str:
    """"chain", "fully" or "cyclic": the key of per-kind values (gradient clip)."""
    return "chain" if CHAIN_RE.match(name) else name


def model_id(hidden: int, dim: int) -> str:
    return f"h{int(hidden)}_d{int(dim)}"


def parse_model(model: str) -> tuple[int, int]:
    m = MODEL_RE.match(str(model))
    if not m:
        raise ValueError(f"model id {model!r} is not h<hidden>_d<input dim>")
    return int(m["hidden"]), int(m["dim"])


def models(config: Mapping, name: str) -> list[str]:
    """Model ids of HMM ``name``: every (hidden, input_dim) of its grid."""
    fam = family_config(config, name)
    return [model_id(h, d) for h in fam["hidden"] for d in fam["input_dim"]]


def seeds(config: Mapping) -> list[int]:
    return list(range(int(config["training"]["seeds"])))


def reference_model(config: Mapping, name: str) -> str:
    """The mechanism figures' model: ``analysis.reference`` if in the grid, else the first."""
    ref = config["analysis"]["reference"]
    want = model_id(ref["hidden"], ref["input_dim"])
    ids = models(config, name)
    return want if want in ids else ids[0]


def eval_length(config: Mapping, name: str) -> int:
    """Evaluation length: ``evaluation.chain_length`` for linear chains (HMM.md §1), the
    training length otherwise."""
    if CHAIN_RE.match(name):
        return int(config["evaluation"]["chain_length"])
    return int(family_config(config, name)["seq_len"])


__all__ = ["FAMILIES", "hmms", "family_config", "kind", "model_id", "parse_model", "models",
           "seeds", "reference_model", "eval_length"]
