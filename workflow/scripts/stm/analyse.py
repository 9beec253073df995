"""Rule stm_analyse: outcome class, mechanism index and second label of every network of one training job -> noisyrnn.studies.stm.steps.analyse."""

from noisyrnn.core import lifeline, provenance
from noisyrnn.studies.stm.steps import analyse

sm = snakemake  # noqa: F821  (injected by Snakemake's script directive)
provenance.log_to(sm.log[0])
lifeline.watch()  # stop if the workflow dies
prov = provenance.record(sm)
analyse.analyse_job(sm.params.settings, sm.wildcards.family, sm.input.task, sm.input.training, sm.output.nc, prov)
