"""Rule dataset: waking paths of one task -> rnnreplay.pipeline.make_dataset."""

from rnnreplay import pipeline, provenance

sm = snakemake  # noqa: F821  (injected by Snakemake's script directive)
provenance.log_to(sm.log[0])
prov = provenance.record(sm)
pipeline.make_dataset(sm.config, sm.wildcards.task, sm.params.seed, sm.output.nc, prov)
