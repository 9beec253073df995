"""Rule replay: zero-input replay of one network, all variants -> rnnreplay.pipeline.run_replay."""

from rnnreplay import device, pipeline, provenance

sm = snakemake  # noqa: F821  (injected by Snakemake's script directive)
provenance.log_to(sm.log[0])
device.set_threads(sm.threads)
prov = provenance.record(sm)
pipeline.run_replay(
    sm.config, sm.wildcards.task, sm.wildcards.net, sm.params.seed, sm.input.dataset,
    sm.input.model, sm.output.nc, prov,
)
