"""Rule stats: statistics of one task over seeds, networks, variants -> pipeline.compute_stats."""

from rnnreplay import device, pipeline, provenance

sm = snakemake  # noqa: F821  (injected by Snakemake's script directive)
provenance.log_to(sm.log[0])
device.set_threads(sm.threads)
prov = provenance.record(sm)
pipeline.compute_stats(
    sm.config, sm.wildcards.task, sm.input.dataset, list(sm.input.models),
    list(sm.input.histories), list(sm.input.replays), sm.output.nc, prov,
)
