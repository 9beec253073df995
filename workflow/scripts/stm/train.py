"""Rule stm_train: every network of one (family, job) trained as one population ->
noisyrnn.studies.stm.steps.train."""

from noisyrnn.core import device, lifeline, provenance
from noisyrnn.studies.stm.steps import train

sm = snakemake  # noqa: F821  (injected by Snakemake's script directive)
provenance.log_to(sm.log[0])
lifeline.watch()  # stop if the workflow dies
device.set_threads(sm.threads)
prov = provenance.record(sm)
train.train_job(sm.params.settings, sm.wildcards.family, int(sm.wildcards.job), sm.input.task,
                sm.output.nc, prov)
