"""Rule hmm_claims: claims table B1-B12 -> noisyrnn.studies.hmm.claims.write_claims.

Writes claims.csv, claims.md and their sidecars {path}.prov.json (the full provenance record,
with the lineage of every statistics file read)."""

from noisyrnn.core import claims as engine
from noisyrnn.core import provenance
from noisyrnn.studies.hmm import claims

sm = snakemake  # noqa: F821  (injected by Snakemake's script directive)
provenance.log_to(sm.log[0])
prov = provenance.record(sm)
stats_ncs = dict(sm.input.items())  # {HMM name: path}
engine.check_sidecar_outputs([(sm.output.csv, sm.output.csv_sidecar),
                              (sm.output.md, sm.output.md_sidecar)])
claims.write_claims(sm.params.settings, stats_ncs, sm.output.csv, sm.output.md, prov)
