"""Rule stm_theory: the toy models' critical-lr curves and the LC toy loss -> noisyrnn.studies.stm.steps.theory."""

from noisyrnn.core import lifeline, provenance
from noisyrnn.studies.stm.steps import theory

sm = snakemake  # noqa: F821  (injected by Snakemake's script directive)
provenance.log_to(sm.log[0])
lifeline.watch()  # stop if the workflow dies
prov = provenance.record(sm)
theory.make_theory(sm.params.settings, sm.output.nc, prov)
