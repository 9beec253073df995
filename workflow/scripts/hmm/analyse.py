"""Rule hmm_analyse: emission metrics and mechanism analyses of one model's seeds ->
noisyrnn.studies.hmm.steps.analyse."""

from noisyrnn.core import device, lifeline, provenance
from noisyrnn.studies.hmm.steps import analyse

sm = snakemake  # noqa: F821  (injected by Snakemake's script directive)
provenance.log_to(sm.log[0])
lifeline.watch()  # stop if the workflow dies
device.set_threads(sm.threads)
prov = provenance.record(sm)
analyse.analyse_model(sm.params.settings, sm.wildcards.hmm, sm.wildcards.model, sm.input.data,
                      sm.input.training, sm.output.nc, prov)
