"""Rule replay_train: every seed of one (task, variant), trained as populations ->
noisyrnn.studies.replay.steps.train. Each network gets its own provenance record."""

import os

# Before torch loads: PyTorch's own pooled CPU allocator instead of fresh pages for each of the
# ~20 large activations per iteration (benchmarks/README.md: 1.72x -> 1.35x the matmul roofline
# at paper scale, results bitwise the same). Training only: it slows replay.
os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")

from noisyrnn.core import device, packing, lifeline, provenance  # noqa: E402
from noisyrnn.studies.replay.steps import train  # noqa: E402

sm = snakemake  # noqa: F821  (injected by Snakemake's script directive)
provenance.log_to(sm.log[0])
lifeline.watch()  # stop if the workflow dies
device.set_threads(sm.threads)
seeds = list(sm.params.seeds)
groups = packing.chunks(seeds, int(sm.resources.population))
outputs = {s: (m, h) for s, m, h in zip(seeds, sm.output.models, sm.output.histories)}
# One record per network, as if it had a job of its own: its seed, its files, its group.
job = provenance.record(sm)
params = {k: v for k, v in job["params"].items() if k != "seeds"}
group_of = {s: g for g in groups for s in g}
provs = {
    s: {
        **job,
        "wildcards": {**job["wildcards"], "seed": str(s)},
        "params": {**params, "seed": s, "population": group_of[s]},
        "outputs": [m, m + ".prov.json", h],
    }
    for s, (m, h) in outputs.items()
}
train.train_networks(
    sm.params.settings, sm.wildcards.task, sm.wildcards.net, groups, sm.input.dataset,
    outputs, provs, checkpoint=sm.params.checkpoint,
)
