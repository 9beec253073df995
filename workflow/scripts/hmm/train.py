"""Rule hmm_train: every seed of one (HMM, model) as one population ->
noisyrnn.studies.hmm.steps.train."""

from noisyrnn.core import device, lifeline, provenance
from noisyrnn.studies.hmm.steps import train

sm = snakemake  # noqa: F821  (injected by Snakemake's script directive)
provenance.log_to(sm.log[0])
lifeline.watch()  # stop if the workflow dies
device.set_threads(sm.threads)
prov = provenance.record(sm)
train.train_model(sm.params.settings, sm.wildcards.hmm, sm.wildcards.model, sm.input.data,
                  sm.output.nc, prov)
