"""Step data: one HMM's matrices and its sampled sequences (train / validation / test thirds)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from ....core import io
from ....core.seeds import derive_seed
from .. import hmms

SPLITS = ("train", "val", "test")


def hmm_of(settings: dict, name: str) -> hmms.HMM:
    return hmms.build(name, settings["hmm_params"])


def check_matrices(ds: xr.Dataset, hmm: hmms.HMM, path: str) -> None:
    """A data file must hold the HMM its settings describe (never train on a stale file)."""
    for var, want in (("transition", hmm.transition), ("emission", hmm.emission)):
        if ds[var].shape != want.shape or not np.allclose(ds[var].values, want):
            raise io.ArtefactError(f"{path}: {var} is not the HMM these settings describe; "
                                   "rerun the rule that makes it")


def split(ds: xr.Dataset, which: str) -> np.ndarray:
    """(n, T, 3) float32 one-hot sequences of one split."""
    sel = ds["split"].values == SPLITS.index(which)
    return ds["sequence"].values[sel].astype(np.float32)


def make_data(settings: dict, name: str, out_nc: str, prov: dict) -> xr.Dataset:
    hmm = hmm_of(settings, name)
    n, length = int(settings["n_sequences"]), int(settings["family"]["seq_len"])
    rng = np.random.default_rng(derive_seed(int(settings["data_seed"]), "hmm", "data", name))
    states, symbols = hmms.sample(hmm, n, length, rng)
    third = np.repeat(np.arange(3), int(np.ceil(n / 3)))[:n]
    ds = xr.Dataset(
        {
            "transition": (("state", "next_state"), hmm.transition,
                           {"long_name": "transition matrix P(next state | state)", "units": "1"}),
            "emission": (("state", "symbol"), hmm.emission,
                         {"long_name": "emission matrix P(symbol | state)", "units": "1"}),
            "start": (("state",), hmm.start, {"long_name": "initial state distribution", "units": "1"}),
            "sequence": (("sequence", "time", "symbol"), hmms.one_hot(symbols).astype(np.int8),
                         {"long_name": "one-hot emitted symbols"}),
            "hidden_state": (("sequence", "time"), states.astype(np.int8),
                             {"long_name": "hidden state of the HMM"}),
            "split": (("sequence",), third.astype(np.int8),
                      {"long_name": "split (0 train, 1 validation, 2 test)"}),
        },
        coords={"time": ("time", np.arange(length), {"long_name": "step", "units": "steps"})},
        attrs={"hmm": name, "n_states": hmm.n_states, "seq_len": length},
    )
    io.write_netcdf(ds, out_nc, prov, title=f"hmm data, {name}", source="noisyrnn.studies.hmm.hmms")
    return ds
