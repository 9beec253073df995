"""Rule hmm_data: one HMM's matrices and sampled sequences -> noisyrnn.studies.hmm.steps.data."""

from noisyrnn.core import provenance
from noisyrnn.studies.hmm.steps import data

sm = snakemake  # noqa: F821  (injected by Snakemake's script directive)
provenance.log_to(sm.log[0])
prov = provenance.record(sm)
data.make_data(sm.params.settings, sm.wildcards.hmm, sm.output.nc, prov)
