"""Rule hmm_figure: one figure from statistics files -> noisyrnn.studies.hmm.figures.draw."""

from noisyrnn.core import provenance
from noisyrnn.studies.hmm import figures

sm = snakemake  # noqa: F821  (injected by Snakemake's script directive)
provenance.log_to(sm.log[0])
prov = provenance.record(sm)
stats_ncs = dict(sm.input.items())  # {HMM name: path}
figures.draw(sm.wildcards.fig, stats_ncs, sm.output.pdf, sm.output.png, prov,
             config=sm.params.settings)
