"""Rule replay_dataset: waking paths of one task -> noisyrnn.studies.replay.steps.dataset."""

from noisyrnn.core import lifeline, provenance
from noisyrnn.studies.replay.steps import dataset

sm = snakemake  # noqa: F821  (injected by Snakemake's script directive)
provenance.log_to(sm.log[0])
lifeline.watch()  # stop if the workflow dies
prov = provenance.record(sm)
dataset.make_dataset(sm.params.settings, sm.wildcards.task, sm.params.seed, sm.output.nc, prov)
