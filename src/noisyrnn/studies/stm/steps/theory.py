"""Step theory: the toy models' critical learning rates (STM.md §4) and the LC toy loss,
analytic against numerical. No training: exact functions of the task lengths."""

from __future__ import annotations

import numpy as np
import xarray as xr

from ....core import io
from .. import scaling

#: the LC toy's check point (STM.md §4)
TOY_T_D, TOY_T_R = 60, 10
#: the toy thresholds −sin(2πrt) (polarity −1): with it the loss is zero at r = 1/(2 T_d), as
#: STM.md §4 states; thresholding +sin puts the loss's maximum there instead (scaling.py)
TOY_POLARITY = -1


def make_theory(settings: dict, out_nc: str, prov: dict) -> xr.Dataset:
    task = settings["task"]
    dt = float(task["dt_ms"])
    t_resp = float(task["t_resp_ms"]) / dt
    t_delay = np.geomspace(1.0, 200.0, 200)  # steps: 5 ms … 1 s at Δt = 5 ms
    r = np.linspace(0.0, 2.0 / TOY_T_D, 401)[1:]
    ds = xr.Dataset(
        {
            "eta_sp": (("t_delay_steps",), scaling.eta_c_sp(t_delay, t_resp),
                       {"long_name": "SP toy critical lr (π⁴/4)·T_resp·T_d⁻⁵", "units": "1"}),
            "eta_lc": (("t_delay_steps",), scaling.eta_c_lc(t_delay, t_resp),
                       {"long_name": "LC toy critical lr T_resp·T_d⁻³/4", "units": "1"}),
            "lc_loss_analytic": (("r",), scaling.lc_toy_loss_analytic(r, TOY_T_D, TOY_T_R, polarity=TOY_POLARITY),
                                 {"long_name": "LC toy loss, piecewise analytic", "units": "1"}),
            "lc_loss_numeric": (("r",), scaling.lc_toy_loss_numeric(r, TOY_T_D, TOY_T_R, polarity=TOY_POLARITY),
                                {"long_name": "LC toy loss, by summing over steps", "units": "1"}),
        },
        coords={"t_delay_steps": ("t_delay_steps", t_delay, {"units": "steps"}),
                "r": ("r", r, {"long_name": "rotation rate", "units": "1/step"})},
        attrs={"t_resp_steps": t_resp, "dt_ms": dt, "toy_t_d": TOY_T_D, "toy_t_r": TOY_T_R,
               "toy_polarity": TOY_POLARITY},
    )
    io.write_netcdf(ds, out_nc, prov, title="stm theory curves",
                    source="noisyrnn.studies.stm.steps.theory")
    return ds
