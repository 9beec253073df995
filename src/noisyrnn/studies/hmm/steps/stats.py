"""Step stats: one HMM's statistics file. The reference model's analysis whole (its mechanism
figures), the grid's emission metrics over (model, seed), the HMM's matrices and example
sequences."""

from __future__ import annotations

import numpy as np
import xarray as xr

from ....core import io
from .. import grid

#: per-network scalars kept over the whole grid (the metrics figure and claims B1–B3)
GRID_VARS = ("distance", "distance_baseline", "volatility_mean", "volatility_mean_hmm",
             "volatility_sd_hmm", "volatility_iid", "volatility_baseline", "left_plateau",
             "best_epoch")
GRID_ARRAYS = ("transition_sq_error", "transition_sq_error_baseline", "marginal_mean",
               "marginal_mean_hmm", "marginal_sd_hmm")


def hmm_stats(settings: dict, name: str, data_nc: str, analysis_ncs: dict[str, str], out_nc: str,
              prov: dict) -> xr.Dataset:
    data = io.read_netcdf(data_nc, required_vars=["transition", "emission", "sequence", "split"])
    ref = settings["reference"]
    if ref not in analysis_ncs:
        raise io.ArtefactError(f"reference model {ref} of {name} has no analysis file among "
                               f"{sorted(analysis_ncs)}")
    runs = {m: io.read_netcdf(p, required_vars=list(GRID_VARS)) for m, p in analysis_ncs.items()}
    ds = runs[ref].copy()
    ids = list(analysis_ncs)
    for var in GRID_VARS + GRID_ARRAYS:
        arr = xr.concat([runs[m][var] for m in ids], dim="model")
        ds[f"grid_{var}"] = arr.assign_attrs(long_name=f"{arr.attrs.get('long_name', var)} (every model)")
    hidden = [grid.parse_model(m)[0] for m in ids]
    dims = [grid.parse_model(m)[1] for m in ids]
    ds = ds.assign_coords(model=("model", ids), grid_hidden=("model", np.asarray(hidden, np.int64)),
                          grid_input_dim=("model", np.asarray(dims, np.int64)))
    test = data["sequence"].values[data["split"].values == 2][: int(settings["n_examples"])]
    ds["example"] = (("example", "example_time"), test.argmax(-1).astype(np.int8),
                     {"long_name": "example HMM sequences (test split), symbols"})
    ds["hmm_transition"] = data["transition"].rename(state="hmm_state", next_state="hmm_next_state")
    ds["hmm_emission"] = data["emission"].rename(state="hmm_state")
    ds.attrs.update(hmm=name, reference_model=ref, seq_len=int(data.attrs["seq_len"]))
    io.write_netcdf(ds, out_nc, prov, title=f"hmm statistics, {name}",
                    source="noisyrnn.studies.hmm.steps.stats")
    return ds
