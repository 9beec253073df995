"""Rule replay_train: one network (task, variant, seed) -> noisyrnn.studies.replay.steps.train."""

import os

# Before torch loads: PyTorch's own pooled CPU allocator instead of fresh pages for each of the
# ~20 large activations per iteration (benchmarks/README.md: 1.72x -> 1.35x the matmul roofline
# at paper scale, results bitwise the same). Training only: it slows replay.
os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")

from noisyrnn.core import device, provenance  # noqa: E402
from noisyrnn.studies.replay.steps import train  # noqa: E402

sm = snakemake  # noqa: F821  (injected by Snakemake's script directive)
provenance.log_to(sm.log[0])
device.set_threads(sm.threads)
prov = provenance.record(sm)
train.train_network(
    sm.params.settings, sm.wildcards.task, sm.wildcards.net, sm.params.seed, sm.input.dataset,
    sm.output.model, sm.output.history, prov, checkpoint=sm.params.checkpoint,
)
