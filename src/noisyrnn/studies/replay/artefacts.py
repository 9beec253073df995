"""Checked readers of the replay study's artefacts: datasets and trained networks."""

from __future__ import annotations

import xarray as xr

from ...core import io
from ...core.cell import NoisyRNN, from_blob


def load_dataset(path: str) -> xr.Dataset:
    return io.read_netcdf(path, required_dims=("trial", "time", "space"),
                          required_vars=("position", "velocity"))


def load_network(model_pt: str, device=None) -> tuple[NoisyRNN, dict]:
    blob = io.load_model_blob(model_pt)
    return from_blob(blob, device=device), blob
