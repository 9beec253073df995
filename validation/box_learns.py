"""Does the place-cell (box) network learn? Train it as the workflow would and print its error.

Builds the box dataset and trains one box network for every seed with the workflow's own steps
(``steps.dataset.make_dataset``, ``steps.train.train_networks``), on the config the workflow
would see, so the number printed is the ``final_position_error`` a run of that config gets.
The decoded error of a network that has not learned is chance, about 0.9 m in the 2.2 m box.

    python validation/box_learns.py                         # default config, every seed
    python validation/box_learns.py --configfile config/smoke.yaml --seeds 0
    python validation/box_learns.py --iterations 300 --net a0.2_k1_m0

Last line: ``box decoded error: <metres> m`` (mean over seeds; target below 0.3 m at default
scale). Not a unit test: at default scale it takes minutes per seed on a CPU core.
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import xarray as xr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from noisyrnn.core import device, packing, settings  # noqa: E402
from noisyrnn.studies.replay.nets import replay_networks  # noqa: E402
from noisyrnn.studies.replay.steps import dataset, train  # noqa: E402

TASK = "box"


def main(argv: list[str] | None = None) -> float:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configfile", nargs="*", default=[],
                    help="configs loaded on top of config/config.yaml, as --configfile does")
    ap.add_argument("--seeds", type=int, nargs="*", help="default: the config's seeds")
    ap.add_argument("--net", help="network id (default: the first replayed network, a<alpha>_k1_m0)")
    ap.add_argument("--iterations", type=int, help="override training.iterations")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)

    files = [ROOT / "config" / "config.yaml", *map(Path, args.configfile)]
    config = settings.load_config(files)
    cfg = config["replay"]
    seeds = args.seeds if args.seeds is not None else list(cfg["seeds"])
    net = args.net or replay_networks(cfg["training"])[0]
    wc = {"task": TASK, "net": net}
    train_set = copy.deepcopy(settings.step_settings("replay", "train", config, wc))
    if args.iterations is not None:
        train_set["training"]["iterations"] = args.iterations
    device.set_threads(args.threads)
    tr, mdl = train_set["training"], train_set["model"]
    print(f"box network {net}: N = {mdl['n_hidden']}, batch {tr['batch_size']}, "
          f"{tr['iterations']} iterations, data {tr['data']}, seeds {seeds}", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ds_nc = tmp / "box.nc"
        dataset.make_dataset(settings.step_settings("replay", "dataset", config, wc), TASK,
                             int(cfg["dataset_seed"]), str(ds_nc), {"step": "validation"})
        outputs = {s: (str(tmp / f"{s}.pt"), str(tmp / f"{s}.history.nc")) for s in seeds}
        provs = {s: {"step": "validation", "seed": s} for s in seeds}
        groups = packing.chunks(seeds, 1)  # one network at a time: the bytes do not depend on it
        t0 = time.perf_counter()
        train.train_networks(train_set, TASK, net, groups, str(ds_nc), outputs, provs)
        wall = time.perf_counter() - t0
        errors = []
        for s in seeds:
            with xr.open_dataset(outputs[s][1]) as h:
                err = h["position_error"].values
                errors.append(float(err[-1]))
                print(f"seed {s}: decoded error {err[0]:.3f} m at iteration "
                      f"{int(h['iteration'][0])}, {err[-1]:.3f} m at {int(h['iteration'][-1])}")
    mean = float(np.mean(errors))
    print(f"{len(seeds)} seeds in {wall:.0f} s; target below 0.3 m at default scale")
    print(f"box decoded error: {mean:.3f} m")
    return mean


if __name__ == "__main__":
    main()
