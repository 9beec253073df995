"""Rule replay_gauss_markov: exact score of the Gauss-Markov toy -> steps.gauss_markov."""

from noisyrnn.core import lifeline, provenance
from noisyrnn.studies.replay.steps import gauss_markov

sm = snakemake  # noqa: F821  (injected by Snakemake's script directive)
provenance.log_to(sm.log[0])
lifeline.watch()  # stop if the workflow dies
prov = provenance.record(sm)
gauss_markov.gauss_markov(sm.params.settings, sm.output.nc, prov)
