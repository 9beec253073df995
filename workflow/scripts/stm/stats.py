"""Rule stm_stats: phase fractions, critical delays and the scaling fit of one family -> noisyrnn.studies.stm.steps.stats."""

from noisyrnn.core import lifeline, provenance
from noisyrnn.studies.stm.steps import stats

sm = snakemake  # noqa: F821  (injected by Snakemake's script directive)
provenance.log_to(sm.log[0])
lifeline.watch()  # stop if the workflow dies
prov = provenance.record(sm)
stats.family_stats(sm.params.settings, sm.wildcards.family, sm.input.task, list(sm.input.training), list(sm.input.analysis), sm.output.nc, prov)
