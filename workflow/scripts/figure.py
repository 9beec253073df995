"""Rule figure: one figure from statistics files -> rnnreplay.figures.draw."""

from rnnreplay import figures, provenance

sm = snakemake  # noqa: F821  (injected by Snakemake's script directive)
provenance.log_to(sm.log[0])
prov = provenance.record(sm)
stats_ncs = dict(sm.input.items())  # {task or "gauss_markov": path}
figures.draw(sm.wildcards.fig, stats_ncs, sm.output.pdf, sm.output.png, prov, config=sm.config)
