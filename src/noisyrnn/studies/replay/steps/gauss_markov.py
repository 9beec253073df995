"""Step gauss_markov: the exact time-varying score of the Gauss–Markov toy (SCIENCE.md §5.3)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from ....core import io
from .. import score
from ..stats import StatsConfig


def gauss_markov(settings: dict, out_nc: str, prov: dict) -> None:
    """Analytic time-varying score of the Gauss–Markov toy x_{t+1} = ρ x_t + η (SCIENCE.md §5.3)."""
    s = StatsConfig.from_dict(settings["stats"])
    m, P = score.gauss_markov_marginals(s.gm_rho, s.gm_q, s.gm_m0, s.gm_p0, s.gm_steps)
    m, P = np.asarray(m, float).reshape(-1), np.asarray(P, float).reshape(-1)
    pooled = float(score.pooled_score_rate(m, P))
    gap = score.score_rate_gap(P, pooled)
    t = np.arange(len(P))
    ds = xr.Dataset(
        {
            "m_t": ("time", m, {"long_name": "marginal mean", "units": "1"}),
            "P_t": ("time", P, {"long_name": "marginal variance", "units": "1"}),
            "score_rate": ("time", 1.0 / P, {"long_name": "exact score rate 1/P_t (score = -(x - m_t)/P_t)",
                                            "units": "1"}),
            "pooled_score_rate": ((), pooled, {"long_name": "score rate of the time-pooled Gaussian",
                                              "units": "1"}),
            "score_rate_gap": ("time", np.asarray(gap, float).reshape(-1),
                               {"long_name": "|1/P_t - pooled rate| / pooled rate", "units": "1"}),
            "stationary_variance": ((), float(score.stationary_variance(s.gm_rho, s.gm_q)),
                                    {"long_name": "q / (1 - rho^2)", "units": "1"}),
        },
        coords={"time": ("time", t, {"units": "steps"})},
        attrs={"rho": s.gm_rho, "q": s.gm_q, "m0": s.gm_m0, "P0": s.gm_p0},
    )
    io.write_netcdf(ds, out_nc, prov, title="Gauss-Markov toy: exact time-varying score",
                    source="noisyrnn.studies.replay.score.gauss_markov_marginals")
