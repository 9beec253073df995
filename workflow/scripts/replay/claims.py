"""Rule replay_claims: claims table C1-C6 -> noisyrnn.studies.replay.claims.write_claims."""

from noisyrnn.core import provenance
from noisyrnn.studies.replay import claims

sm = snakemake  # noqa: F821  (injected by Snakemake's script directive)
provenance.log_to(sm.log[0])
prov = provenance.record(sm)
stats_ncs = dict(sm.input.items())  # {task or "gauss_markov": path}
claims.write_claims(sm.params.settings, stats_ncs, sm.output.csv, sm.output.md, prov)
