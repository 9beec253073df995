"""Rule gauss_markov: exact time-varying score of the Gauss-Markov toy -> pipeline.gauss_markov."""

from rnnreplay import pipeline, provenance

sm = snakemake  # noqa: F821  (injected by Snakemake's script directive)
provenance.log_to(sm.log[0])
prov = provenance.record(sm)
pipeline.gauss_markov(sm.config, sm.output.nc, prov)
