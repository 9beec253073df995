"""Rule claims: claims table C1-C6 from statistics files -> rnnreplay.claims.write_claims."""

from rnnreplay import claims, provenance

sm = snakemake  # noqa: F821  (injected by Snakemake's script directive)
provenance.log_to(sm.log[0])
prov = provenance.record(sm)
stats_ncs = dict(sm.input.items())  # {task or "gauss_markov": path}
claims.write_claims(sm.config, stats_ncs, sm.output.csv, sm.output.md, prov)
