"""Rule replay_stats: statistics of one task -> noisyrnn.studies.replay.steps.stats."""

from noisyrnn.core import device, lifeline, provenance
from noisyrnn.studies.replay.steps import stats

sm = snakemake  # noqa: F821  (injected by Snakemake's script directive)
provenance.log_to(sm.log[0])
lifeline.watch()  # stop if the workflow dies
device.set_threads(sm.threads)
prov = provenance.record(sm)
stats.compute_stats(
    sm.params.settings, sm.wildcards.task, sm.input.dataset, list(sm.input.models),
    list(sm.input.histories), list(sm.input.replays), sm.output.nc, prov,
)
