"""Step analyse: what each network of one training job learned, and how.

Per network (``net``, in the training file's order):
- the outcome class from its accuracy and reliability curves (:func:`analysis.outcome_class`;
  the no-memory control also fails above ``control_loss_fail``);
- for a learned network, the free run (the first cue-1 trial, noise on, then
  ``free_run_factor`` × its length of zeros), its PSD-ratio mechanism index and, with
  ``second_label``, the speed-and-winding label;
- the top-2-PC latent of the job's most typical LC and SP network (median PSD ratio of its
  class), for the example-trajectory figure.
"""

from __future__ import annotations

import logging

import numpy as np
import xarray as xr

from ....core import io
from ....core.console import Progress
from .. import analysis, training
from ..conditions import layout_for
from ..labels import CLASS_CODES, LC, NOT_APPLICABLE, NOT_LEARNED, SP

log = logging.getLogger(__name__)


def analyse_job(settings: dict, family: str, task_nc: str, training_nc: str, out_nc: str,
                prov: dict) -> xr.Dataset:
    an, fam, task, model = (settings[k] for k in ("analysis", "family", "task", "model"))
    io.read_netcdf(task_nc)  # the task file the networks were trained on: checked, not needed
    train = io.read_netcdf(training_nc, required_vars=["loss", "accuracy", "reliability"])
    n = train.sizes["net"]
    outcome = np.empty(n, dtype=object)
    index_code = np.full(n, NOT_APPLICABLE, dtype=np.int8)
    second_code = np.full(n, NOT_APPLICABLE, dtype=np.int8)
    ratio = np.full(n, np.nan)
    speed = np.full(n, np.nan)
    turns = np.full(n, np.nan)
    latents: dict[int, np.ndarray] = {}
    progress = Progress(f"stm analyse {family}", n)
    for j in range(n):
        progress.update(j + 1, f"{int(np.sum(index_code > 0))} learned so far")
        acc = train["accuracy"].values[j]
        rel = train["reliability"].values[j]
        outcome[j] = analysis.outcome_class(
            acc, rel, learn_thr=an["learn_thr"], fail_thr=an["fail_thr"],
            stability_max=an["stability_max"], last_frac=an["last_frac"])
        if fam.get("control"):
            loss = train["loss"].values[j]
            final = loss[np.isfinite(loss)][-1] if np.isfinite(loss).any() else np.inf
            if final > an["control_loss_fail"]:
                outcome[j] = analysis.NO_LEARNING
        if outcome[j] != analysis.LEARNED:
            continue
        layout = layout_for(task, fam, float(train["delay_ms"].values[j]))
        rates = training.free_run(train, j, layout, extra_factor=int(an["free_run_factor"]),
                                  sigma=float(model["sigma"]), seed=int(train["seed"].values[j]))
        ratio[j] = analysis.psd_ratio(rates, radius=an["psd_radius"])
        index_code[j] = CLASS_CODES[analysis.index_label(ratio[j], an["index_threshold"])]
        if an["second_label"]:
            label, speed[j], turns[j] = analysis.second_label(
                rates, tail_frac=an["second_label_tail_frac"], sp_speed_tol=an["sp_speed_tol"],
                lc_min_rotations=an["lc_min_rotations"])
            second_code[j] = CLASS_CODES[label]
        latents[j] = analysis.top_pcs(rates, 2)
    learned = outcome == analysis.LEARNED
    mech = np.where(learned, index_code, CLASS_CODES[NOT_LEARNED])
    data = {
        "outcome": (("net",), outcome.astype(str),
                    {"long_name": "outcome class (learned, unstable, no_learning)"}),
        "learned": (("net",), learned, {"long_name": "learned (STM.md §4 rule)"}),
        "mechanism_code": (("net",), mech.astype(np.int8),
                           {"long_name": "mechanism by the PSD index",
                            "flag_values": "0 not learned, 1 LC, 2 SP"}),
        "index_code": (("net",), index_code,
                       {"long_name": "PSD-index label of a learned net", "flag_values": "1 LC, 2 SP, -1 n/a"}),
        "psd_ratio": (("net",), ratio, {"long_name": "PSD ratio (low-frequency power share)", "units": "1"}),
    }
    if an["second_label"]:
        data["second_code"] = (("net",), second_code,
                               {"long_name": "speed-and-winding label of a learned net",
                                "flag_values": "1 LC, 2 SP, -1 n/a"})
        data["late_speed"] = (("net",), speed, {"long_name": "late latent speed", "units": "1/step"})
        data["rotations"] = (("net",), turns, {"long_name": "late windings about the centroid", "units": "1"})
    ex_len = max((v.shape[0] for v in latents.values()), default=1)
    for label in (LC, SP):
        pick = np.flatnonzero(index_code == CLASS_CODES[label])
        lat = np.full((ex_len, 2), np.nan)
        at, r = -1, np.nan
        if pick.size:
            at = int(pick[np.argsort(ratio[pick])[len(pick) // 2]])
            lat[: latents[at].shape[0]] = latents[at]
            r = ratio[at]
        data[f"example_{label.lower()}"] = (("free_time", "pc"), lat,
                                           {"long_name": f"free run of this job's median-ratio {label} net, top-2 PCs",
                                            "units": "1"})
        data[f"example_{label.lower()}_net"] = ((), at, {"long_name": f"index of that {label} net (-1: none)"})
        data[f"example_{label.lower()}_ratio"] = ((), r, {"long_name": "its PSD ratio", "units": "1"})
    coords = {c: train[c] for c in ("lr", "delay_ms", "seed") if c in train.coords}
    ds = xr.Dataset(data, coords=coords)
    ds.attrs.update(family=family, n_learned=int(learned.sum()), n_nets=n)
    io.write_netcdf(ds, out_nc, prov, title=f"stm per-network analysis, family {family}",
                    source="noisyrnn.studies.stm.steps.analyse")
    log.info("%s: %d of %d learned; LC %d, SP %d", family, learned.sum(), n,
             int((index_code == CLASS_CODES[LC]).sum()), int((index_code == CLASS_CODES[SP]).sum()))
    return ds
