"""Rule hmm_stats: one HMM's statistics file -> noisyrnn.studies.hmm.steps.stats."""

from noisyrnn.core import provenance
from noisyrnn.studies.hmm.steps import stats

sm = snakemake  # noqa: F821  (injected by Snakemake's script directive)
provenance.log_to(sm.log[0])
prov = provenance.record(sm)
analysis = {k.removeprefix("analysis_"): v for k, v in sm.input.items() if k.startswith("analysis_")}
stats.hmm_stats(sm.params.settings, sm.wildcards.hmm, sm.input.data, analysis, sm.output.nc, prov)
