"""Rule train: one network (task, variant, seed) -> rnnreplay.pipeline.train_network."""

from rnnreplay import device, pipeline, provenance

sm = snakemake  # noqa: F821  (injected by Snakemake's script directive)
provenance.log_to(sm.log[0])
device.set_threads(sm.threads)
prov = provenance.record(sm)
pipeline.train_network(
    sm.config, sm.wildcards.task, sm.wildcards.net, sm.params.seed, sm.input.dataset,
    sm.output.model, sm.output.history, prov, checkpoint=sm.params.checkpoint,
)
