"""Rule stm_task: the trial tensors and loss weights of one family -> noisyrnn.studies.stm.steps.task."""

from noisyrnn.core import lifeline, provenance
from noisyrnn.studies.stm.steps import task

sm = snakemake  # noqa: F821  (injected by Snakemake's script directive)
provenance.log_to(sm.log[0])
lifeline.watch()  # stop if the workflow dies
prov = provenance.record(sm)
task.make_task(sm.params.settings, sm.wildcards.family, sm.output.nc, prov)
